//! How podterm reaches a container's files: with the container's own programs, or, when it
//! has none (distroless), from a debug container beside it, under `/proc/1/root`. There the
//! kernel would resolve an absolute symbolic link against the debug container's root, so
//! podterm resolves links itself, inside the target's tree.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;

use super::run::{RunError, Runner};
use super::{FileError, stderr_failure};
use crate::files::{Via, clean_path, parent};
use crate::protocol::ErrorReason;
use crate::server::AppState;
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::debug;
use crate::server::web::identity::Caller;

/// Where the target's files are seen from a debug container (it shares the target's
/// process namespace, whose first process is the target's main one).
pub const TARGET_ROOT: &str = "/proc/1/root";
/// How long what a container has is remembered.
const REMEMBER: Duration = Duration::from_secs(60);
/// Links followed in one path, as Linux allows.
const MAX_LINKS: usize = 40;

/// A container's files, reached one way.
#[derive(Clone)]
pub struct Place {
    pub runner: Runner,
    pub via: Via,
    /// Prefix of every path where the programs run (`TARGET_ROOT` through a debug container).
    pub root: &'static str,
}

/// Context, person, namespace, pod, container.
type Key = (String, String, String, String, String);

/// What each container was found to have, by person and container.
#[derive(Default)]
pub struct Ways {
    known: Mutex<HashMap<Key, (Via, Instant)>>,
}

impl Ways {
    fn get(&self, key: &Key) -> Option<Via> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known
            .get(key)
            .filter(|(_, at)| at.elapsed() < REMEMBER)
            .map(|(via, _)| *via)
    }

    fn keep(&self, key: Key, via: Via) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.retain(|_, (_, at)| at.elapsed() < REMEMBER);
        known.insert(key, (via, Instant::now()));
    }
}

/// Finds how to reach `container`'s files: its own `stat` answers, or a debug container
/// (started, or this person's running one reused) does.
pub async fn reach(
    state: &AppState,
    caller: &Caller,
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    container: &str,
) -> Result<Place, FileError> {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let own = Runner {
        pods: pods.clone(),
        pod: pod.to_string(),
        container: container.to_string(),
    };
    let key = (
        cluster.context.clone(),
        caller.identity.name().to_string(),
        namespace.to_string(),
        pod.to_string(),
        container.to_string(),
    );
    let via = match state.files.ways.get(&key) {
        Some(via) => via,
        None => {
            let via = probe(&own).await?;
            state.files.ways.keep(key, via);
            via
        }
    };
    if via != Via::Debug {
        return Ok(Place {
            runner: own,
            via,
            root: "",
        });
    }
    if shares_processes(&pods, pod).await? {
        return Err(FileError::bad(
            "this container has no programs to reach its files with, and its pod shares one process namespace (shareProcessNamespace), where podterm cannot yet tell its processes from the others'; copy files through a container of the pod that has a shell",
        ));
    }
    let started = debug::ensure(state, caller, cluster, namespace, pod, container, None)
        .await
        .map_err(|f| {
            FileError::from(f).context(
                "this container has no programs to reach its files with, and a debug container beside it could not start",
            )
        })?;
    Ok(Place {
        runner: Runner {
            pods,
            pod: pod.to_string(),
            container: started.container,
        },
        via,
        root: TARGET_ROOT,
    })
}

/// Whether the pod's containers share one process namespace: a debug container's
/// `/proc/1` is then the pod's sandbox, not the target's main process.
async fn shares_processes(pods: &Api<Pod>, pod: &str) -> Result<bool, FileError> {
    let found = pods
        .get(pod)
        .await
        .map_err(|e| FileError::from(crate::server::cluster::kube_errors::classify(&e)))?;
    Ok(found
        .spec
        .and_then(|spec| spec.share_process_namespace)
        .unwrap_or(false))
}

/// What the container has, in one exec where it has a shell (most do): a shell and `stat`,
/// `stat` alone, or neither.
async fn probe(own: &Runner) -> Result<Via, FileError> {
    // A constant script: nothing of the request's goes into it.
    match own.output(&["sh", "-c", "stat -c %f / >/dev/null"]).await {
        // 127: the shell found no `stat`.
        Ok(out) if out.code == 127 => Ok(Via::Debug),
        Ok(_) => Ok(Via::Shell),
        Err(RunError::Missing(_)) => match own.output(&["stat", "-c", "%f", "/"]).await {
            Ok(_) => Ok(Via::Tools),
            Err(RunError::Missing(_)) => Ok(Via::Debug),
            Err(RunError::Failed(f)) => Err(f.into()),
        },
        Err(RunError::Failed(f)) => Err(f.into()),
    }
}

impl Place {
    /// `path` (absolute in the container) as the programs see it, links inside the target's
    /// tree resolved when seen from a debug container. `last` says whether a link in the
    /// last part is followed too.
    pub async fn real(&self, path: &str, last: bool) -> Result<String, FileError> {
        let path = clean_path(path).map_err(FileError::bad)?;
        if self.root.is_empty() {
            return Ok(path);
        }
        let mut path = path;
        for _ in 0..MAX_LINKS {
            match self.first_link(&path, last).await? {
                None => return Ok(format!("{}{}", self.root, path)),
                Some((link, rest)) => {
                    let target = self.read_link(&link).await?;
                    let base = if target.starts_with('/') {
                        String::new()
                    } else {
                        parent(&link).to_string()
                    };
                    path =
                        clean_path(&format!("{base}/{target}/{rest}")).map_err(FileError::bad)?;
                }
            }
        }
        Err(FileError::bad(format!(
            "{path} passes through more than {MAX_LINKS} symbolic links"
        )))
    }

    /// The first symbolic link among `path`'s parts (the last one too when `last`), and what
    /// follows it; one `stat` of every prefix.
    async fn first_link(
        &self,
        path: &str,
        last: bool,
    ) -> Result<Option<(String, String)>, FileError> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let checked = if last {
            parts.len()
        } else {
            parts.len().saturating_sub(1)
        };
        if checked == 0 {
            return Ok(None);
        }
        let prefixes: Vec<String> = (1..=checked)
            .map(|n| format!("{}/{}", self.root, parts[..n].join("/")))
            .collect();
        let mut argv = vec!["stat", "-c", "%F"];
        argv.extend(prefixes.iter().map(String::as_str));
        let out = self.run(&argv).await?;
        // Lines come in order for the prefixes that exist; the first link is the answer,
        // and a missing prefix leaves the ones below it missing too.
        for (i, line) in String::from_utf8_lossy(&out.stdout).lines().enumerate() {
            if line == "symbolic link" {
                let link = format!("/{}", parts[..=i].join("/"));
                let rest = parts[i + 1..].join("/");
                return Ok(Some((link, rest)));
            }
        }
        Ok(None)
    }

    async fn read_link(&self, link: &str) -> Result<String, FileError> {
        let seen = format!("{}{link}", self.root);
        let out = self.run_ok(&["readlink", &seen], link).await?;
        let mut target = out.stdout;
        if target.last() == Some(&b'\n') {
            target.pop();
        }
        String::from_utf8(target).map_err(|_| {
            FileError::bad(format!(
                "the link {link} points to a name podterm cannot read"
            ))
        })
    }

    /// Runs a program where this place's programs run; a missing program is an error that
    /// names it.
    pub async fn run(&self, argv: &[&str]) -> Result<super::run::Output, FileError> {
        self.runner
            .output(argv)
            .await
            .map_err(|e| self.run_error(e))
    }

    /// Runs a program that has to succeed; its failure is said about `path`.
    pub async fn run_ok(&self, argv: &[&str], path: &str) -> Result<super::run::Output, FileError> {
        let out = self.run(argv).await?;
        if out.code != 0 {
            return Err(stderr_failure(&out.stderr, path));
        }
        Ok(out)
    }

    pub fn run_error(&self, error: RunError) -> FileError {
        match error {
            RunError::Missing(program) => FileError::new(
                ErrorReason::BadRequest,
                format!("the container has no {program}, which this needs"),
            ),
            RunError::Failed(f) => f.into(),
        }
    }

    /// A path the programs printed, as the person knows it.
    pub fn shown<'a>(&self, seen: &'a str) -> &'a str {
        match seen.strip_prefix(self.root) {
            Some("") => "/",
            Some(rest) => rest,
            None => seen,
        }
    }
}
