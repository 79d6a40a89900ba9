//! Whom a request acts for, as the request checks (`auth`) found it.

use std::sync::Arc;

use secrecy::SecretString;

/// Whom a request acts for.
#[derive(Clone)]
pub enum Identity {
    /// The holder of the access token; cluster calls use podterm's own credentials.
    TokenHolder,
    /// Named by a trusted proxy; cluster calls carry Impersonate-User/Group.
    Proxied { user: String, groups: Vec<String> },
    /// Logged in with their own Kubernetes token; cluster calls use it, and only with the
    /// cluster context it was checked against.
    OwnToken {
        user: String,
        groups: Vec<String>,
        token: Arc<SecretString>,
        key: Arc<str>,
        context: Arc<str>,
    },
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never prints a token.
        write!(f, "{}", self.name())
    }
}

impl Identity {
    /// A name for logs and audit.
    pub fn name(&self) -> &str {
        match self {
            Identity::TokenHolder => "token-holder",
            Identity::Proxied { user, .. } | Identity::OwnToken { user, .. } => user,
        }
    }

    pub fn groups(&self) -> &[String] {
        match self {
            Identity::TokenHolder => &[],
            Identity::Proxied { groups, .. } | Identity::OwnToken { groups, .. } => groups,
        }
    }

    /// Distinguishes identities for per-identity caches (no secret in it).
    pub fn cache_key(&self) -> String {
        match self {
            Identity::TokenHolder => "shared".into(),
            // JSON keeps names with ':' or ',' from colliding.
            Identity::Proxied { user, groups } => {
                format!("proxy:{}", serde_json::json!([user, groups]))
            }
            Identity::OwnToken { key, .. } => format!("token:{key}"),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub identity: Identity,
    /// Where the request came from (the proxy's client address when it is trusted).
    pub from: String,
    pub admin: bool,
}
