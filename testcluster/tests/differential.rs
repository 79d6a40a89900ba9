//! The same requests to the testcluster and to the real kube-apiserver (loaded with the
//! same demo), as the same users: status codes, reasons and messages must agree. Each
//! difference found was either fixed in the testcluster or is listed in `KNOWN` with why.

use std::process::Stdio;
use std::time::Duration;

use testcluster::{Config, TestCluster};
use testenv::{ControlPlane, User};

/// What a request got: the HTTP status, the Status reason and message (for errors).
#[derive(Debug, PartialEq)]
struct Answer {
    code: u16,
    reason: String,
    message: String,
}

async fn ask(client: &kube::Client, path: &str) -> Answer {
    let request = http::Request::get(path).body(Vec::new()).unwrap();
    match client.request_text(request).await {
        Ok(_) => Answer {
            code: 200,
            reason: String::new(),
            message: String::new(),
        },
        Err(kube::Error::Api(status)) => Answer {
            code: status.code,
            reason: status.reason,
            message: status.message,
        },
        Err(e) => panic!("{path}: not an API answer: {e}"),
    }
}

struct Both {
    test: TestCluster,
    real: &'static ControlPlane,
    test_kubeconfig: tempfile::NamedTempFile,
    real_kubeconfig: tempfile::NamedTempFile,
}

impl Both {
    async fn start() -> Self {
        let real = ControlPlane::shared()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        real.load_demo().await.unwrap_or_else(|e| panic!("{e}"));
        let test = TestCluster::start(Config::demo()).await.unwrap();
        let file = |yaml: &str| {
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), yaml).unwrap();
            file
        };
        Self {
            test_kubeconfig: file(test.kubeconfig_yaml()),
            real_kubeconfig: file(&real.demo_kubeconfig_yaml().unwrap()),
            test,
            real,
        }
    }

    async fn clients(&self, user: User) -> (kube::Client, kube::Client) {
        self.clients_as(user, None).await
    }

    /// Clients as `user`, impersonating `as_user` when given.
    async fn clients_as(&self, user: User, as_user: Option<&str>) -> (kube::Client, kube::Client) {
        let context = format!("{}@demo", user.name());
        let client = |path: &std::path::Path| {
            let context = context.clone();
            let as_user = as_user.map(str::to_string);
            let path = path.to_path_buf();
            async move {
                let kubeconfig = kube::config::Kubeconfig::read_from(path).unwrap();
                let options = kube::config::KubeConfigOptions {
                    context: Some(context),
                    ..Default::default()
                };
                let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .unwrap();
                config.auth_info.impersonate = as_user;
                kube::Client::try_from(config).unwrap()
            }
        };
        (
            client(self.test_kubeconfig.path()).await,
            client(self.real_kubeconfig.path()).await,
        )
    }

    /// kubectl 1.37's stderr and exit code, as `user`, on both.
    async fn kubectl(
        &self,
        user: User,
        args: &[&str],
    ) -> ((String, Option<i32>), (String, Option<i32>)) {
        let run = |path: std::path::PathBuf| {
            let mut command = tokio::process::Command::new(self.real.bin_dir().join("kubectl"));
            command
                .arg("--kubeconfig")
                .arg(path)
                .arg("--context")
                .arg(format!("{}@demo", user.name()))
                .args(args)
                .stdin(Stdio::null())
                .kill_on_drop(true);
            async move {
                let out = tokio::time::timeout(Duration::from_secs(30), command.output())
                    .await
                    .expect("kubectl within 30 s")
                    .unwrap();
                (
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                    out.status.code(),
                )
            }
        };
        (
            run(self.test_kubeconfig.path().to_path_buf()).await,
            run(self.real_kubeconfig.path().to_path_buf()).await,
        )
    }
}

/// Differences kept on purpose: continue tokens are opaque and each server's own, so the
/// reason a garbled one cannot be decoded differs after the common words.
fn known(test: &Answer, real: &Answer) -> bool {
    let common = "invalid continue token: continue key is not valid:";
    test.code == real.code
        && test.reason == real.reason
        && test.message.starts_with(common)
        && real.message.starts_with(common)
}

#[tokio::test]
async fn errors_read_the_same_on_both() {
    let both = Both::start().await;
    let mut differences = Vec::new();
    let cases: &[(User, &str)] = &[
        (User::Admin, "/api/v1/namespaces/default/pods/nope"),
        (User::Admin, "/api/v1/namespaces/nope"),
        (User::Admin, "/api/v1/namespaces/nope/pods"),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods?labelSelector=a%3Db%3Dc",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods?fieldSelector=foo%3Dbar",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning",
        ),
        (User::Admin, "/api/v1/namespaces/default/pods?limit=1"),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods?continue=garbage",
        ),
        (User::Admin, "/api/v1/namespaces/default/pods/Bad_Name"),
        (User::Alice, "/api/v1/namespaces/kube-system/pods"),
        (
            User::Alice,
            "/api/v1/namespaces/shop/pods/web-7d4b9c6f5-abcde",
        ),
        (User::Alice, "/api/v1/namespaces"),
        (User::Bob, "/api/v1/namespaces"),
        (User::Bob, "/api/v1/namespaces/batch/pods"),
        (User::Bob, "/api/v1/pods"),
        // pods/log: the API server's checks, then the node's.
        (
            User::Admin,
            "/api/v1/namespaces/shop/pods/web-7d4b9c6f5-abcde/log",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/shop/pods/web-7d4b9c6f5-abcde/log?container=nope",
        ),
        (User::Admin, "/api/v1/namespaces/default/pods/nope/log"),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods/toolbox/log?previous=true",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods/toolbox/log?tailLines=-1",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods/toolbox/log?limitBytes=0",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods/toolbox/log?sinceSeconds=0",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/default/pods/toolbox/log?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/batch/pods/report-gen-pending/log",
        ),
        (
            User::Admin,
            "/api/v1/namespaces/shop/pods/db-migrate-29xkq/log",
        ),
        (
            User::Bob,
            "/api/v1/namespaces/shop/pods/worker-0/log?container=worker",
        ),
        (User::Bob, "/api/v1/namespaces/batch/pods/etl-1/log"),
        (User::Alice, "/api/v1/namespaces/default/pods/toolbox/log"),
    ];
    for (user, path) in cases {
        let (test, real) = both.clients(*user).await;
        let (t, r) = (ask(&test, path).await, ask(&real, path).await);
        if t != r && !known(&t, &r) {
            differences.push(format!(
                "{} GET {path}\n  testcluster: {t:?}\n  real:        {r:?}",
                user.name()
            ));
        }
    }
    // Impersonation: alice may not; the proxy may (the demo's policy).
    for (user, as_user, path) in [
        (User::Alice, "bob", "/api/v1/namespaces/shop/pods"),
        (User::Proxy, "bob", "/api/v1/namespaces/shop/pods"),
        (User::Proxy, "bob", "/api/v1/namespaces/default/pods"),
    ] {
        let (test, real) = both.clients_as(user, Some(as_user)).await;
        let (t, r) = (ask(&test, path).await, ask(&real, path).await);
        if t != r {
            differences.push(format!(
                "{} as {as_user} GET {path}\n  testcluster: {t:?}\n  real:        {r:?}",
                user.name()
            ));
        }
    }
    let execs: &[(User, &[&str])] = &[
        (User::Admin, &["exec", "nope", "--", "true"]),
        (
            User::Admin,
            &["exec", "toolbox", "-c", "nope", "--", "true"],
        ),
        (
            User::Admin,
            &[
                "exec",
                "-n",
                "shop",
                "web-7d4b9c6f5-abcde",
                "-c",
                "nope",
                "--",
                "true",
            ],
        ),
        (User::Admin, &["exec", "toolbox", "--", "no-such-program"]),
        (
            User::Admin,
            &["exec", "toolbox", "--", "sh", "-c", "exit 3"],
        ),
        (
            User::Admin,
            &["exec", "-n", "batch", "report-gen-pending", "--", "true"],
        ),
        (
            User::Bob,
            &["exec", "-n", "shop", "web-7d4b9c6f5-abcde", "--", "true"],
        ),
        (User::Alice, &["exec", "-n", "batch", "etl-1", "--", "true"]),
        (
            User::Bob,
            &["attach", "-n", "shop", "worker-0", "-c", "worker"],
        ),
        (User::Admin, &["attach", "toolbox", "-c", "nope"]),
        (
            User::Alice,
            &["logs", "-n", "kube-system", "coredns-5d78c9869d-x7k2p"],
        ),
    ];
    for (user, args) in execs {
        let (t, r) = both.kubectl(*user, args).await;
        if t != r {
            differences.push(format!(
                "{} kubectl {}\n  testcluster: {t:?}\n  real:        {r:?}",
                user.name(),
                args.join(" ")
            ));
        }
    }
    for difference in &differences {
        eprintln!("{difference}");
    }
    assert!(
        differences.is_empty(),
        "{} difference(s)",
        differences.len()
    );
    drop(both.test);
}
