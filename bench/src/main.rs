//! podterm-bench: measures podterm against exec straight to the same API server, side by
//! side in one run, on loopback. See BENCHMARKS.md for what is measured and the results.

mod http;
mod measure;
mod report;
mod servers;
mod stats;
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
    /// Skip the Chromium measurements (navigation to prompt, bytes downloaded).
    #[arg(long)]
    no_browser: bool,
    /// Also write every number as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
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
    pub crowded_pods: usize,
    pub page_repeats: usize,
    pub flood_seconds: u64,
    pub navigations: usize,
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
            crowded_pods: 5000,
            page_repeats: 30,
            flood_seconds: 30,
            navigations: 10,
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
            crowded_pods: 300,
            page_repeats: 3,
            flood_seconds: 2,
            navigations: 2,
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub page: measure::Page,
    pub echo_direct: measure::Echo,
    pub echo_podterm: measure::Echo,
    pub throughput_direct: measure::Transfer,
    pub throughput_podterm: measure::Transfer,
    pub flood: measure::Flood,
    pub crowd: measure::Crowd,
    pub browser: Option<report::Browser>,
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
    let sizes = if args.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let runs = if args.quick { 1 } else { args.runs.max(1) };
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
        results.push(one_run(&binaries, dir.path(), &sizes, !args.no_browser, i % 2 == 1).await?);
    }
    let text = report::markdown(&sizes, &results);
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
    browser: bool,
    podterm_first: bool,
) -> Result<Run, Error> {
    let cluster = servers::start_cluster(bin, dir, sizes.crowded_pods).await?;
    let result = measure_all(bin, dir, &cluster, sizes, browser, podterm_first).await;
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
    browser: bool,
    podterm_first: bool,
) -> Result<Run, Error> {
    // Alternate which path goes first, so drift over a run does not favour one.
    let order = if podterm_first {
        [Path::Podterm, Path::Direct]
    } else {
        [Path::Direct, Path::Podterm]
    };
    let (page, echo_direct, echo_podterm, throughput_direct, throughput_podterm, browser) =
        with_podterm(bin, dir, cluster, async |podterm| {
            // First, while nothing is cached: the dashboard of the crowded namespace.
            step("dashboard render");
            let page = measure::page(podterm, sizes.crowded_pods, sizes.page_repeats).await?;
            let ends = Endpoints::new(cluster, podterm)?;
            step("echo latency");
            let (mut echo_direct, mut echo_podterm) = (None, None);
            for path in order {
                let latency = measure::echo(&ends, path, sizes.warmup, sizes.round_trips).await?;
                *if path == Path::Direct {
                    &mut echo_direct
                } else {
                    &mut echo_podterm
                } = Some(latency);
            }
            step("throughput");
            let (mut throughput_direct, mut throughput_podterm) = (None, None);
            for path in order {
                let transfer = measure::throughput(
                    &ends,
                    path,
                    sizes.throughput_bytes,
                    &podterm.process,
                    &cluster.process,
                )
                .await?;
                *if path == Path::Direct {
                    &mut throughput_direct
                } else {
                    &mut throughput_podterm
                } = Some(transfer);
            }
            let browser = if browser {
                step("navigation to prompt in Chromium");
                Some(
                    report::browser(
                        podterm,
                        sizes.navigations,
                        &format!("/terminal?namespace={NAMESPACE}&pod={POD}&container={CONTAINER}"),
                    )
                    .await?,
                )
            } else {
                None
            };
            Ok((
                page,
                echo_direct.ok_or("no direct echo")?,
                echo_podterm.ok_or("no podterm echo")?,
                throughput_direct.ok_or("no direct throughput")?,
                throughput_podterm.ok_or("no podterm throughput")?,
                browser,
            ))
        })
        .await?;
    // Memory is measured in fresh processes: memory freed by earlier work would be reused
    // and hide growth.
    let flood = with_podterm(bin, dir, cluster, async |podterm| {
        step("flood to a stalled reader");
        let ends = Endpoints::new(cluster, podterm)?;
        measure::flood(
            &ends,
            &podterm.process,
            Duration::from_secs(sizes.flood_seconds),
        )
        .await
    })
    .await?;
    let crowd = with_podterm(bin, dir, cluster, async |podterm| {
        step("idle and busy sessions");
        let ends = Endpoints::new(cluster, podterm)?;
        measure::crowd(
            &ends,
            podterm,
            sizes.idle,
            sizes.busy,
            Duration::from_secs(sizes.busy_seconds),
        )
        .await
    })
    .await?;
    Ok(Run {
        page,
        echo_direct,
        echo_podterm,
        throughput_direct,
        throughput_podterm,
        flood,
        crowd,
        browser,
    })
}

fn step(what: &str) {
    eprintln!("  {what}");
}
