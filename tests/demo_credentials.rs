//! `podterm --demo` serves its built-in cluster on a loopback port that every local user can
//! reach: the cluster must not accept the tokens written in the repository's demo.yaml.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, AttachParams, ListParams};

const TOKEN: &str = "demo-credentials-test-token-0000";

/// The running binary; ended with SIGTERM (so its demo pods end too) when dropped.
struct Podterm {
    child: Child,
    /// podterm's own address.
    addr: String,
    /// The demo cluster's URL.
    cluster: String,
}

impl Podterm {
    fn start_demo() -> Self {
        let root = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
        let mut child = Command::new(env!("CARGO_BIN_EXE_podterm"))
            .current_dir(root)
            .env_remove("PODTERM_TOKEN")
            .args(["--demo", "--listen", "127.0.0.1:0", "--token", TOKEN])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut podterm = Self {
            child,
            addr: String::new(),
            cluster: String::new(),
        };
        while podterm.addr.is_empty() || podterm.cluster.is_empty() {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .expect("podterm printed its addresses within 60 s");
            if let Some(addr) = line.strip_prefix("podterm ").and_then(after_scheme) {
                podterm.addr = addr;
            } else if let Some(url) = line
                .strip_prefix("demo mode: serving a built-in test cluster at ")
                .and_then(|rest| rest.split_whitespace().next())
            {
                podterm.cluster = url.to_string();
            }
        }
        podterm
    }
}

fn after_scheme(line: &str) -> Option<String> {
    line.split("http://").nth(1).map(|a| a.trim().to_string())
}

impl Drop for Podterm {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..250 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client for the demo cluster presenting `token` (the cluster's CA is made per start and
/// not shown, so its certificate is not checked: the token is what is tested).
fn client_with(cluster: &str, token: &str) -> kube::Client {
    let mut config = kube::Config::new(cluster.parse().unwrap());
    config.accept_invalid_certs = true;
    config.auth_info.token = Some(token.to_string().into());
    kube::Client::try_from(config).unwrap()
}

fn is_unauthorized(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code == 401,
        other => other.to_string().contains("401"),
    }
}

#[tokio::test]
async fn the_demo_cluster_refuses_the_tokens_written_in_the_repository() {
    let podterm = Podterm::start_demo();
    for token in ["admin-token", "alice-token", "bob-token", "proxy-token"] {
        let client = client_with(&podterm.cluster, token);
        let listed = tokio::time::timeout(
            Duration::from_secs(20),
            Api::<Namespace>::all(client.clone()).list(&ListParams::default()),
        )
        .await
        .expect("the cluster answered within 20 s");
        match listed {
            Err(e) => assert!(is_unauthorized(&e), "{token}: {e}"),
            Ok(list) => panic!(
                "{token} listed {} namespaces of the demo cluster",
                list.items.len()
            ),
        }
        let pods: Api<Pod> = Api::namespaced(client, "default");
        let exec = tokio::time::timeout(
            Duration::from_secs(20),
            pods.exec(
                "toolbox",
                ["id"],
                &AttachParams::default().stdout(true).stderr(false),
            ),
        )
        .await
        .expect("the cluster answered within 20 s");
        match exec {
            Err(e) => assert!(is_unauthorized(&e), "{token}: {e}"),
            Ok(_) => panic!("{token} opened an exec in the demo cluster"),
        }
    }

    // podterm itself still lists the demo pods, with the credentials only it holds
    let page = page(&podterm.addr, "/?namespace=default").await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains(r#"data-pod="toolbox""#), "{page}");
}

async fn page(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw))
        .await
        .expect("the page within 20 s")
        .unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}
