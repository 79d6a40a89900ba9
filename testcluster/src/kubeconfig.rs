//! The kubeconfig that kubectl, kube-rs and the Python client read as it is.

use base64::Engine;
use serde_json::{Value, json};

use crate::config::UserSpec;
use crate::pki::Pki;

/// One cluster entry, one user entry and one context (`USER@CLUSTER`) per configured user.
/// The first user's context is the current one.
pub fn render(
    cluster: &str,
    server_url: &str,
    pki: Option<&Pki>,
    users: &[UserSpec],
) -> Result<String, String> {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let mut cluster_entry = json!({"server": server_url});
    if let Some(pki) = pki {
        cluster_entry["certificate-authority-data"] = json!(b64(&pki.ca_pem()));
    }
    let mut user_entries = Vec::new();
    let mut contexts = Vec::new();
    for user in users {
        let mut entry = serde_json::Map::new();
        if let Some(token) = &user.token {
            entry.insert("token".into(), json!(token));
        }
        if user.client_certificate {
            let pki = pki.ok_or("client certificates need TLS; drop --insecure-http")?;
            let pair = pki
                .client_cert(&user.name, &user.groups)
                .map_err(|e| e.to_string())?;
            entry.insert("client-certificate-data".into(), json!(b64(&pair.cert_pem)));
            entry.insert("client-key-data".into(), json!(b64(&pair.key_pem)));
        }
        user_entries.push(json!({"name": user.name, "user": Value::Object(entry)}));
        let mut context = json!({"cluster": cluster, "user": user.name});
        context["namespace"] = json!(user.namespace.as_deref().unwrap_or("default"));
        contexts.push(json!({"name": context_name(&user.name, cluster), "context": context}));
    }
    let current = users
        .first()
        .map(|u| context_name(&u.name, cluster))
        .unwrap_or_default();
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster, "cluster": cluster_entry}],
        "users": user_entries,
        "contexts": contexts,
        "current-context": current,
    });
    serde_yaml::to_string(&config).map_err(|e| e.to_string())
}

pub fn context_name(user: &str, cluster: &str) -> String {
    format!("{user}@{cluster}")
}
