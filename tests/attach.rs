//! Attach through podterm: a terminal on a container's main process (the demo's REPL),
//! typed into, left and joined again with the process still running (nothing ends it);
//! audited as an attach; refused with a sentence for a command or a person without the
//! right.

mod common;

use futures::SinkExt;
use podterm::protocol::{ErrorReason, ServerEvent};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use common::{read_until, start, terminal, type_in, ws_with};

const REPL: &str = "/ws/attach/tools/repl/repl";

#[tokio::test]
async fn a_terminal_on_the_main_process_leaves_it_running() {
    let f = start().await;
    f.cluster.demo_states().await;
    let mut ws = terminal(&f, REPL).await;
    type_in(&mut ws, "remembered=$((6*7)); echo got-$remembered\n").await;
    let (_, event) = read_until(&mut ws, b"got-42").await;
    assert_eq!(event, None);
    ws.send(Message::Text(r#"{"type":"close"}"#.into()))
        .await
        .unwrap();
    let (_, event) = read_until(&mut ws, b"").await;
    assert!(
        matches!(event, Some(ServerEvent::Exit { .. }) | None),
        "{event:?}"
    );

    // The same shell, still running, with what it was told before.
    let mut again = terminal(&f, REPL).await;
    type_in(&mut again, "echo still-$remembered\n").await;
    let (_, event) = read_until(&mut again, b"still-42").await;
    assert_eq!(event, None);

    let audit = std::fs::read_to_string(&f.audit_log).unwrap();
    let start = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["audit"] == "session_start")
        .expect("a session_start line");
    assert_eq!(start["attach"], true);
    assert_eq!(start["command"], serde_json::json!([]));

    // An attach takes no command.
    let mut ws = terminal(&f, &format!("{REPL}?command=sh")).await;
    let (_, event) = read_until(&mut ws, b"").await;
    assert!(
        matches!(event, Some(ServerEvent::Error { reason: ErrorReason::BadRequest, ref message }) if message.contains("takes no command")),
        "{event:?}"
    );
}

#[tokio::test]
async fn only_people_allowed_to_attach_may() {
    let f = common::start_behind_proxy().await;
    f.cluster.demo_states().await;
    let path = format!("{REPL}?context=proxy%40demo");
    let mut ws = ws_with(f.addr, &path, &common::BOB).await.unwrap();
    let (_, event) = read_until(&mut ws, b"").await;
    assert!(
        matches!(event, Some(ServerEvent::Error { reason: ErrorReason::Forbidden, ref message }) if message.contains("you may not attach to the main process of pod repl")),
        "{event:?}"
    );
    let mut ws = ws_with(f.addr, &path, &common::ALICE).await.unwrap();
    type_in(&mut ws, "echo alice-$((1+1))\n").await;
    let (_, event) = read_until(&mut ws, b"alice-2").await;
    assert_eq!(event, None);
}
