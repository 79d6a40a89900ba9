//! The exec stream protocols, spoken raw: framing, subprotocols, resize, close, bad input.

mod common;

use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use common::{collect, exec, exec_path, send, start, ws, ws_negotiated};

const TOKEN: Option<&str> = Some("admin-token");

#[tokio::test]
async fn first_frame_output_status_and_close() {
    let tc = start().await;
    let mut socket = exec(
        &tc,
        "default",
        "toolbox",
        "shell",
        &["sh", "-c", "echo out; echo err >&2; exit 3"],
        false,
    )
    .await;
    let first = socket.next().await.unwrap().unwrap();
    assert_eq!(
        first,
        Message::Binary(vec![1u8].into()),
        "the empty frame on stdout comes first"
    );
    let done = collect(&mut socket, None, Duration::from_secs(20)).await;
    assert_eq!(done.stdout_text(), "out\n");
    assert_eq!(String::from_utf8_lossy(&done.stderr), "err\n");
    let status = done.status_json();
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["reason"], "ExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "3");
    assert!(
        done.closed_normally,
        "a normal close (1000) follows the status"
    );
}

#[tokio::test]
async fn subprotocol_negotiation() {
    let tc = start().await;
    let path = exec_path("default", "toolbox", "shell", &["true"], false);
    // the first of the client's list that the server speaks
    for (offered, chosen) in [
        (
            "v4.channel.k8s.io, v5.channel.k8s.io",
            Some("v4.channel.k8s.io"),
        ),
        (
            "v5.channel.k8s.io,v4.channel.k8s.io",
            Some("v5.channel.k8s.io"),
        ),
        (
            "x.example, base64.channel.k8s.io",
            Some("base64.channel.k8s.io"),
        ),
        ("", None),
    ] {
        let (_, got) = ws_negotiated(&tc, &path, offered, TOKEN).await.unwrap();
        assert_eq!(got.as_deref(), chosen, "offered {offered:?}");
    }
    let (code, body) = ws(&tc, &path, "v9.channel.k8s.io", TOKEN)
        .await
        .unwrap_err();
    assert_eq!(code, 400);
    assert!(body.contains("not supported"), "{body}");
}

#[tokio::test]
async fn base64_protocol_uses_text_frames() {
    let tc = start().await;
    let mut socket = ws(
        &tc,
        &exec_path("default", "busybox", "busybox", &["cat"], false),
        "v4.base64.channel.k8s.io",
        TOKEN,
    )
    .await
    .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    socket
        .send(Message::Text(format!("0{}", b64.encode("héllo\n")).into()))
        .await
        .unwrap();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("héllo") {
        match tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Message::Text(t) => {
                let t = t.as_str();
                if let Some(rest) = t.strip_prefix('1') {
                    got.extend(b64.decode(rest).unwrap());
                }
            }
            Message::Binary(_) => panic!("base64 protocols send text frames"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn stdin_close_gives_eof_and_the_python_clients_text_frames_count_as_stdin() {
    let tc = start().await;
    let mut socket = exec(&tc, "default", "busybox", "busybox", &["wc", "-c"], false).await;
    socket.send(Message::Text("\u{0}abc".into())).await.unwrap(); // channel 0 in a text frame
    send(&mut socket, 0, b"de").await;
    send(&mut socket, 255, &[0]).await; // v5 close of stdin
    let done = collect(&mut socket, None, Duration::from_secs(20)).await;
    assert_eq!(done.stdout_text().trim(), "5");
    assert_eq!(done.status_json()["status"], "Success");
}

#[tokio::test]
async fn resize_split_across_frames_and_joined_in_one() {
    let tc = start().await;
    let mut socket = exec(&tc, "default", "toolbox", "shell", &["sh"], true).await;
    send(&mut socket, 4, br#"{"Width":1"#).await;
    send(&mut socket, 4, b"01,\"Hei").await;
    send(&mut socket, 4, b"ght\":37}\n").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&mut socket, 0, b"stty size | sed 's/^/size:/'\n").await;
    collect(&mut socket, Some("size:37 101"), Duration::from_secs(20)).await;
    send(
        &mut socket,
        4,
        b"{\"width\":50,\"height\":10}{\"Width\":60,\"Height\":12}",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&mut socket, 0, b"stty size | sed 's/^/size:/'\n").await;
    collect(&mut socket, Some("size:12 60"), Duration::from_secs(20)).await;
}

#[tokio::test]
async fn garbage_on_every_channel_leaves_the_server_serving() {
    let tc = start().await;
    let mut socket = exec(&tc, "default", "toolbox", "shell", &["sh"], true).await;
    for channel in [0u8, 1, 2, 3, 4, 5, 17, 200, 254] {
        send(&mut socket, channel, &[0xff, 0xfe, 0x00, b'{', b'}', 0x80]).await;
    }
    socket
        .send(Message::Binary(Vec::new().into()))
        .await
        .unwrap(); // empty: ignored
    send(&mut socket, 4, b"not json at all }}}").await;
    send(&mut socket, 4, br#"{"Width":0,"Height":0}"#).await;
    send(&mut socket, 0, b"\r\necho still-''alive\n").await;
    collect(
        &mut socket,
        Some("still-alive\r\n"),
        Duration::from_secs(20),
    )
    .await;

    // a close message of the wrong length is a protocol error: the connection ends
    send(&mut socket, 255, &[0, 0, 0]).await;
    let ended = collect(&mut socket, None, Duration::from_secs(20)).await;
    assert!(ended.status.is_empty());

    // an oversized message ends that connection only
    let mut big = exec(&tc, "default", "toolbox", "shell", &["cat"], false).await;
    let huge = vec![0u8; 20 << 20];
    let _ = big.send(Message::Binary(huge.into())).await;
    let _ = collect(&mut big, None, Duration::from_secs(20)).await;

    // the server keeps serving
    let mut again = exec(&tc, "default", "toolbox", "shell", &["echo", "fine"], false).await;
    let done = collect(&mut again, None, Duration::from_secs(20)).await;
    assert_eq!(done.stdout_text(), "fine\n");
}

#[tokio::test]
async fn pings_are_answered_during_a_session() {
    let tc = start().await;
    let mut socket = exec(&tc, "default", "toolbox", "shell", &["sleep", "3"], false).await;
    socket
        .send(Message::Ping(b"are-you-there".to_vec().into()))
        .await
        .unwrap();
    let pong = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Message::Pong(p) => break p,
            _ => continue,
        }
    };
    assert_eq!(&pong[..], b"are-you-there");
}

#[tokio::test]
async fn not_running_containers_and_missing_programs_get_a_status() {
    let tc = start().await;
    let mut socket = exec(&tc, "shop", "worker-0", "worker", &["sh"], false).await;
    let done = collect(&mut socket, None, Duration::from_secs(20)).await;
    let status = done.status_json();
    assert_eq!(status["status"], "Failure");
    // Between its restarts the crashing container is gone, starting again or just exited; the
    // kubelet's words differ.
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("container not found (\"worker\")")
            || message
                .contains("failed to start container \"worker\": the container is not running")
            || message.contains("container is in CONTAINER_EXITED state"),
        "{status}"
    );

    let mut socket = exec(&tc, "default", "busybox", "busybox", &["bash"], false).await;
    let done = collect(&mut socket, None, Duration::from_secs(20)).await;
    let status = done.status_json();
    assert_eq!(status["reason"], "InternalError");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("\"bash\": executable file not found in $PATH"),
        "{status}"
    );
}

#[tokio::test]
async fn cut_connections_drop_every_exec() {
    let tc = start().await;
    let mut a = exec(&tc, "default", "toolbox", "shell", &["sh"], true).await;
    let mut b = exec(&tc, "default", "busybox", "busybox", &["sh"], true).await;
    send(&mut a, 0, b"echo a-''ready\n").await;
    collect(&mut a, Some("a-ready\r\n"), Duration::from_secs(20)).await;
    send(&mut b, 0, b"echo b-''ready\n").await;
    collect(&mut b, Some("b-ready\r\n"), Duration::from_secs(20)).await;
    tc.cut_exec_connections();
    for socket in [&mut a, &mut b] {
        let ended = collect(socket, None, Duration::from_secs(20)).await;
        assert!(
            !ended.closed_normally && ended.status.is_empty(),
            "cut without a status or close"
        );
    }
    // new execs still work
    let mut c = exec(&tc, "default", "toolbox", "shell", &["true"], false).await;
    assert_eq!(
        collect(&mut c, None, Duration::from_secs(20))
            .await
            .status_json()["status"],
        "Success"
    );
}
