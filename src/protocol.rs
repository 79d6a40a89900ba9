//! The wire protocol between the browser and podterm's exec WebSocket, version 2.
//!
//! `GET {base}/ws/exec/{namespace}/{pod}/{container}?context=NAME&command=ARG&command=ARG`
//! upgrades to a WebSocket and starts a session; `resume=ID&offset=N` instead of commands
//! re-attaches to a session of the same person that lost its connection less than the grace
//! period ago, and `start=ID` claims the session the server started while it rendered the
//! terminal's own page (the early start; see [`Join`]). `shell=bash` or `shell=sh` instead
//! of commands starts podterm's shell with that shell only ([`shell_path`]); commands run
//! exactly as given, never through a shell. Binary messages carry terminal
//! bytes untouched (browser → server: stdin;
//! server → browser: output). Text messages carry JSON: [`ClientMessage`] from the browser,
//! [`ServerEvent`] from the server.
//!
//! The first server message is [`ServerEvent::Attached`]: the session's id and the output
//! offset the following binary messages start at. Output offsets count bytes from the start
//! of the session. The page acknowledges output once its terminal has written it
//! ([`ClientMessage::Ack`]); the server stops reading the pod's output while more than
//! [`OUTPUT_WINDOW`] bytes are unacknowledged, and keeps those bytes for a resume.

use serde::{Deserialize, Serialize};

use crate::model::Target;

pub const VERSION: u32 = 2;
/// Unacknowledged output the server sends before it waits for the page.
pub const OUTPUT_WINDOW: u64 = 2 * 1024 * 1024;
/// The page acknowledges at least every this many written bytes (and when it catches up).
pub const ACK_EVERY: u64 = 64 * 1024;
/// Both sides send a keepalive this often: the page a [`ClientMessage::Ping`], the server a
/// WebSocket ping. Well under the 60 s idle timeout of common proxies.
pub const KEEPALIVE_SECS: u64 = 20;
/// A connection that carried nothing for this long is taken for dead by either side.
pub const DEAD_AFTER_SECS: u64 = 60;
/// Largest text (control) message either side accepts.
pub const MAX_CONTROL_MESSAGE: usize = 4096;
/// Largest binary (stdin) message the server accepts; the page sends pastes in smaller chunks.
pub const MAX_INPUT_MESSAGE: usize = 64 * 1024;
/// The chunk size the page uses for large pastes.
pub const INPUT_CHUNK: usize = 16 * 1024;
/// A WebSocket's normal close (RFC 6455), sent when a session ends.
pub const CLOSE_NORMAL: u16 = 1000;
/// What a browser reports for a connection that dropped without a close frame.
pub const CLOSE_ABNORMAL: u16 = 1006;
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
    /// The terminal has written the session's output up to this offset.
    Ack { offset: u64 },
    /// Keepalive; the server answers [`ServerEvent::Pong`].
    Ping,
    /// The person closed this terminal: end the session now, without a grace period.
    Close,
    /// What is typed into this terminal goes to `terminals` terminals at once (`on`), or
    /// no longer. For the audit trail: the keys arrive on each terminal's socket as usual.
    Broadcast { on: bool, terminals: u32 },
}

/// Server → browser events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The first message on every connection: the session and the output offset the binary
    /// messages that follow start at (`resumed` when this connection re-attached).
    Attached {
        session: String,
        offset: u64,
        resumed: bool,
    },
    /// The answer to [`ClientMessage::Ping`].
    Pong,
    /// The command ended with this exit code; the server closes the socket next.
    Exit { code: i32 },
    /// The session could not start or broke; the server closes the socket next. Except:
    /// `bad_request` about one message of an attached session, which goes on.
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
            other => other,
        })
    }

    /// The same JSON as serde writes (see the tests), written out: the page sends these, and
    /// serde_json's serializer would add to its wasm for nothing else.
    pub fn to_json(&self) -> String {
        match self {
            ClientMessage::Resize { cols, rows } => {
                format!(r#"{{"type":"resize","cols":{cols},"rows":{rows}}}"#)
            }
            ClientMessage::Ack { offset } => format!(r#"{{"type":"ack","offset":{offset}}}"#),
            ClientMessage::Ping => r#"{"type":"ping"}"#.into(),
            ClientMessage::Close => r#"{"type":"close"}"#.into(),
            ClientMessage::Broadcast { on, terminals } => {
                format!(r#"{{"type":"broadcast","on":{on},"terminals":{terminals}}}"#)
            }
        }
    }
}

impl ErrorReason {
    /// The reason named as in JSON (serde's name, see the tests); for the page, which reads
    /// server events without serde.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "forbidden" => ErrorReason::Forbidden,
            "not_found" => ErrorReason::NotFound,
            "not_running" => ErrorReason::NotRunning,
            "unreachable" => ErrorReason::Unreachable,
            "bad_request" => ErrorReason::BadRequest,
            "too_many" => ErrorReason::TooMany,
            "ended" => ErrorReason::Ended,
            "internal" => ErrorReason::Internal,
            _ => return None,
        })
    }
}

impl ServerEvent {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serializable")
    }
}

/// Which session a connection attaches to, as its query says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Join {
    /// A new session running the `command=` arguments (none: podterm's shell).
    Start,
    /// `resume=ID&offset=N`: an existing session, from this output offset.
    Resume { session: String, offset: u64 },
    /// `start=ID`: the session the server started while it rendered the terminal's own page,
    /// which that page's first socket claims (the page's inline script adds it, before the
    /// wasm loads). When nothing waits under that id, a new session starts instead.
    Claim { session: String },
}

/// The path (under the site's base) of the exec WebSocket for a target; `command` only goes
/// with [`Join::Start`].
pub fn exec_path(target: &Target, command: &[String], join: &Join) -> String {
    socket_path("exec", target, command, join)
}

/// The path of the exec WebSocket for a new session of podterm's shell with one shell only
/// (`bash` or `sh`): set up as the default one, and ended with the session as it is.
pub fn shell_path(target: &Target, shell: &str) -> String {
    let path = socket_path("exec", target, &[], &Join::Start);
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}shell={}", encode(shell))
}

/// The path of the attach WebSocket: a terminal on the container's main process (its
/// stdin and output, as `kubectl attach -it`), with the same resume as an exec.
pub fn attach_path(target: &Target, join: &Join) -> String {
    socket_path("attach", target, &[], join)
}

fn socket_path(kind: &str, target: &Target, command: &[String], join: &Join) -> String {
    let mut query = Vec::new();
    if let Some(context) = &target.context {
        query.push(format!("context={}", encode(context)));
    }
    match join {
        Join::Start => {
            for arg in command {
                query.push(format!("command={}", encode(arg)));
            }
        }
        Join::Resume { session, offset } => {
            query.push(format!("resume={}", encode(session)));
            query.push(format!("offset={offset}"));
        }
        Join::Claim { session } => query.push(format!("start={}", encode(session))),
    }
    let mut path = format!(
        "/ws/{kind}/{}/{}/{}",
        encode(&target.namespace),
        encode(&target.pod),
        encode(&target.container)
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
    fn flow_and_keepalive_messages() {
        for (m, json) in [
            (
                ClientMessage::Ack { offset: 7 },
                r#"{"type":"ack","offset":7}"#,
            ),
            (ClientMessage::Ping, r#"{"type":"ping"}"#),
            (ClientMessage::Close, r#"{"type":"close"}"#),
            (
                ClientMessage::Broadcast {
                    on: true,
                    terminals: 3,
                },
                r#"{"type":"broadcast","on":true,"terminals":3}"#,
            ),
        ] {
            assert_eq!(m.to_json(), json);
            assert_eq!(ClientMessage::parse(json), Ok(m));
        }
        for m in [
            ClientMessage::Resize {
                cols: u16::MAX,
                rows: 0,
            },
            ClientMessage::Ack { offset: u64::MAX },
            ClientMessage::Broadcast {
                on: false,
                terminals: 0,
            },
        ] {
            assert_eq!(m.to_json(), serde_json::to_string(&m).unwrap());
        }
        assert_eq!(
            ServerEvent::Attached {
                session: "s".into(),
                offset: 3,
                resumed: true
            }
            .to_json(),
            r#"{"type":"attached","session":"s","offset":3,"resumed":true}"#
        );
        assert_eq!(ServerEvent::Pong.to_json(), r#"{"type":"pong"}"#);
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
    fn reason_names_are_serdes() {
        use ErrorReason::*;
        for reason in [
            Forbidden,
            NotFound,
            NotRunning,
            Unreachable,
            BadRequest,
            TooMany,
            Ended,
            Internal,
        ] {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(ErrorReason::from_name(json.trim_matches('"')), Some(reason));
        }
        assert_eq!(ErrorReason::from_name("Forbidden"), None);
    }

    fn target(namespace: &str, pod: &str, container: &str, context: Option<&str>) -> Target {
        Target {
            context: context.map(str::to_string),
            namespace: namespace.into(),
            pod: pod.into(),
            container: container.into(),
        }
    }

    #[test]
    fn paths_encode_every_part() {
        assert_eq!(
            exec_path(
                &target("ns", "pod", "c", Some("a b@x")),
                &["sh".into(), "-c".into(), "echo &".into()],
                &Join::Start
            ),
            "/ws/exec/ns/pod/c?context=a%20b%40x&command=sh&command=-c&command=echo%20%26"
        );
        assert_eq!(
            exec_path(&target("ns", "p", "c", None), &[], &Join::Start),
            "/ws/exec/ns/p/c"
        );
        assert_eq!(
            attach_path(
                &target("ns", "p", "c", None),
                &Join::Resume {
                    session: "ab12".into(),
                    offset: 7
                }
            ),
            "/ws/attach/ns/p/c?resume=ab12&offset=7"
        );
        assert_eq!(
            exec_path(
                &target("ns", "p", "c", None),
                &[],
                &Join::Resume {
                    session: "ab12".into(),
                    offset: 42
                }
            ),
            "/ws/exec/ns/p/c?resume=ab12&offset=42"
        );
        assert_eq!(
            exec_path(
                &target("ns", "p", "c", None),
                &[],
                &Join::Claim {
                    session: "ab12".into()
                }
            ),
            "/ws/exec/ns/p/c?start=ab12"
        );
        assert_eq!(
            shell_path(&target("ns", "p", "c", None), "bash"),
            "/ws/exec/ns/p/c?shell=bash"
        );
        assert_eq!(
            shell_path(&target("ns", "p", "c", Some("k")), "sh"),
            "/ws/exec/ns/p/c?context=k&shell=sh"
        );
    }
}
