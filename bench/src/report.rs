//! The browser measurements (a Playwright script) and the Markdown summary of all runs.

use std::fmt::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::servers::Podterm;
use crate::stats::{Latency, Spread};
use crate::{Error, Run, Sizes, measure};

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
    /// Navigation to prompt with an empty HTTP cache, each in a new browser context.
    pub cold: Latency,
    /// Visits after those, cached.
    pub repeat: Latency,
    /// Empty-cache visits that navigate as soon as their new window is open, while Chromium
    /// still builds the window's own interface: the benchmark's method before it waited.
    pub unsettled: Latency,
    /// The machine's speed during the visits: a fixed loop in Node, timed before each.
    pub probe: Latency,
    /// When each step on the way to the prompt happened, per settled visit.
    pub steps: crate::steps::Visits,
    pub assets: Vec<Asset>,
    pub assets_gzip: usize,
}

#[derive(Deserialize)]
struct Script {
    cold: Vec<f64>,
    times: Vec<f64>,
    unsettled: Vec<f64>,
    #[serde(default)]
    probes: Vec<f64>,
    #[serde(default)]
    steps: crate::steps::Visits,
    resources: Vec<Resource>,
}

#[derive(Deserialize)]
struct Resource {
    url: String,
}

/// A table of `assets`, each as built and as sent; `title` heads its first column.
pub fn asset_table(out: &mut String, title: &str, assets: &[Asset]) {
    let _ = writeln!(out, "| {title} | bytes | as sent | encoding |");
    let _ = writeln!(out, "|---|---|---|---|");
    for a in assets {
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

/// Runs a browser measurement's script and reads the JSON it prints. `what`: the
/// measurement, for the errors.
pub async fn run_script<T: serde::de::DeserializeOwned>(
    mut node: tokio::process::Command,
    what: &str,
) -> Result<T, Error> {
    let output = node.output().await.map_err(|e| {
        format!("cannot run node (the {what} measurement needs Node.js and Playwright): {e}")
    })?;
    if !output.status.success() {
        return Err(format!(
            "the {what} measurement failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "the {what} measurement printed no result ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?)
}

pub async fn browser(
    podterm: &Podterm,
    (cold, cached): (usize, usize),
    target: &str,
) -> Result<Browser, Error> {
    let mut node = tokio::process::Command::new("node");
    node.arg("end2end/bench/navigation.mjs")
        .env("PODTERM_URL", format!("http://{}", podterm.addr))
        .env("PODTERM_TOKEN", &podterm.token)
        .env("TERMINAL_PATH", target)
        .env("COLD_RUNS", cold.max(1).to_string())
        .env("RUNS", cached.max(1).to_string());
    let script: Script = run_script(node, "browser").await?;
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
        assets.push(asset(podterm, &path).await?);
    }
    let durations = |ms: &[f64]| -> Vec<Duration> {
        ms.iter()
            .map(|ms| Duration::from_secs_f64(ms / 1e3))
            .collect()
    };
    Ok(Browser {
        cold: Latency::of(&durations(&script.cold)),
        repeat: Latency::of(&durations(&script.times)),
        unsettled: Latency::of(&durations(&script.unsettled)),
        probe: Latency::of(&durations(&script.probes)),
        steps: script.steps,
        assets_gzip: assets.iter().map(|a| a.gzip).sum(),
        assets,
    })
}

/// `path` fetched as it is and with `Accept-Encoding: gzip`, counted as sent.
pub async fn asset(podterm: &Podterm, path: &str) -> Result<Asset, Error> {
    let raw = crate::http::request(podterm.addr, path, Some(&podterm.token), None).await?;
    let gzip = crate::http::request(podterm.addr, path, Some(&podterm.token), Some("gzip")).await?;
    Ok(Asset {
        path: path.to_string(),
        raw: raw.body.len(),
        gzip: gzip.body.len(),
        encoding: gzip.content_encoding,
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

/// The values of one measurement over the runs that have it.
fn over<T>(runs: &[Run], part: impl Fn(&Run) -> Option<&T>) -> Vec<&T> {
    runs.iter().filter_map(part).collect()
}

fn spread<T>(items: &[&T], value: impl Fn(&T) -> f64) -> Spread {
    Spread::of(items.iter().map(|t| value(t)))
}

fn table(out: &mut String, title: &str, columns: &[&str]) {
    let _ = writeln!(out, "\n### {title}\n");
    let _ = writeln!(out, "| | {} |", columns.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(columns.len()));
}

/// Medians over the runs, with the range in parentheses.
pub fn markdown(sizes: &Sizes, runs: &[Run], api_server: crate::ApiServer) -> String {
    let mut out = String::new();
    let through = match api_server {
        crate::ApiServer::Testcluster => "the testcluster's API server".to_string(),
        crate::ApiServer::Real => format!(
            "the real kube-apiserver {} (the testcluster as its node)",
            testenv::kubernetes_version()
        ),
    };
    let _ = writeln!(
        out,
        "{} run(s) through {through}; each cell is the median, with the range over runs in \
         parentheses.",
        runs.len()
    );

    let echo = over(runs, |r| r.echo.as_ref());
    if !echo.is_empty() {
        table(
            &mut out,
            &format!(
                "Echo latency ({} round trips after {} warm-up, ms)",
                sizes.round_trips, sizes.warmup
            ),
            &["direct", "podterm", "podterm adds", "target"],
        );
        let lat = |f: fn(&Latency) -> f64| {
            [
                spread(&echo, |(d, _)| f(&d.latency)),
                spread(&echo, |(_, p)| f(&p.latency)),
                spread(&echo, |(d, p)| f(&p.latency) - f(&d.latency)),
            ]
        };
        let [d, p, add] = lat(|l| l.p50);
        row(
            &mut out,
            "p50",
            &[
                d.to_string(),
                p.to_string(),
                add.to_string(),
                format!("≤ 0.3: {}", check(add.median <= 0.3)),
            ],
        );
        let [d, p, add] = lat(|l| l.p99);
        row(
            &mut out,
            "p99",
            &[
                d.to_string(),
                p.to_string(),
                add.to_string(),
                format!("≤ 2: {}", check(add.median <= 2.0)),
            ],
        );
        let [d, p, add] = lat(|l| l.max);
        row(
            &mut out,
            "max",
            &[d.to_string(), p.to_string(), add.to_string(), String::new()],
        );
        row(
            &mut out,
            "open → first answer",
            &[
                spread(&echo, |(d, _)| d.open_ms).to_string(),
                spread(&echo, |(_, p)| p.open_ms).to_string(),
                spread(&echo, |(d, p)| p.open_ms - d.open_ms).to_string(),
                String::new(),
            ],
        );
    }

    let throughput = over(runs, |r| r.throughput.as_ref());
    if !throughput.is_empty() {
        table(
            &mut out,
            &format!(
                "Output throughput ({} MB to a client reading as fast as it can)",
                sizes.throughput_bytes / 1_000_000
            ),
            &["direct", "podterm", "target"],
        );
        let ratio = spread(&throughput, |(d, p)| {
            100.0 * p.mb_per_second / d.mb_per_second
        });
        row(
            &mut out,
            "MB/s",
            &[
                spread(&throughput, |(d, _)| d.mb_per_second).to_string(),
                spread(&throughput, |(_, p)| p.mb_per_second).to_string(),
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
                spread(&throughput, |(_, p)| {
                    p.podterm_cpu_per_gb.unwrap_or(f64::NAN)
                })
                .to_string(),
                String::new(),
            ],
        );
        row(
            &mut out,
            "API server CPU s/GB",
            &[
                spread(&throughput, |(d, _)| d.cluster_cpu_per_gb).to_string(),
                spread(&throughput, |(_, p)| p.cluster_cpu_per_gb).to_string(),
                String::new(),
            ],
        );
    }

    let crowd = over(runs, |r| r.crowd.as_ref());
    if !crowd.is_empty() {
        table(
            &mut out,
            &format!(
                "{} idle + {} busy sessions in one podterm",
                sizes.idle, sizes.busy
            ),
            &["value", "target"],
        );
        let failures = spread(&crowd, |c| c.failures as f64);
        row(
            &mut out,
            "failures",
            &[
                failures.to_string(),
                format!("0: {}", check(failures.max == 0.0)),
            ],
        );
        let per_idle = spread(&crowd, |c| c.bytes_per_idle_session / KIB);
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
            "podterm RSS before / idle / busy, MiB",
            &[
                format!(
                    "{} / {} / {}",
                    spread(&crowd, |c| c.rss_before as f64 / MIB),
                    spread(&crowd, |c| c.rss_idle as f64 / MIB),
                    spread(&crowd, |c| c.rss_busy as f64 / MIB)
                ),
                String::new(),
            ],
        );
        row(
            &mut out,
            "seconds to open the idle sessions, 32 at a time: through podterm",
            &[
                spread(&crowd, |c| c.seconds_to_open_idle).to_string(),
                String::new(),
            ],
        );
        row(
            &mut out,
            "the same number opened straight at the API server, in turns with podterm's",
            &[
                spread(&crowd, |c| c.seconds_to_open_direct).to_string(),
                String::new(),
            ],
        );
        let rate = spread(&crowd, |c| {
            100.0 * c.seconds_to_open_direct / c.seconds_to_open_idle.max(f64::EPSILON)
        });
        row(
            &mut out,
            "podterm's opening rate as % of the direct rate",
            &[
                rate.to_string(),
                format!("≥ 80: {}", check(rate.median >= 80.0)),
            ],
        );
        let lat = |f: fn(&measure::Crowd) -> &Latency| {
            format!(
                "{} / {} / {}",
                spread(&crowd, |c| f(c).p50),
                spread(&crowd, |c| f(c).p99),
                spread(&crowd, |c| f(c).max)
            )
        };
        row(
            &mut out,
            &format!(
                "echo under load, a key every {} ms per busy session (spread over the interval), through podterm: p50 / p99 / max, ms",
                measure::KEYSTROKE.as_millis()
            ),
            &[lat(|c| &c.busy_echo), String::new()],
        );
        row(
            &mut out,
            "the same load straight to the API server, in turns with podterm's, ms",
            &[lat(|c| &c.busy_echo_direct), String::new()],
        );
        crowd_costs(&mut out, &crowd);
        row(
            &mut out,
            "/healthz with the idle sessions open: p50 / p99 / max, ms",
            &[lat(|c| &c.slowloris.healthz), String::new()],
        );
        let unanswered = spread(&crowd, |c| c.slowloris.healthz_failures as f64);
        row(
            &mut out,
            &format!(
                "the same while 127.0.0.2 holds {} half-sent requests ({} held), ms",
                sizes.half_sent,
                spread(&crowd, |c| c.slowloris.held as f64)
            ),
            &[
                lat(|c| &c.slowloris.healthz_held),
                format!("all answered: {}", check(unanswered.max == 0.0)),
            ],
        );
        for c in crowd.iter().filter(|c| c.first_failure.is_some()) {
            let _ = writeln!(
                out,
                "\nFirst failure: {}",
                c.first_failure.as_deref().unwrap_or("")
            );
        }
    }

    let page = over(runs, |r| r.page.as_ref());
    let browser = over(runs, |r| r.browser.as_ref());
    if !page.is_empty() || !browser.is_empty() {
        table(&mut out, "Page", &["value", "target"]);
    }
    if !page.is_empty() {
        let warm = spread(&page, |p| p.warm.p50);
        row(
            &mut out,
            &format!("dashboard, {} pods: first render, ms", sizes.crowded_pods),
            &[spread(&page, |p| p.cold_ms).to_string(), String::new()],
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
                spread(&page, |p| p.html_bytes as f64 / KIB).to_string(),
                String::new(),
            ],
        );
    }
    if let Some(first) = browser.first() {
        let bytes = spread(&browser, |b| b.assets_gzip as f64 / 1000.0);
        let nav_first = spread(&browser, |b| b.cold.p50);
        let nav_repeat = spread(&browser, |b| b.repeat.p50);
        let nav_unsettled = spread(&browser, |b| b.unsettled.p50);
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
            &format!(
                "navigation → prompt, empty cache (median of {}), ms",
                sizes.cold_navigations.max(1)
            ),
            &[
                nav_first.to_string(),
                format!("≤ 300: {}", check(nav_first.median <= 300.0)),
            ],
        );
        row(
            &mut out,
            &format!(
                "navigation → prompt, cached (median of {}), ms",
                sizes.navigations.max(1)
            ),
            &[
                nav_repeat.to_string(),
                format!("≤ 300: {}", check(nav_repeat.median <= 300.0)),
            ],
        );
        row(
            &mut out,
            &format!(
                "the same, empty cache, navigating as soon as a new window is open (median of {}), ms",
                sizes.cold_navigations.max(1)
            ),
            &[nav_unsettled.to_string(), String::new()],
        );
        row(
            &mut out,
            "the machine's speed meanwhile: a fixed loop in Node before each visit (median), ms",
            &[spread(&browser, |b| b.probe.p50).to_string(), String::new()],
        );
        let steps: Vec<_> = browser.iter().map(|b| &b.steps).collect();
        crate::steps::table(&mut out, &steps, (nav_first, nav_repeat));
        out.push('\n');
        asset_table(&mut out, "asset (first run)", &first.assets);
    }

    crate::render::markdown(&mut out, runs);

    let logs = over(runs, |r| r.logs.as_ref());
    if !logs.is_empty() {
        table(
            &mut out,
            &format!(
                "Log follow ({} MB from the log's start, follow=true, read as fast as possible)",
                sizes.log_bytes / 1_000_000
            ),
            &["direct", "podterm", "target"],
        );
        let direct = spread(&logs, |l| l.0.mb_per_s);
        let podterm = spread(&logs, |l| l.1.mb_per_s);
        row(
            &mut out,
            "MB/s",
            &[direct.to_string(), podterm.to_string(), String::new()],
        );
        let growth = spread(&logs, |l| {
            l.1.rss_peak.saturating_sub(l.1.rss_before) as f64 / MIB
        });
        row(
            &mut out,
            "podterm memory growth while following, MiB",
            &[
                String::new(),
                growth.to_string(),
                format!("≤ 16 (flat): {}", check(growth.median <= 16.0)),
            ],
        );
        let cpu = spread(&logs, |l| l.1.podterm_cpu_per_gb);
        row(
            &mut out,
            "podterm CPU s/GB",
            &[String::new(), cpu.to_string(), String::new()],
        );
        let stall = spread(&logs, |l| {
            l.2.rss_peak.saturating_sub(l.2.rss_before) as f64 / MIB
        });
        row(
            &mut out,
            &format!(
                "podterm memory growth, a log reader stopped for {} s, MiB",
                sizes.log_stall_seconds
            ),
            &[
                String::new(),
                stall.to_string(),
                format!("≤ 16: {}", check(stall.median <= 16.0)),
            ],
        );
    }
    let files = over(runs, |r| r.files.as_ref());
    if !files.is_empty() {
        files_table(&mut out, &files);
    }
    let flood = over(runs, |r| r.flood.as_ref());
    if !flood.is_empty() {
        table(
            &mut out,
            &format!(
                "Flood ({} s of output to a reader that stopped reading)",
                sizes.flood_seconds
            ),
            &["value", "target"],
        );
        let growth = spread(&flood, |f| f.growth as f64 / MIB);
        row(
            &mut out,
            "podterm memory growth, MiB",
            &[
                growth.to_string(),
                format!("≤ 16: {}", check(growth.median <= 16.0)),
            ],
        );
    }
    out
}

/// One file up and down, `kubectl cp` beside podterm.
fn files_table(out: &mut String, files: &[&crate::files::Files]) {
    use crate::files::{Files, Transfer};
    let first = files[0];
    table(
        out,
        &format!(
            "File transfer ({} MB of random bytes, up and down; kubectl: {})",
            first.bytes / 1_000_000,
            first.kubectl_version
        ),
        &["kubectl cp", "podterm", "podterm / kubectl cp, %", "target"],
    );
    let direction = |out: &mut String,
                     what: &str,
                     kubectl: fn(&Files) -> &Transfer,
                     podterm: fn(&Files) -> &Transfer| {
        let ratio = spread(files, |f| 100.0 * podterm(f).mb_per_s / kubectl(f).mb_per_s);
        row(
            out,
            &format!("{what}, MB/s"),
            &[
                spread(files, |f| kubectl(f).mb_per_s).to_string(),
                spread(files, |f| podterm(f).mb_per_s).to_string(),
                ratio.to_string(),
                format!("≥ 80: {}", check(ratio.median >= 80.0)),
            ],
        );
        let growth = spread(files, |f| {
            podterm(f).growth().map_or(f64::NAN, |g| g as f64 / MIB)
        });
        row(
            out,
            &format!("{what}: podterm memory growth, MiB"),
            &[
                String::new(),
                growth.to_string(),
                String::new(),
                format!("≤ 32: {}", check(growth.max <= 32.0)),
            ],
        );
        row(
            out,
            &format!("{what}: podterm CPU s/GB"),
            &[
                String::new(),
                spread(files, |f| podterm(f).podterm_cpu_per_gb.unwrap_or(f64::NAN)).to_string(),
                String::new(),
                String::new(),
            ],
        );
    };
    direction(out, "upload", |f| &f.kubectl_up, |f| &f.podterm_up);
    row(
        out,
        "upload: API server CPU s/GB",
        &[
            spread(files, |f| f.kubectl_up.cluster_cpu_per_gb).to_string(),
            spread(files, |f| f.podterm_up.cluster_cpu_per_gb).to_string(),
            String::new(),
            String::new(),
        ],
    );
    row(
        out,
        "upload: seconds, whole / until the body was sent",
        &[
            spread(files, |f| f.kubectl_up.seconds).to_string(),
            format!(
                "{} / {}",
                spread(files, |f| f.podterm_up.seconds),
                spread(files, |f| f.podterm_up.body_seconds.unwrap_or(f64::NAN))
            ),
            String::new(),
            String::new(),
        ],
    );
    direction(
        out,
        "upload from Chromium's Files tab",
        |f| &f.kubectl_up,
        |f| &f.browser_up,
    );
    direction(out, "download", |f| &f.kubectl_down, |f| &f.podterm_down);
    row(
        out,
        "download: API server CPU s/GB",
        &[
            spread(files, |f| f.kubectl_down.cluster_cpu_per_gb).to_string(),
            spread(files, |f| f.podterm_down.cluster_cpu_per_gb).to_string(),
            String::new(),
            String::new(),
        ],
    );
}

/// What podterm adds to the echo under load, and the CPU it uses for that traffic beside
/// the API server's.
fn crowd_costs(out: &mut String, crowd: &[&measure::Crowd]) {
    let added_p50 = spread(crowd, |c| c.busy_echo.p50 - c.busy_echo_direct.p50);
    let added_p99 = spread(crowd, |c| c.busy_echo.p99 - c.busy_echo_direct.p99);
    row(
        out,
        "podterm adds under load: p50 / p99, ms",
        &[
            format!("{added_p50} / {added_p99}"),
            format!(
                "≤ 1 / ≤ 5: {}",
                check(added_p50.median <= 1.0 && added_p99.median <= 5.0)
            ),
        ],
    );
    let clear_p50 = spread(crowd, |c| {
        c.busy_echo_clear.p50 - c.busy_echo_direct_clear.p50
    });
    let clear_p99 = spread(crowd, |c| {
        c.busy_echo_clear.p99 - c.busy_echo_direct_clear.p99
    });
    let kept =
        |clear: &Latency, all: &Latency| 100.0 * clear.samples as f64 / all.samples.max(1) as f64;
    row(
        out,
        "the same, keys that met no stretch of a kernel thread holding a core: p50 / p99, ms (share of podterm's keys / the direct ones, %)",
        &[
            format!(
                "{clear_p50} / {clear_p99} ({} / {})",
                spread(crowd, |c| kept(&c.busy_echo_clear, &c.busy_echo)),
                spread(crowd, |c| kept(
                    &c.busy_echo_direct_clear,
                    &c.busy_echo_direct
                ))
            ),
            String::new(),
        ],
    );
    row(
        out,
        "CPU while the busy sessions were timed through podterm: podterm / API server, s",
        &[
            format!(
                "{} / {}",
                spread(crowd, |c| c.busy_cpu.podterm),
                spread(crowd, |c| c.busy_cpu.cluster)
            ),
            String::new(),
        ],
    );
    row(
        out,
        "the API server's CPU for the same load straight to it, s",
        &[
            spread(crowd, |c| c.busy_cpu_direct.cluster).to_string(),
            String::new(),
        ],
    );
    row(
        out,
        "the kernel's own threads meanwhile (memory reclaim among them), in podterm's turns / the direct ones, s",
        &[
            format!(
                "{} / {}",
                spread(crowd, |c| c.busy_cpu.kernel),
                spread(crowd, |c| c.busy_cpu_direct.kernel)
            ),
            String::new(),
        ],
    );
    row(
        out,
        "the machine's cores busy (the host's steal among it), in podterm's turns / the direct ones, %",
        &[
            format!(
                "{} / {}",
                spread(crowd, |c| c.busy_cpu.machine_load()),
                spread(crowd, |c| c.busy_cpu_direct.machine_load())
            ),
            String::new(),
        ],
    );
    let share = spread(crowd, |c| {
        100.0 * c.busy_cpu.podterm / c.busy_cpu.cluster.max(f64::EPSILON)
    });
    row(
        out,
        "podterm's CPU as % of the API server's, same traffic",
        &[
            share.to_string(),
            format!("≤ 50: {}", check(share.median <= 50.0)),
        ],
    );
    row(
        out,
        "podterm's CPU per echoed key (its keystroke, the echo, the page's ack), µs",
        &[
            spread(crowd, |c| {
                1e6 * c.busy_cpu.podterm / (c.busy_echo.samples.max(1) as f64)
            })
            .to_string(),
            String::new(),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{Files, Transfer};

    fn transfer(mb_per_s: f64, growth_mib: Option<u64>) -> Transfer {
        Transfer {
            bytes: 1_000_000_000,
            seconds: 1000.0 / mb_per_s,
            mb_per_s,
            rss_before: growth_mib.map(|_| 20 << 20),
            rss_peak: growth_mib.map(|g| (20 + g) << 20),
            podterm_cpu_per_gb: growth_mib.map(|_| 1.5),
            cluster_cpu_per_gb: 2.0,
            body_seconds: growth_mib.map(|_| 5.0),
        }
    }

    #[test]
    fn the_files_table_sets_podterm_beside_kubectl_cp() {
        let run = Run {
            files: Some(Files {
                bytes: 1_000_000_000,
                kubectl_version: "Client Version: v1.37.2".into(),
                kubectl_up: transfer(100.0, None),
                kubectl_down: transfer(200.0, None),
                podterm_up: transfer(90.0, Some(4)),
                podterm_down: transfer(100.0, Some(40)),
                browser_up: transfer(85.0, Some(3)),
            }),
            ..Run::default()
        };
        let text = markdown(&Sizes::quick(), &[run], crate::ApiServer::Testcluster);
        assert!(text.contains("### File transfer (1000 MB"), "{text}");
        assert!(
            text.contains("| upload, MB/s | 100 | 90.0 | 90.0 | ≥ 80: met |"),
            "{text}"
        );
        assert!(
            text.contains("| download, MB/s | 200 | 100 | 50.0 | ≥ 80: **missed** |"),
            "{text}"
        );
        assert!(
            text.contains("| upload: podterm memory growth, MiB |  | 4.00 |  | ≤ 32: met |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| download: podterm memory growth, MiB |  | 40.0 |  | ≤ 32: **missed** |"
            ),
            "{text}"
        );
        assert!(text.contains("| 10.0 | 11.1 / 5.00 |"), "{text}");
        assert!(
            text.contains(
                "| upload from Chromium's Files tab, MB/s | 100 | 85.0 | 85.0 | ≥ 80: met |"
            ),
            "{text}"
        );
    }
}
