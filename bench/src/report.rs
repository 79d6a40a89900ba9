//! The browser measurements (a Playwright script) and the Markdown summary of all runs.

use std::fmt::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::servers::Podterm;
use crate::stats::{Latency, Spread};
use crate::{Error, Run, Sizes};

#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub path: String,
    pub raw: usize,
    /// What podterm sends a browser that accepts gzip.
    pub gzip: usize,
    pub encoding: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Browser {
    /// Navigation to prompt with an empty HTTP cache.
    pub first_ms: f64,
    /// The visits after it.
    pub repeat: Latency,
    pub assets: Vec<Asset>,
    pub assets_gzip: usize,
}

#[derive(Deserialize)]
struct Script {
    times: Vec<f64>,
    resources: Vec<Resource>,
}

#[derive(Deserialize)]
struct Resource {
    url: String,
}

pub async fn browser(
    podterm: &Podterm,
    navigations: usize,
    target: &str,
) -> Result<Browser, Error> {
    let output = tokio::process::Command::new("node")
        .arg("end2end/bench/navigation.mjs")
        .env("PODTERM_URL", format!("http://{}", podterm.addr))
        .env("PODTERM_TOKEN", &podterm.token)
        .env("TERMINAL_PATH", target)
        .env("RUNS", navigations.max(2).to_string())
        .output()
        .await
        .map_err(|e| {
            format!("cannot run node (the browser measurements need Node.js and Playwright): {e}")
        })?;
    if !output.status.success() {
        return Err(format!(
            "the browser measurement failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let script: Script = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "the browser measurement printed no result ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    let mut assets = Vec::new();
    for resource in &script.resources {
        let path = resource
            .url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap_or_default();
        let kind = path.split('?').next().unwrap_or("");
        if ![".js", ".mjs", ".wasm", ".css"]
            .iter()
            .any(|ext| kind.ends_with(ext))
        {
            continue;
        }
        let raw = crate::http::request(podterm.addr, &path, Some(&podterm.token), None).await?;
        let gzip =
            crate::http::request(podterm.addr, &path, Some(&podterm.token), Some("gzip")).await?;
        assets.push(Asset {
            path,
            raw: raw.body.len(),
            gzip: gzip.body.len(),
            encoding: gzip.content_encoding,
        });
    }
    let repeat: Vec<Duration> = script
        .times
        .iter()
        .skip(1)
        .map(|ms| Duration::from_secs_f64(ms / 1e3))
        .collect();
    Ok(Browser {
        first_ms: script.times.first().copied().unwrap_or(f64::NAN),
        repeat: Latency::of(&repeat),
        assets_gzip: assets.iter().map(|a| a.gzip).sum(),
        assets,
    })
}

const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

fn row(out: &mut String, what: &str, cells: &[String]) {
    let _ = writeln!(out, "| {what} | {} |", cells.join(" | "));
}

fn check(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// Medians over the runs, with the range in parentheses.
pub fn markdown(sizes: &Sizes, runs: &[Run]) -> String {
    let s = |f: &dyn Fn(&Run) -> f64| Spread::of(runs.iter().map(f));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} run(s); each cell is the median, with the range over runs in parentheses.\n",
        runs.len()
    );

    let _ = writeln!(
        out,
        "### Echo latency ({} round trips after {} warm-up, ms)\n",
        sizes.round_trips, sizes.warmup
    );
    let _ = writeln!(out, "| | direct | podterm | podterm adds | target |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    let p50 = s(&|r| r.echo_podterm.latency.p50 - r.echo_direct.latency.p50);
    let p99 = s(&|r| r.echo_podterm.latency.p99 - r.echo_direct.latency.p99);
    row(
        &mut out,
        "p50",
        &[
            s(&|r| r.echo_direct.latency.p50).to_string(),
            s(&|r| r.echo_podterm.latency.p50).to_string(),
            p50.to_string(),
            format!("≤ 0.3: {}", check(p50.median <= 0.3)),
        ],
    );
    row(
        &mut out,
        "p99",
        &[
            s(&|r| r.echo_direct.latency.p99).to_string(),
            s(&|r| r.echo_podterm.latency.p99).to_string(),
            p99.to_string(),
            format!("≤ 2: {}", check(p99.median <= 2.0)),
        ],
    );
    row(
        &mut out,
        "max",
        &[
            s(&|r| r.echo_direct.latency.max).to_string(),
            s(&|r| r.echo_podterm.latency.max).to_string(),
            s(&|r| r.echo_podterm.latency.max - r.echo_direct.latency.max).to_string(),
            String::new(),
        ],
    );

    row(
        &mut out,
        "open → first answer",
        &[
            s(&|r| r.echo_direct.open_ms).to_string(),
            s(&|r| r.echo_podterm.open_ms).to_string(),
            s(&|r| r.echo_podterm.open_ms - r.echo_direct.open_ms).to_string(),
            String::new(),
        ],
    );

    let _ = writeln!(
        out,
        "\n### Output throughput ({} MB to a client reading as fast as it can)\n",
        sizes.throughput_bytes / 1_000_000
    );
    let _ = writeln!(out, "| | direct | podterm | target |");
    let _ = writeln!(out, "|---|---|---|---|");
    let ratio =
        s(&|r| 100.0 * r.throughput_podterm.mb_per_second / r.throughput_direct.mb_per_second);
    row(
        &mut out,
        "MB/s",
        &[
            s(&|r| r.throughput_direct.mb_per_second).to_string(),
            s(&|r| r.throughput_podterm.mb_per_second).to_string(),
            String::new(),
        ],
    );
    row(
        &mut out,
        "podterm / direct, %",
        &[
            String::new(),
            ratio.to_string(),
            format!("≥ 90: {}", check(ratio.median >= 90.0)),
        ],
    );
    row(
        &mut out,
        "podterm CPU s/GB",
        &[
            String::new(),
            s(&|r| r.throughput_podterm.podterm_cpu_per_gb.unwrap_or(f64::NAN)).to_string(),
            String::new(),
        ],
    );
    row(
        &mut out,
        "API server CPU s/GB",
        &[
            s(&|r| r.throughput_direct.cluster_cpu_per_gb).to_string(),
            s(&|r| r.throughput_podterm.cluster_cpu_per_gb).to_string(),
            String::new(),
        ],
    );

    let _ = writeln!(
        out,
        "\n### {} idle + {} busy sessions in one podterm\n",
        sizes.idle, sizes.busy
    );
    let _ = writeln!(out, "| | value | target |");
    let _ = writeln!(out, "|---|---|---|");
    let failures = s(&|r| r.crowd.failures as f64);
    row(
        &mut out,
        "failures",
        &[
            failures.to_string(),
            format!("0: {}", check(failures.max == 0.0)),
        ],
    );
    let per_idle = s(&|r| r.crowd.bytes_per_idle_session / KIB);
    row(
        &mut out,
        "podterm RSS per idle session, KiB",
        &[
            per_idle.to_string(),
            format!("≤ 64: {}", check(per_idle.median <= 64.0)),
        ],
    );
    row(
        &mut out,
        "podterm RSS: before / idle / busy, MiB",
        &[format!(
            "{} / {} / {}",
            s(&|r| r.crowd.rss_before as f64 / MIB),
            s(&|r| r.crowd.rss_idle as f64 / MIB),
            s(&|r| r.crowd.rss_busy as f64 / MIB)
        )],
    );
    row(
        &mut out,
        "seconds to open the idle sessions",
        &[s(&|r| r.crowd.seconds_to_open_idle).to_string()],
    );
    row(
        &mut out,
        "echo under load through podterm, p50 / p99 / max, ms",
        &[format!(
            "{} / {} / {}",
            s(&|r| r.crowd.busy_echo.p50),
            s(&|r| r.crowd.busy_echo.p99),
            s(&|r| r.crowd.busy_echo.max)
        )],
    );
    row(
        &mut out,
        "the same load direct, p50 / p99 / max, ms",
        &[format!(
            "{} / {} / {}",
            s(&|r| r.crowd.busy_echo_direct.p50),
            s(&|r| r.crowd.busy_echo_direct.p99),
            s(&|r| r.crowd.busy_echo_direct.max)
        )],
    );
    for run in runs.iter().filter(|r| r.crowd.first_failure.is_some()) {
        let _ = writeln!(
            out,
            "\nFirst failure: {}",
            run.crowd.first_failure.as_deref().unwrap_or("")
        );
    }

    let _ = writeln!(out, "\n### Page\n");
    let _ = writeln!(out, "| | value | target |");
    let _ = writeln!(out, "|---|---|---|");
    let warm = s(&|r| r.page.warm.p50);
    row(
        &mut out,
        &format!("dashboard, {} pods: cold render, ms", sizes.crowded_pods),
        &[s(&|r| r.page.cold_ms).to_string(), String::new()],
    );
    row(
        &mut out,
        &format!(
            "dashboard, {} pods: warm render (median of {}), ms",
            sizes.crowded_pods, sizes.page_repeats
        ),
        &[
            warm.to_string(),
            format!("≤ 50: {}", check(warm.median <= 50.0)),
        ],
    );
    row(
        &mut out,
        "dashboard HTML, KiB",
        &[
            s(&|r| r.page.html_bytes as f64 / KIB).to_string(),
            String::new(),
        ],
    );
    let browsers: Vec<&Browser> = runs.iter().filter_map(|r| r.browser.as_ref()).collect();
    if let Some(first) = browsers.first() {
        let nav_first = Spread::of(browsers.iter().map(|b| b.first_ms));
        let nav_repeat = Spread::of(browsers.iter().map(|b| b.repeat.p50));
        let bytes = Spread::of(browsers.iter().map(|b| b.assets_gzip as f64 / 1000.0));
        row(
            &mut out,
            "terminal page wasm + js + css, gzip, KB",
            &[
                bytes.to_string(),
                format!("≤ 350: {}", check(bytes.median <= 350.0)),
            ],
        );
        row(
            &mut out,
            "navigation → prompt, empty cache, ms",
            &[
                nav_first.to_string(),
                format!("≤ 300: {}", check(nav_first.median <= 300.0)),
            ],
        );
        row(
            &mut out,
            &format!(
                "navigation → prompt, cached (median of {}), ms",
                sizes.navigations.max(2) - 1
            ),
            &[
                nav_repeat.to_string(),
                format!("≤ 300: {}", check(nav_repeat.median <= 300.0)),
            ],
        );
        let _ = writeln!(out, "\n| asset (first run) | bytes | as sent | encoding |");
        let _ = writeln!(out, "|---|---|---|---|");
        for a in &first.assets {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                a.path,
                a.raw,
                a.gzip,
                a.encoding.as_deref().unwrap_or("none")
            );
        }
    }

    let _ = writeln!(
        out,
        "\n### Flood ({} s of output to a reader that stopped reading)\n",
        sizes.flood_seconds
    );
    let growth = s(&|r| r.flood.growth as f64 / MIB);
    let _ = writeln!(out, "| | value | target |");
    let _ = writeln!(out, "|---|---|---|");
    row(
        &mut out,
        "podterm memory growth, MiB",
        &[
            growth.to_string(),
            format!("≤ 16: {}", check(growth.median <= 16.0)),
        ],
    );
    out
}
