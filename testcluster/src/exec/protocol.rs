//! The Kubernetes remote-command stream protocols: channels, framing, resize and status.

use base64::Engine;
use serde_json::{Value, json};

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const ERROR: u8 = 3;
pub const RESIZE: u8 = 4;
pub const CLOSE: u8 = 255;

/// The protocols this server speaks, newest first.
pub const SUPPORTED: &[&str] = &[
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v4.base64.channel.k8s.io",
    "channel.k8s.io",
    "base64.channel.k8s.io",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    /// v5 adds the stdin close message (channel 255).
    pub v5: bool,
    /// v4 and v5 send a JSON Status on channel 3; older ones send plain text on failure.
    pub json_status: bool,
    /// base64 variants: text frames, `'0' + channel`, then base64.
    pub base64: bool,
}

impl Protocol {
    pub fn from_name(name: &str) -> Option<Self> {
        let p = |v5, json_status, base64| {
            Some(Self {
                v5,
                json_status,
                base64,
            })
        };
        match name {
            "v5.channel.k8s.io" => p(true, true, false),
            "v4.channel.k8s.io" => p(false, true, false),
            "v4.base64.channel.k8s.io" => p(false, true, true),
            // no header at all means the original protocol
            "" | "channel.k8s.io" => p(false, false, false),
            "base64.channel.k8s.io" => p(false, false, true),
            _ => None,
        }
    }
}

/// Picks the first protocol in the client's list that the server supports, as the API
/// server does. `Ok("")` when the client offered none; `Err` when it offered only unknown ones.
pub fn negotiate(offered: &str) -> Result<&'static str, String> {
    let offered: Vec<&str> = offered
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if offered.is_empty() {
        return Ok("");
    }
    offered
        .iter()
        .find_map(|p| SUPPORTED.iter().find(|s| *s == p).copied())
        .ok_or_else(|| format!("requested protocol(s) are not supported: {offered:?}; supported protocols: {SUPPORTED:?}"))
}

/// A frame as received: which channel and its payload.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub channel: u8,
    pub payload: Vec<u8>,
}

/// Decodes one received message. `None` for messages to ignore (empty, or undecodable base64).
pub fn decode(protocol: Protocol, data: &[u8]) -> Option<Frame> {
    let (&first, rest) = data.split_first()?;
    if protocol.base64 {
        let channel = first.checked_sub(b'0')?;
        let payload = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        Some(Frame { channel, payload })
    } else {
        Some(Frame {
            channel: first,
            payload: rest.to_vec(),
        })
    }
}

/// Encodes one outgoing frame; the bool is true for a text frame (base64 protocols).
pub fn encode(protocol: Protocol, channel: u8, payload: &[u8]) -> (Vec<u8>, bool) {
    if protocol.base64 {
        let mut out = vec![b'0' + channel];
        out.extend(
            base64::engine::general_purpose::STANDARD
                .encode(payload)
                .into_bytes(),
        );
        (out, true)
    } else {
        let mut out = Vec::with_capacity(payload.len() + 1);
        out.push(channel);
        out.extend_from_slice(payload);
        (out, false)
    }
}

/// The channel-3 payload for how the command ended.
pub fn exit_status(protocol: Protocol, code: i32, argv: &[String]) -> Option<Vec<u8>> {
    if code == 0 {
        return protocol
            .json_status
            .then(|| br#"{"metadata":{},"status":"Success"}"#.to_vec());
    }
    let code = code.clamp(0, 255);
    let message = format!(
        "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
        argv.join(" ")
    );
    if !protocol.json_status {
        return Some(message.into_bytes());
    }
    let status = json!({
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    });
    Some(status.to_string().into_bytes())
}

/// The channel-3 payload for an exec that could not run (an internal error).
pub fn internal_error(protocol: Protocol, message: &str) -> Vec<u8> {
    let message =
        format!("Internal error occurred: error executing command in container: {message}");
    if !protocol.json_status {
        return message.into_bytes();
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    })
    .to_string()
    .into_bytes()
}

/// The channel-3 payload when the runtime cannot reach the container at all.
pub fn container_not_found(protocol: Protocol, container: &str) -> Vec<u8> {
    let message = format!("unable to upgrade connection: container not found (\"{container}\")");
    if !protocol.json_status {
        return message.into_bytes();
    }
    json!({"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError", "code": 500})
        .to_string()
        .into_bytes()
}

/// Channel 4 is a byte stream of JSON objects, split or joined across frames in any way.
#[derive(Default)]
pub struct ResizeDecoder {
    buf: Vec<u8>,
}

const RESIZE_BUFFER_LIMIT: usize = 4096;

impl ResizeDecoder {
    /// Feeds bytes; returns every complete `(width, height)` found, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<(u16, u16)> {
        self.buf.extend_from_slice(bytes);
        let mut sizes = Vec::new();
        let mut consumed = 0;
        {
            let mut stream = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
            loop {
                match stream.next() {
                    Some(Ok(value)) => {
                        consumed = stream.byte_offset();
                        if let Some(size) = size_of(&value) {
                            sizes.push(size);
                        }
                    }
                    Some(Err(e)) if e.is_eof() => break,
                    Some(Err(_)) => {
                        // Garbage: drop what we have and start over with the next message.
                        consumed = self.buf.len();
                        break;
                    }
                    None => {
                        consumed = self.buf.len();
                        break;
                    }
                }
            }
        }
        self.buf.drain(..consumed);
        if self.buf.len() > RESIZE_BUFFER_LIMIT {
            self.buf.clear();
        }
        sizes
    }
}

fn size_of(value: &Value) -> Option<(u16, u16)> {
    let object = value.as_object()?;
    let field = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_u64())
            .map(|n| n.min(u16::MAX as u64) as u16)
    };
    Some((field("width")?, field("height")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_prefers_the_clients_order() {
        assert_eq!(
            negotiate("v5.channel.k8s.io, v4.channel.k8s.io"),
            Ok("v5.channel.k8s.io")
        );
        assert_eq!(
            negotiate("v4.channel.k8s.io,v5.channel.k8s.io"),
            Ok("v4.channel.k8s.io")
        );
        assert_eq!(
            negotiate("x, base64.channel.k8s.io"),
            Ok("base64.channel.k8s.io")
        );
        assert_eq!(negotiate(""), Ok(""));
        assert!(negotiate("v9.channel.k8s.io").is_err());
    }

    #[test]
    fn resize_split_joined_and_garbage() {
        let mut d = ResizeDecoder::default();
        assert_eq!(d.feed(br#"{"Width":80,"#), vec![]);
        assert_eq!(d.feed(b"\"Height\":24}\n{\"width\":1"), vec![(80, 24)]);
        assert_eq!(d.feed(b"00,\"height\":50}"), vec![(100, 50)]);
        assert_eq!(d.feed(b"}}garbage"), vec![]);
        assert_eq!(d.feed(br#"{"Width":70000,"Height":3}"#), vec![(65535, 3)]);
        assert_eq!(d.feed(br#"[1,2]{"Width":1}"#), vec![]);
        let mut d = ResizeDecoder::default();
        assert_eq!(d.feed(&[b'{'; 5000]), vec![]);
        assert_eq!(d.feed(br#"{"Width":5,"Height":6}"#).len(), 1);
    }

    #[test]
    fn frames_round_trip_in_both_encodings() {
        for name in ["v5.channel.k8s.io", "v4.base64.channel.k8s.io"] {
            let p = Protocol::from_name(name).unwrap();
            let (bytes, text) = encode(p, STDOUT, b"hi\xff");
            assert_eq!(text, p.base64);
            assert_eq!(
                decode(p, &bytes),
                Some(Frame {
                    channel: STDOUT,
                    payload: b"hi\xff".to_vec()
                })
            );
        }
        let p = Protocol::from_name("v5.channel.k8s.io").unwrap();
        assert_eq!(decode(p, b""), None);
    }

    #[test]
    fn exit_status_has_the_kubelet_shape() {
        let p = Protocol::from_name("v5.channel.k8s.io").unwrap();
        let v: Value =
            serde_json::from_slice(&exit_status(p, 3, &["sh".into(), "-c".into()]).unwrap())
                .unwrap();
        assert_eq!(v["reason"], "NonZeroExitCode");
        assert_eq!(
            v["details"]["causes"][0],
            json!({"reason": "ExitCode", "message": "3"})
        );
        assert_eq!(
            exit_status(p, 0, &[]).unwrap(),
            br#"{"metadata":{},"status":"Success"}"#
        );
    }
}
