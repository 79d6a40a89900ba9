//! What kube-apiserver reads at start: certificates, keys, the token file, and a
//! kubeconfig per test user.

use std::path::Path;

use testcluster::config::UserSpec;
use testcluster::kubeconfig;
use testcluster::pki::{PemPair, Pki};

use crate::Error;
use crate::controlplane::User;

/// The kubeconfigs' cluster name.
pub const CLUSTER: &str = "podterm-test";
/// The cluster name in the kubeconfig with every user, as the demo's.
pub const DEMO_CLUSTER: &str = "demo";

/// The Node the testcluster kubelet registers.
pub const NODE: &str = "testcluster-node";

/// Secrets made for one start.
pub struct Written {
    pub ca_pem: String,
    /// The kubelet's serving certificate, signed by the cluster's CA.
    pub kubelet_serving: PemPair,
    /// Each user's bearer token (None for client-certificate users).
    pub tokens: Vec<(User, Option<String>)>,
}

pub fn write(dir: &Path, url: &str) -> Result<Written, Error> {
    let certificate = |e: rcgen::Error| Error::new(format!("certificate: {e}"));
    let pki = Pki::generate(&["kubernetes.default.svc".into()]).map_err(certificate)?;
    put(dir, "ca.crt", &pki.ca_pem())?;
    put(dir, "apiserver.crt", &pki.server_pem().cert_pem)?;
    put(dir, "apiserver.key", &pki.server_pem().key_pem)?;
    // For later: the identity kube-apiserver shows a kubelet it calls.
    let kubelet_client = pki
        .client_cert("kube-apiserver-kubelet-client", &[])
        .map_err(certificate)?;
    put(dir, "kubelet-client.crt", &kubelet_client.cert_pem)?;
    put(dir, "kubelet-client.key", &kubelet_client.key_pem)?;
    let kubelet_serving = pki.loopback_server_cert(NODE).map_err(certificate)?;
    // The node's own identity, which the Node authorizer and NodeRestriction know.
    let node = UserSpec {
        name: format!("system:node:{NODE}"),
        groups: vec!["system:nodes".into()],
        client_certificate: true,
        token: None,
        namespace: None,
    };
    let yaml = kubeconfig::render(CLUSTER, url, Some(&pki), &[node]).map_err(Error::new)?;
    put(dir, "kubeconfig-node.yaml", &yaml)?;
    let service_accounts = rcgen::KeyPair::generate().map_err(certificate)?;
    put(
        dir,
        "service-accounts.key",
        &service_accounts.serialize_pem(),
    )?;
    // kube-apiserver reads public keys from PKIX PEM, not from a PKCS #8 private key.
    put(
        dir,
        "service-accounts.pub",
        &service_accounts.public_key_pem(),
    )?;

    let tokens: Vec<_> = User::ALL
        .iter()
        .map(|&user| (user, user.uses_token().then(random_token)))
        .collect();
    put(dir, "tokens.csv", &token_file(&tokens))?;
    let mut specs = Vec::new();
    for (user, token) in &tokens {
        let spec = user_spec(*user, token.clone());
        let yaml = kubeconfig::render(CLUSTER, url, Some(&pki), std::slice::from_ref(&spec))
            .map_err(Error::new)?;
        put(dir, &format!("kubeconfig-{}.yaml", user.name()), &yaml)?;
        specs.push(spec);
    }
    // Every user in one file, shaped as the testcluster's demo kubeconfig: the same
    // context names (USER@demo), admin's current.
    let demo = kubeconfig::render(DEMO_CLUSTER, url, Some(&pki), &specs).map_err(Error::new)?;
    put(dir, "kubeconfig-demo.yaml", &demo)?;
    Ok(Written {
        ca_pem: pki.ca_pem(),
        kubelet_serving,
        tokens,
    })
}

/// `token,user,uid,"group1,group2"` per line, as `--token-auth-file` reads it.
fn token_file(tokens: &[(User, Option<String>)]) -> String {
    tokens
        .iter()
        .filter_map(|(user, token)| {
            let token = token.as_ref()?;
            let (name, groups) = (user.name(), user.groups().join(","));
            Some(format!("{token},{name},{name},\"{groups}\"\n"))
        })
        .collect()
}

/// The demo's entry with this start's token (or a client certificate).
fn user_spec(user: User, token: Option<String>) -> UserSpec {
    UserSpec {
        client_certificate: token.is_none(),
        token,
        ..user.spec()
    }
}

fn put(dir: &Path, name: &str, text: &str) -> Result<(), Error> {
    std::fs::write(dir.join(name), text)
        .map_err(|e| Error::new(format!("writing {}: {e}", dir.join(name).display())))
}

fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 24] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_quotes_groups_and_skips_certificate_users() {
        let tokens = [
            (User::Admin, Some("t1".to_string())),
            (User::Carol, None),
            (User::Proxy, Some("t2".to_string())),
        ];
        assert_eq!(
            token_file(&tokens),
            "t1,admin,admin,\"system:masters\"\nt2,proxy,proxy,\"podterm-proxies\"\n"
        );
    }
}
