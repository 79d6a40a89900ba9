//! The wire protocol between the browser and podterm's exec WebSocket, version 1.
//!
//! `GET {base}/ws/exec/{namespace}/{pod}/{container}?context=NAME&command=ARG&command=ARG`
//! upgrades to a WebSocket. Binary messages carry terminal bytes untouched (browser → server:
//! stdin; server → browser: output). Text messages carry JSON: [`ClientMessage`] from the
//! browser, [`ServerEvent`] from the server.

use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;
/// Largest text (control) message either side accepts.
pub const MAX_CONTROL_MESSAGE: usize = 4096;
/// Largest binary (stdin) message the server accepts; the page sends pastes in smaller chunks.
pub const MAX_INPUT_MESSAGE: usize = 64 * 1024;
/// The chunk size the page uses for large pastes.
pub const INPUT_CHUNK: usize = 16 * 1024;
pub const MIN_COLS: u16 = 2;
pub const MAX_COLS: u16 = 1000;
pub const MIN_ROWS: u16 = 1;
pub const MAX_ROWS: u16 = 500;

/// Browser → server control messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The terminal's size changed; forwarded to the PTY (sizes are clamped to a sane range).
    Resize { cols: u16, rows: u16 },
}

/// Server → browser events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The command ended with this exit code; the server closes the socket next.
    Exit { code: i32 },
    /// The session could not start or broke; the server closes the socket next.
    Error {
        reason: ErrorReason,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorReason {
    /// The cluster's RBAC does not allow this exec.
    Forbidden,
    /// The pod, container or cluster context does not exist.
    NotFound,
    /// The container exists but is not running.
    NotRunning,
    /// The cluster could not be reached, or the connection to it broke.
    Unreachable,
    /// The request itself is malformed (a bad name, a bad message).
    BadRequest,
    /// A limit was reached: too many terminals open or opened too fast.
    TooMany,
    /// An administrator ended the session, or it reached its maximum length.
    Ended,
    /// Anything else; the message says what.
    Internal,
}

impl ClientMessage {
    /// Parses a text message from the browser, clamping sizes. The error reads well.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_CONTROL_MESSAGE {
            return Err(format!(
                "control message too large ({} bytes, at most {MAX_CONTROL_MESSAGE})",
                text.len()
            ));
        }
        let message: ClientMessage =
            serde_json::from_str(text).map_err(|e| format!("not a control message: {e}"))?;
        Ok(match message {
            ClientMessage::Resize { cols, rows } => ClientMessage::Resize {
                cols: cols.clamp(MIN_COLS, MAX_COLS),
                rows: rows.clamp(MIN_ROWS, MAX_ROWS),
            },
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serializable")
    }
}

impl ServerEvent {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serializable")
    }
}

/// The path (under the site's base) of the exec WebSocket for a target.
pub fn exec_path(
    namespace: &str,
    pod: &str,
    container: &str,
    context: Option<&str>,
    command: &[String],
) -> String {
    let mut query = Vec::new();
    if let Some(context) = context {
        query.push(format!("context={}", encode(context)));
    }
    for arg in command {
        query.push(format!("command={}", encode(arg)));
    }
    let mut path = format!(
        "/ws/exec/{}/{}/{}",
        encode(namespace),
        encode(pod),
        encode(container)
    );
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_round_trip_and_clamping() {
        let m = ClientMessage::Resize { cols: 80, rows: 24 };
        assert_eq!(m.to_json(), r#"{"type":"resize","cols":80,"rows":24}"#);
        assert_eq!(ClientMessage::parse(&m.to_json()), Ok(m));
        assert_eq!(
            ClientMessage::parse(r#"{"type":"resize","cols":0,"rows":65535}"#),
            Ok(ClientMessage::Resize {
                cols: MIN_COLS,
                rows: MAX_ROWS
            })
        );
    }

    #[test]
    fn bad_control_messages_are_errors() {
        for bad in [
            "",
            "{",
            r#"{"type":"bogus"}"#,
            r#"{"type":"resize","cols":-1,"rows":2}"#,
            r#"{"type":"resize","cols":70000,"rows":2}"#,
        ] {
            assert!(ClientMessage::parse(bad).is_err(), "{bad}");
        }
        assert!(
            ClientMessage::parse(&"x".repeat(MAX_CONTROL_MESSAGE + 1))
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn events() {
        assert_eq!(
            ServerEvent::Exit { code: 3 }.to_json(),
            r#"{"type":"exit","code":3}"#
        );
        let e = ServerEvent::Error {
            reason: ErrorReason::NotRunning,
            message: "m".into(),
        };
        assert_eq!(
            e.to_json(),
            r#"{"type":"error","reason":"not_running","message":"m"}"#
        );
    }

    #[test]
    fn paths_encode_every_part() {
        assert_eq!(
            exec_path(
                "ns",
                "pod",
                "c",
                Some("a b@x"),
                &["sh".into(), "-c".into(), "echo &".into()]
            ),
            "/ws/exec/ns/pod/c?context=a%20b%40x&command=sh&command=-c&command=echo%20%26"
        );
        assert_eq!(exec_path("ns", "p", "c", None, &[]), "/ws/exec/ns/p/c");
    }
}
