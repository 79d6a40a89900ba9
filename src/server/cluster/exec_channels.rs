//! The exec stream's channel protocol (v5.channel.k8s.io) as podterm speaks it upstream:
//! each binary WebSocket message is one channel byte and a payload.

use bytes::Bytes;

use crate::protocol::ErrorReason;
use crate::server::cluster::kube_errors::Failure;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const STATUS: u8 = 3;
pub const RESIZE: u8 = 4;
/// v5's close: its payload names the channel that has ended (stdin, the only one).
pub const CLOSE: u8 = 255;
/// Largest stdin frame sent upstream; bigger browser messages are split.
pub const STDIN_CHUNK: usize = 32 * 1024;

/// One message from the cluster, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// Terminal output (stdout, or stderr when there is no TTY); never empty.
    Output(Bytes),
    /// The command's end, as the channel-3 Status says.
    Status(Outcome),
    /// Anything else: empty frames (the stream's opening), unknown channels.
    Ignored,
}

/// How a command ended, from the cluster's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Failed(Failure),
}

/// Reads one binary message; never panics on any input.
pub fn read(message: Bytes) -> Incoming {
    match message.first() {
        Some(&(STDOUT | STDERR)) if message.len() > 1 => Incoming::Output(message.slice(1..)),
        Some(&STATUS) => Incoming::Status(status_outcome(&message[1..])),
        _ => Incoming::Ignored,
    }
}

pub fn frame(channel: u8, payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(channel);
    out.extend_from_slice(payload);
    Bytes::from(out)
}

/// `data` in pieces that each fit one stdin frame (shared, not copied).
pub fn stdin_pieces(data: Bytes) -> impl Iterator<Item = Bytes> {
    (0..data.len())
        .step_by(STDIN_CHUNK)
        .map(move |at| data.slice(at..data.len().min(at + STDIN_CHUNK)))
}

/// The frame that carries one piece to the command's stdin.
pub fn stdin_frame(piece: &[u8]) -> Bytes {
    frame(STDIN, piece)
}

pub fn resize_frame(cols: u16, rows: u16) -> Bytes {
    frame(
        RESIZE,
        serde_json::json!({"Width": cols, "Height": rows})
            .to_string()
            .as_bytes(),
    )
}

/// Reads the channel-3 Status: success, an exit code, or a failure to report.
pub fn status_outcome(payload: &[u8]) -> Outcome {
    let Ok(status) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return Outcome::Failed(Failure::new(
            ErrorReason::Internal,
            String::from_utf8_lossy(payload).into_owned(),
        ));
    };
    if status["status"] == "Success" {
        return Outcome::Exited(0);
    }
    if status["reason"] == "NonZeroExitCode"
        && let Some(code) = status["details"]["causes"]
            .as_array()
            .and_then(|causes| causes.iter().find(|c| c["reason"] == "ExitCode"))
            .and_then(|c| c["message"].as_str())
            .and_then(|m| m.parse::<i32>().ok())
    {
        return Outcome::Exited(code);
    }
    let message = status["message"]
        .as_str()
        .unwrap_or("the command failed")
        .to_string();
    let reason = if message.contains("container not found") {
        ErrorReason::NotRunning
    } else if message.contains("executable file not found") {
        ErrorReason::NotFound
    } else {
        ErrorReason::Internal
    };
    Outcome::Failed(Failure::new(reason, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_output_status_and_ignores_the_rest() {
        assert_eq!(
            read(Bytes::from_static(b"\x01hi")),
            Incoming::Output(Bytes::from_static(b"hi"))
        );
        assert_eq!(read(Bytes::from_static(b"\x01")), Incoming::Ignored);
        assert_eq!(read(Bytes::new()), Incoming::Ignored);
        assert_eq!(read(Bytes::from_static(b"\x09zz")), Incoming::Ignored);
        assert_eq!(
            read(Bytes::from_static(b"\x03{\"status\":\"Success\"}")),
            Incoming::Status(Outcome::Exited(0))
        );
        let exit3 = br#"{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#;
        assert_eq!(status_outcome(exit3), Outcome::Exited(3));
        assert!(matches!(status_outcome(b"\xff"), Outcome::Failed(_)));
    }

    #[test]
    fn stdin_is_split() {
        let data = Bytes::from(vec![b'x'; STDIN_CHUNK * 2 + 1]);
        let frames: Vec<Bytes> = stdin_pieces(data).map(|p| stdin_frame(&p)).collect();
        assert_eq!(frames.len(), 3);
        assert!(frames.iter().all(|f| f[0] == STDIN));
        assert_eq!(frames[0].len(), STDIN_CHUNK + 1);
        assert_eq!(frames[2].len(), 2);
        assert_eq!(stdin_pieces(Bytes::new()).count(), 0);
    }
}
