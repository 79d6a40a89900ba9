//! Property tests over everything a browser or a cluster can send podterm: the control
//! messages, the exec stream's frames and Status, and the exec route's names and query.

use bytes::Bytes;
use podterm::protocol::{
    ClientMessage, MAX_COLS, MAX_CONTROL_MESSAGE, MAX_ROWS, MIN_COLS, MIN_ROWS,
};
use podterm::server::cluster::exec_channels::{self as channels, Incoming};
use podterm::server::relay::exec::ExecTarget;
use proptest::prelude::*;

/// JSON that looks like a control message: known and unknown types, fields of any kind.
fn control_json() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| format!("{n:?}")),
        "[a-z]{0,8}".prop_map(|s| format!("{s:?}")),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ];
    let kind = prop_oneof![
        Just("resize"),
        Just("ack"),
        Just("ping"),
        Just("close"),
        Just("Resize"),
        Just(""),
        Just("attached"),
    ];
    (
        kind,
        proptest::collection::vec(
            (
                prop_oneof![Just("cols"), Just("rows"), Just("offset"), Just("x")],
                value,
            ),
            0..4,
        ),
    )
        .prop_map(|(kind, fields)| {
            let mut json = format!("{{\"type\":\"{kind}\"");
            for (k, v) in fields {
                json.push_str(&format!(",\"{k}\":{v}"));
            }
            json.push('}');
            json
        })
}

proptest! {
    #[test]
    fn any_text_parses_or_reads_as_an_error(text in any::<String>()) {
        if let Err(message) = ClientMessage::parse(&text) {
            prop_assert!(!message.is_empty());
        }
    }

    #[test]
    fn control_like_json_never_panics_and_sizes_are_clamped(json in control_json()) {
        match ClientMessage::parse(&json) {
            Ok(ClientMessage::Resize { cols, rows }) => {
                prop_assert!((MIN_COLS..=MAX_COLS).contains(&cols));
                prop_assert!((MIN_ROWS..=MAX_ROWS).contains(&rows));
            }
            Ok(other) => {
                // what parsed also round-trips
                prop_assert_eq!(ClientMessage::parse(&other.to_json()), Ok(other));
            }
            Err(_) => {}
        }
    }

    #[test]
    fn oversized_control_messages_are_refused(extra in 1usize..5000) {
        let text = format!("{{\"type\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(MAX_CONTROL_MESSAGE + extra));
        prop_assert!(ClientMessage::parse(&text).is_err());
    }

    #[test]
    fn exec_frames_never_panic_and_output_is_untouched(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        match channels::read(Bytes::from(data.clone())) {
            Incoming::Output(out) => {
                prop_assert!(matches!(data[0], channels::STDOUT | channels::STDERR));
                prop_assert_eq!(&out[..], &data[1..]);
            }
            Incoming::Status(_) => prop_assert_eq!(data[0], channels::STATUS),
            Incoming::Ignored => {}
        }
    }

    #[test]
    fn status_payloads_never_panic(
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            ("[A-Za-z]{0,12}", "[A-Za-z0-9 ]{0,12}", any::<i64>()).prop_map(|(status, reason, code)| {
                format!(r#"{{"status":"{status}","reason":"{reason}","details":{{"causes":[{{"reason":"ExitCode","message":"{code}"}}]}}}}"#).into_bytes()
            }),
        ]
    ) {
        let _ = channels::status_outcome(&payload);
    }

    #[test]
    fn exec_requests_never_panic(
        namespace in "\\PC{0,70}",
        pod in "\\PC{0,300}",
        container in "\\PC{0,70}",
        query in "\\PC{0,200}",
    ) {
        if let Ok(target) = ExecTarget::parse(namespace, pod, container, Some(&query), false) {
            prop_assert!(!target.command.is_empty());
            prop_assert!(target.command.iter().all(|arg| !arg.contains('\0')));
        }
    }
}
