//! The podterm binary as an operator starts it: the banner, the refusal to listen beyond
//! loopback without an auth choice, and no token in any log line.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn podterm() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podterm"));
    // The checkout as `cargo test` names it (the path compiled in can be another checkout's,
    // as checkouts share one target directory).
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    cmd.current_dir(root)
        .env_remove("PODTERM_TOKEN")
        .env("RUST_LOG", "debug");
    cmd
}

#[test]
fn refuses_to_listen_beyond_loopback_without_an_auth_choice() {
    let out = podterm()
        .args(["--demo", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--token") && err.contains("--auth proxy"),
        "says what to set: {err}"
    );
}

/// Starts the binary, waits for its banner, runs `exercise` against it, stops it with
/// SIGTERM, and returns everything it printed.
fn run(args: &[&str], exercise: impl FnOnce(&str)) -> (String, String) {
    let mut child = podterm()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        assert!(Instant::now() < deadline, "no banner: {banner}");
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            panic!("podterm exited: {banner}");
        }
        banner.push_str(&line);
        if let Some(rest) = line
            .strip_prefix("podterm ")
            .and_then(|l| l.split("http://").nth(1))
        {
            break rest.trim().to_string();
        }
    };
    // the rest of the banner comes right after the address line
    std::thread::sleep(Duration::from_millis(300));
    exercise(&addr);
    let _ = nix_kill(child.id());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    (banner + &rest, stderr)
}

fn nix_kill(pid: u32) -> std::io::Result<()> {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map(|_| ())
}

fn request(addr: &str, lines: &str) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(stream, "{lines}Host: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn a_configured_token_is_never_printed() {
    let token = "configured-secret-token-4242-0123456789";
    let (stdout, stderr) = run(
        &["--demo", "--listen", "127.0.0.1:0", "--token", token],
        |addr| {
            assert!(
                request(addr, &format!("GET /login?token={token} HTTP/1.1\r\n"))
                    .starts_with("HTTP/1.1 303")
            );
            assert!(
                request(
                    addr,
                    &format!("GET / HTTP/1.1\r\nAuthorization: Bearer {token}\r\n")
                )
                .starts_with("HTTP/1.1 200")
            );
            assert!(
                request(
                    addr,
                    "GET / HTTP/1.1\r\nAuthorization: Bearer wrong-guess-0000000000\r\n"
                )
                .starts_with("HTTP/1.1 401")
            );
        },
    );
    assert!(stdout.contains("auth: access token"), "{stdout}");
    assert!(
        !stdout.contains(token) && !stderr.contains(token),
        "the token leaked:\n{stdout}\n{stderr}"
    );
    assert!(stderr.contains("logged in"), "debug logs were on: {stderr}");
}

#[test]
fn a_generated_token_is_printed_once_in_the_banner_only() {
    let mut token = String::new();
    let (stdout, stderr) = run(&["--demo", "--listen", "127.0.0.1:0"], |addr| {
        let _ = addr;
    });
    let line = stdout
        .lines()
        .find(|l| l.contains("/login?token="))
        .expect("a login link");
    token.push_str(line.split("token=").nth(1).unwrap().trim());
    assert!(token.len() >= 32);
    assert_eq!(stdout.matches(&token).count(), 1);
    assert!(!stderr.contains(&token));
}

#[test]
fn metrics_can_have_their_own_address_without_a_login() {
    let metrics_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let (stdout, _) = run(
        &[
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--token",
            "metrics-test-token-00000000000000000000",
            "--metrics-listen",
            &metrics_addr,
        ],
        |addr| {
            assert!(request(addr, "GET /metrics HTTP/1.1\r\n").starts_with("HTTP/1.1 401"));
            let answer = request(&metrics_addr, "GET /metrics HTTP/1.1\r\n");
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            assert!(answer.contains("podterm_sessions_active"), "{answer}");
        },
    );
    assert!(stdout.contains("/metrics (no login)"), "{stdout}");
}

#[test]
fn sigterm_ends_open_feeds_and_exits() {
    let token = "sigterm-test-token-0000000000000000000000";
    let mut child = podterm()
        .args(["--demo", "--listen", "127.0.0.1:0", "--token", token])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "podterm exited");
        if let Some(rest) = line
            .strip_prefix("podterm ")
            .and_then(|l| l.split("http://").nth(1))
        {
            break rest.trim().to_string();
        }
    };
    // a dashboard's live feed stays open until the server ends it
    let mut feed = std::net::TcpStream::connect(&addr).unwrap();
    {
        use std::io::Write;
        write!(
            feed,
            "GET /api/pods/watch?namespace=default HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
    }
    let mut first = [0u8; 64];
    feed.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    assert!(feed.read(&mut first).unwrap() > 0);
    let _ = nix_kill(child.id());
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("podterm did not exit within 25 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
