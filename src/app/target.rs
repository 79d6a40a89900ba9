//! What a terminal connects to.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The kubeconfig context; `None` for the current one.
    pub context: Option<String>,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// Empty for podterm's shell (bash, else sh).
    pub command: Vec<String>,
}

impl Target {
    pub fn title(&self) -> String {
        format!("{}/{}", self.pod, self.container)
    }

    /// The page that opens this terminal directly.
    pub fn deep_link(&self) -> String {
        use crate::protocol::encode;
        let mut link = format!(
            "/terminal?namespace={}&pod={}&container={}",
            encode(&self.namespace),
            encode(&self.pod),
            encode(&self.container)
        );
        if let Some(context) = &self.context {
            link.push_str(&format!("&context={}", encode(context)));
        }
        for arg in &self.command {
            link.push_str(&format!("&command={}", encode(arg)));
        }
        link
    }

    /// The exec WebSocket's path: a new session, or a resume of `session` from `offset`.
    pub fn socket_path(&self, resume: Option<(&str, u64)>) -> String {
        use crate::protocol::{Attach, exec_path};
        let attach = match resume {
            Some((session, offset)) => Attach::Resume { session, offset },
            None => Attach::Start {
                command: &self.command,
            },
        };
        exec_path(
            &self.namespace,
            &self.pod,
            &self.container,
            self.context.as_deref(),
            attach,
        )
    }
}
