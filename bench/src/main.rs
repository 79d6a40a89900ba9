//! podterm-bench: measures podterm against exec straight to the same API server, side by
//! side in one run, on loopback. See BENCHMARKS.md for what is measured and the results.

mod busy;
mod files;
mod held;
mod http;
mod logs;
mod measure;
mod render;
mod report;
mod servers;
mod slowloris;
mod stats;
mod steps;
mod terminal;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde::Serialize;

use servers::{Binaries, CONTAINER, NAMESPACE, POD};
use terminal::{Endpoints, Path};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The podterm binary to measure (build it with --release).
    #[arg(long)]
    podterm: PathBuf,
    /// The testcluster binary (the API server both paths talk to).
    #[arg(long)]
    testcluster: PathBuf,
    /// The built site podterm serves (`cargo leptos build --release` writes it).
    #[arg(long, default_value = "target/site")]
    site_root: PathBuf,
    #[arg(long, default_value = "Leptos.toml")]
    leptos_toml: PathBuf,
    /// How many times to repeat everything (fresh servers each time).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// A small, fast version of every measurement: checks that the benchmark works.
    #[arg(long)]
    quick: bool,
    /// Only these measurements (comma-separated); all by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Part>,
    /// The API server both paths talk to: the testcluster, or the real kube-apiserver with
    /// the testcluster as its node (echo and throughput only; needs the control plane
    /// `scripts/lib.sh`'s ensure_control_plane builds).
    #[arg(long, value_enum, default_value = "testcluster")]
    api_server: ApiServer,
    /// Also write every number as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The size of the file moved up and down by the file transfer, in MB (1,000 by
    /// default, 20 with --quick).
    #[arg(long)]
    files_mb: Option<u64>,
}

/// How big each measurement is.
#[derive(Debug, Clone, Serialize)]
pub struct Sizes {
    pub warmup: usize,
    pub round_trips: usize,
    pub throughput_bytes: u64,
    pub idle: usize,
    pub busy: usize,
    pub busy_seconds: u64,
    /// Half-sent requests held from another address during the crowd run, and the
    /// `/healthz` requests timed with and without them.
    pub half_sent: usize,
    pub healthz_samples: usize,
    pub crowded_pods: usize,
    pub page_repeats: usize,
    pub flood_seconds: u64,
    /// The log followed from its start, and how long a log reader stops reading.
    pub log_bytes: u64,
    pub log_stall_seconds: u64,
    /// Visits with an empty cache (each a new browser context), then cached ones.
    pub cold_navigations: usize,
    pub navigations: usize,
    /// The file moved up and down by `kubectl cp` and through podterm.
    pub file_bytes: u64,
    /// The output shown in the browser, and how often each way is timed per run.
    pub render_bytes: u64,
    pub render_repeats: usize,
}

impl Sizes {
    fn full() -> Self {
        Self {
            warmup: 200,
            round_trips: 2000,
            throughput_bytes: 100_000_000,
            idle: 1000,
            busy: 100,
            busy_seconds: 10,
            // as many as one address may hold by default
            half_sent: 1024,
            healthz_samples: 50,
            crowded_pods: 5000,
            page_repeats: 30,
            flood_seconds: 30,
            log_bytes: 1_000_000_000,
            log_stall_seconds: 30,
            cold_navigations: 5,
            navigations: 9,
            file_bytes: 1_000_000_000,
            render_bytes: 50_000_000,
            render_repeats: 1,
        }
    }

    fn quick() -> Self {
        Self {
            warmup: 10,
            round_trips: 100,
            throughput_bytes: 2_000_000,
            idle: 20,
            busy: 4,
            busy_seconds: 1,
            half_sent: 64,
            healthz_samples: 10,
            crowded_pods: 300,
            page_repeats: 3,
            flood_seconds: 2,
            log_bytes: 20_000_000,
            log_stall_seconds: 2,
            cold_navigations: 1,
            navigations: 1,
            file_bytes: 20_000_000,
            render_bytes: 5_000_000,
            render_repeats: 1,
        }
    }
}

/// Everything one run measured (what was asked for).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Run {
    pub page: Option<measure::Page>,
    /// Direct, then podterm.
    pub echo: Option<(measure::Echo, measure::Echo)>,
    pub throughput: Option<(measure::Transfer, measure::Transfer)>,
    pub browser: Option<report::Browser>,
    pub render: Option<render::Render>,
    pub flood: Option<measure::Flood>,
    pub crowd: Option<measure::Crowd>,
    /// Direct, then podterm; then a stalled log reader through podterm.
    pub logs: Option<(logs::Follow, logs::Follow, logs::Stall)>,
    /// One file up and down with `kubectl cp` and through podterm.
    pub files: Option<files::Files>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiServer {
    Testcluster,
    Real,
}

/// The measurements `--only` can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    Page,
    Echo,
    Throughput,
    Browser,
    Render,
    Flood,
    Crowd,
    Logs,
    Files,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podterm-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Error> {
    let mut sizes = if args.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    if let Some(mb) = args.files_mb {
        sizes.file_bytes = mb.max(1) * 1_000_000;
    }
    let runs = if args.quick { 1 } else { args.runs.max(1) };
    let mut only = args.only.clone();
    if args.api_server == ApiServer::Real {
        // The flood and the page need thousands of pods or controls only the testcluster's
        // own API server has; the real one is for the data path. The crowd is there on
        // request (it takes minutes): the busy keystrokes against the real proxy's CPU.
        let real_parts = [Part::Echo, Part::Throughput, Part::Crowd];
        if only.iter().any(|p| !real_parts.contains(p)) {
            return Err(
                "with --api-server real, only echo, throughput and crowd are measured".into(),
            );
        }
        if only.is_empty() {
            only = vec![Part::Echo, Part::Throughput];
        }
    }
    let open_files = servers::raise_open_files()?;
    if !args.quick && open_files < 4 * (sizes.idle + sizes.busy) as u64 {
        return Err(format!(
            "the open-file limit ({open_files}) is too low for {} sessions",
            sizes.idle + sizes.busy
        )
        .into());
    }
    let binaries = Binaries {
        podterm: args.podterm.clone(),
        testcluster: args.testcluster.clone(),
        site_root: args.site_root.clone(),
        leptos_toml: args.leptos_toml.clone(),
    };
    let dir = tempfile::Builder::new()
        .prefix("podterm-bench-")
        .tempdir()?;
    let mut results = Vec::new();
    for i in 0..runs {
        eprintln!("run {} of {runs}", i + 1);
        let podterm_first = i % 2 == 1;
        let run = one_run(
            &binaries,
            dir.path(),
            &sizes,
            &only,
            podterm_first,
            args.api_server,
        );
        results.push(run.await?);
    }
    let text = report::markdown(&sizes, &results, args.api_server);
    println!("{text}");
    if let Some(path) = &args.json {
        let all = serde_json::json!({ "sizes": sizes, "runs": results });
        std::fs::write(path, serde_json::to_string_pretty(&all)?)?;
    }
    Ok(())
}

async fn one_run(
    bin: &Binaries,
    dir: &std::path::Path,
    sizes: &Sizes,
    only: &[Part],
    podterm_first: bool,
    api_server: ApiServer,
) -> Result<Run, Error> {
    let cluster = match api_server {
        ApiServer::Testcluster => servers::start_cluster(bin, dir, sizes.crowded_pods).await?,
        ApiServer::Real => servers::start_real_cluster(dir).await?,
    };
    let result = measure_all(bin, dir, &cluster, sizes, only, podterm_first).await;
    cluster.process.stop(Duration::from_secs(10)).await;
    result
}

/// A fresh podterm for `work`, stopped afterwards.
async fn with_podterm<T>(
    bin: &Binaries,
    dir: &std::path::Path,
    cluster: &servers::Cluster,
    work: impl AsyncFnOnce(&servers::Podterm) -> Result<T, Error>,
) -> Result<T, Error> {
    let podterm = servers::start_podterm(bin, dir, cluster).await?;
    let result = work(&podterm).await;
    podterm.process.stop(Duration::from_secs(20)).await;
    result
}

async fn measure_all(
    bin: &Binaries,
    dir: &std::path::Path,
    cluster: &servers::Cluster,
    sizes: &Sizes,
    only: &[Part],
    podterm_first: bool,
) -> Result<Run, Error> {
    let wanted = |part| only.is_empty() || only.contains(&part);
    // Alternate which path goes first, so drift over a run does not favour one.
    let order = if podterm_first {
        [Path::Podterm, Path::Direct]
    } else {
        [Path::Direct, Path::Podterm]
    };
    let mut run = with_podterm(bin, dir, cluster, async |podterm| {
        let mut run = Run::default();
        // First, while nothing is cached: the dashboard of the crowded namespace.
        if wanted(Part::Page) {
            step("dashboard render");
            run.page = Some(measure::page(podterm, sizes.crowded_pods, sizes.page_repeats).await?);
        }
        let ends = Endpoints::new(cluster, podterm)?;
        if wanted(Part::Echo) {
            step("echo latency");
            // The container's first exec starts it: not part of either path's cost.
            for path in order {
                measure::shell(&ends, path).await?.close().await;
            }
            let mut both = Vec::new();
            for path in order {
                both.push((
                    path,
                    measure::echo(&ends, path, sizes.warmup, sizes.round_trips).await?,
                ));
            }
            run.echo = pair(both);
        }
        if wanted(Part::Throughput) {
            step("throughput");
            let mut both = Vec::new();
            for path in order {
                let transfer = measure::throughput(
                    &ends,
                    path,
                    sizes.throughput_bytes,
                    &podterm.process,
                    &cluster.process,
                )
                .await?;
                both.push((path, transfer));
            }
            run.throughput = pair(both);
        }
        if wanted(Part::Browser) {
            step("navigation to prompt in Chromium");
            let target = format!("/terminal?namespace={NAMESPACE}&pod={POD}&container={CONTAINER}");
            run.browser = Some(
                report::browser(
                    podterm,
                    (sizes.cold_navigations, sizes.navigations),
                    &target,
                )
                .await?,
            );
        }
        if wanted(Part::Render) {
            step("output rendered in Chromium: podterm and a bare xterm.js page");
            run.render = Some(render::measure(podterm, sizes).await?);
        }
        Ok(run)
    })
    .await?;
    // Memory is measured in fresh processes: memory freed by earlier work would be reused
    // and hide growth.
    if wanted(Part::Flood) {
        run.flood = Some(
            with_podterm(bin, dir, cluster, async |podterm| {
                step("flood to a stalled reader");
                let ends = Endpoints::new(cluster, podterm)?;
                measure::flood(
                    &ends,
                    &podterm.process,
                    Duration::from_secs(sizes.flood_seconds),
                )
                .await
            })
            .await?,
        );
    }
    if wanted(Part::Logs) {
        step("log follow");
        logs::start_logger(cluster, sizes.log_bytes, Duration::from_secs(600)).await?;
        let mut both = Vec::new();
        for path in order {
            let follow = with_podterm(bin, dir, cluster, async |podterm| {
                logs::follow(cluster, podterm, path).await
            })
            .await?;
            both.push((path, follow));
        }
        step("log reader that stops reading");
        let stall = with_podterm(bin, dir, cluster, async |podterm| {
            logs::stall(podterm, Duration::from_secs(sizes.log_stall_seconds)).await
        })
        .await?;
        run.logs = pair(both).map(|(direct, podterm)| (direct, podterm, stall));
    }
    if wanted(Part::Files) {
        step("file transfer: kubectl cp and podterm, up and down");
        run.files = Some(files::measure(bin, dir, cluster, sizes.file_bytes, order).await?);
    }
    if wanted(Part::Crowd) {
        run.crowd = Some(
            with_podterm(bin, dir, cluster, async |podterm| {
                step("idle and busy sessions");
                let ends = Endpoints::new(cluster, podterm)?;
                measure::crowd(
                    &ends,
                    podterm,
                    &cluster.process,
                    sizes.idle,
                    sizes.busy,
                    Duration::from_secs(sizes.busy_seconds),
                    (sizes.half_sent, sizes.healthz_samples),
                )
                .await
            })
            .await?,
        );
    }
    Ok(run)
}

/// (direct, podterm) from measurements taken in either order.
fn pair<T: Clone>(both: Vec<(Path, T)>) -> Option<(T, T)> {
    let find = |want| {
        both.iter()
            .find(|(p, _)| *p == want)
            .map(|(_, t)| t.clone())
    };
    Some((find(Path::Direct)?, find(Path::Podterm)?))
}

fn step(what: &str) {
    eprintln!("  {what}");
}
