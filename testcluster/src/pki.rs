//! The cluster's certificate authority, its serving certificate and users' client certificates.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct PemPair {
    pub cert_pem: String,
    pub key_pem: String,
}

pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    server: (CertificateDer<'static>, Vec<u8>),
    server_pem: PemPair,
}

impl Pki {
    /// A new CA, generated at start, and a serving certificate for loopback names.
    pub fn generate(extra_names: &[String]) -> Result<Self, rcgen::Error> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "testcluster-ca");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let ca_der = ca.der().clone();

        let mut names = vec![
            "localhost".to_string(),
            "kubernetes".into(),
            "kubernetes.default".into(),
        ];
        names.extend(extra_names.iter().cloned());
        let (cert, key) = loopback_serving("kube-apiserver", names, &ca)?;
        Ok(Self {
            ca,
            ca_der,
            server: (cert.der().clone(), key.serialize_der()),
            server_pem: PemPair {
                cert_pem: cert.pem(),
                key_pem: key.serialize_pem(),
            },
        })
    }

    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The serving certificate and key, for servers that read files (kube-apiserver).
    pub fn server_pem(&self) -> &PemPair {
        &self.server_pem
    }

    /// A serving certificate for `name` on loopback, e.g. a kubelet's.
    pub fn loopback_server_cert(&self, name: &str) -> Result<PemPair, rcgen::Error> {
        let names = vec![name.to_string(), "localhost".into()];
        let (cert, key) = loopback_serving(name, names, &self.ca)?;
        Ok(PemPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A client certificate as kube-apiserver reads it: CN = user, O = groups.
    pub fn client_cert(&self, user: &str, groups: &[String]) -> Result<PemPair, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params
                .distinguished_name
                .push(DnType::OrganizationName, group.as_str());
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.ca)?;
        Ok(PemPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// TLS settings: HTTP/1.1 only (exec upgrades need it), client certificates optional.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).map_err(|e| e.to_string())?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| e.to_string())?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server.1.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![self.server.0.clone(), self.ca_der.clone()], key)
            .map_err(|e| e.to_string())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A serving certificate signed by `ca` for `names` and the loopback addresses.
fn loopback_serving(
    common_name: &str,
    names: Vec<String>,
    ca: &CertifiedIssuer<'static, KeyPair>,
) -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    for ip in ["127.0.0.1", "::1"] {
        params
            .subject_alt_names
            .push(SanType::IpAddress(ip.parse::<IpAddr>().expect("literal")));
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    Ok((cert, key))
}

/// CN and O of a verified client certificate: the user and their groups.
pub fn identity_of(cert: &CertificateDer<'_>) -> Option<(String, Vec<String>)> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let subject = parsed.subject();
    let user = subject
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    let groups = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_string))
        .collect();
    Some((user, groups))
}
