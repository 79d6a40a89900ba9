//! The measurements. Each takes the same calls for both paths, so the only difference
//! between "direct" and "podterm" is podterm.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

use crate::servers::{CONTAINER, CROWDED, NAMESPACE, POD, Podterm, Process};
use crate::stats::Latency;
use crate::terminal::{Endpoints, Path, Read, Terminal};
use crate::{Error, busy};

const PATIENCE: Duration = Duration::from_secs(30);
/// The crowd's sessions open in rounds of this many, through podterm and straight in turns.
const OPEN_ROUND: usize = 100;
/// How often a busy session types: 50 keys a second, faster than any person.
pub const KEYSTROKE: Duration = Duration::from_millis(20);

/// A shell, ready for input: wide enough that the echo test never wraps.
pub async fn shell(ends: &Endpoints, path: Path) -> Result<Terminal, Error> {
    let mut term = ends.open(path, NAMESPACE, POD, CONTAINER, &["sh"]).await?;
    term.resize(1000, 50).await?;
    term.send(b"echo sta''rted\n").await?;
    term.read_until(b"started", PATIENCE).await?;
    Ok(term)
}

/// Sends one byte and waits for its echo, `count` times after `warmup` untimed ones.
pub async fn echo_rounds(
    term: &mut Terminal,
    warmup: usize,
    count: usize,
) -> Result<Vec<Duration>, Error> {
    let mut samples = Vec::with_capacity(count);
    let mut skip_next = false;
    for i in 0..warmup + count {
        // The line discipline holds at most 4095 characters: clear the line now and then,
        // and do not time the round that carries the erase's echo.
        if i % 256 == 255 {
            term.send(b"\x15").await?;
            skip_next = true;
        }
        let started = Instant::now();
        term.send(b"x").await?;
        loop {
            match term.read().await? {
                Read::Output(data) if data.contains(&b'x') => break,
                Read::Output(_) => {}
                Read::Ended(code) => {
                    return Err(format!(
                        "the shell ended (exit code {code:?}) during the echo test"
                    )
                    .into());
                }
            }
        }
        if i >= warmup && !std::mem::take(&mut skip_next) {
            samples.push(started.elapsed());
        }
    }
    Ok(samples)
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Echo {
    /// From connecting to the shell's first answer.
    pub open_ms: f64,
    pub latency: Latency,
}

pub async fn echo(
    ends: &Endpoints,
    path: Path,
    warmup: usize,
    count: usize,
) -> Result<Echo, Error> {
    let started = Instant::now();
    let mut term = shell(ends, path).await?;
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    let samples = echo_rounds(&mut term, warmup, count).await?;
    term.close().await;
    Ok(Echo {
        open_ms,
        latency: Latency::of(&samples),
    })
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Transfer {
    pub bytes: u64,
    pub seconds: f64,
    pub mb_per_second: f64,
    /// podterm's CPU seconds per GB moved (podterm path only).
    pub podterm_cpu_per_gb: Option<f64>,
    /// The API server's CPU seconds per GB, for comparison.
    pub cluster_cpu_per_gb: f64,
}

/// A command writes `bytes` of output; the client reads it as fast as it can.
pub async fn throughput(
    ends: &Endpoints,
    path: Path,
    bytes: u64,
    podterm: &Process,
    cluster: &Process,
) -> Result<Transfer, Error> {
    let script = format!("head -c {bytes} /dev/zero | tr '\\0' x");
    let (podterm_cpu, cluster_cpu) = (podterm.cpu()?, cluster.cpu()?);
    let started = Instant::now();
    let mut term = ends
        .open(path, NAMESPACE, POD, CONTAINER, &["sh", "-c", &script])
        .await?;
    let mut received = 0u64;
    let code = loop {
        match term.read().await? {
            Read::Output(data) => received += data.len() as u64,
            Read::Ended(code) => break code,
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    if received != bytes || code != Some(0) {
        return Err(format!(
            "{}: received {received} of {bytes} bytes, exit code {code:?}",
            path.name()
        )
        .into());
    }
    let gb = bytes as f64 / 1e9;
    Ok(Transfer {
        bytes,
        seconds,
        mb_per_second: bytes as f64 / 1e6 / seconds,
        podterm_cpu_per_gb: (path == Path::Podterm)
            .then(|| podterm.cpu().map(|c| (c - podterm_cpu).as_secs_f64() / gb))
            .transpose()?,
        cluster_cpu_per_gb: (cluster.cpu()? - cluster_cpu).as_secs_f64() / gb,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Crowd {
    pub idle: usize,
    pub busy: usize,
    pub failures: usize,
    pub first_failure: Option<String>,
    pub rss_before: u64,
    pub rss_idle: u64,
    pub rss_busy: u64,
    pub bytes_per_idle_session: f64,
    pub seconds_to_open_idle: f64,
    /// The same number of sessions opened straight at the API server, as many at a time,
    /// in turns with podterm's, a round of 100 each (each then ended with `exit`).
    pub seconds_to_open_direct: f64,
    pub busy_echo: Latency,
    pub busy_echo_direct: Latency,
    /// The same, only the keys that met no stretch in which a kernel thread held a core.
    pub busy_echo_clear: Latency,
    pub busy_echo_direct_clear: Latency,
    /// While the busy sessions were timed through podterm, and straight at the API server.
    pub busy_cpu: busy::BusyCpu,
    pub busy_cpu_direct: busy::BusyCpu,
    /// `/healthz` with the idle sessions open, without and with half-sent requests held.
    pub slowloris: crate::slowloris::Slowloris,
}

/// One idle page through podterm: opens (at most as many at a time as `gate` lets), says
/// so on `ready`, then reads what comes and pings every 20 s until `stop`.
fn idle_page(
    ends: &Endpoints,
    gate: &Arc<tokio::sync::Semaphore>,
    fail: &(impl Fn(Error) + Clone + Send + 'static),
    mut stop: watch::Receiver<bool>,
    ready: tokio::sync::mpsc::Sender<bool>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let (ends, gate, fail) = (ends.clone(), gate.clone(), fail.clone());
    async move {
        let permit = gate.acquire_owned().await;
        let mut term = match shell(&ends, Path::Podterm).await {
            Ok(term) => term,
            Err(e) => {
                fail(e);
                let _ = ready.send(false).await;
                return;
            }
        };
        drop(permit);
        let _ = ready.send(true).await;
        let mut keepalive = tokio::time::interval(Duration::from_secs(20));
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = keepalive.tick() => {
                    if let Err(e) = term.ping().await {
                        fail(e);
                        return;
                    }
                }
                read = term.read() => match read {
                    Ok(Read::Output(_)) => {}
                    Ok(Read::Ended(code)) => {
                        fail(format!("an idle shell ended (exit code {code:?})").into());
                        return;
                    }
                    Err(e) => {
                        fail(e);
                        return;
                    }
                },
            }
        }
        term.close().await;
    }
}

/// How long opening `count` shells straight at the API server takes, 32 at a time as the
/// idle sessions open through podterm; they are ended afterwards, not left lingering.
async fn open_direct(ends: &Endpoints, count: usize) -> Result<f64, Error> {
    let gate = Arc::new(tokio::sync::Semaphore::new(32));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let (ends, gate) = (ends.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            shell(&ends, Path::Direct).await
        }));
    }
    let mut opened = Vec::with_capacity(count);
    for task in tasks {
        opened.push(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    for mut term in opened {
        term.send(b"exit\n").await?;
        let _ = tokio::time::timeout(PATIENCE, async {
            while let Ok(Read::Output(_)) = term.read().await {}
        })
        .await;
        term.close().await;
    }
    Ok(seconds)
}

/// `idle` open shells that only keep alive, then `busy` more through podterm and as many
/// straight at the API server, each path echoing for `busy_time` in turns (`busy`).
/// Meanwhile, `/healthz` (`half_sent.1` times) while `half_sent.0` half-sent requests are held.
pub async fn crowd(
    ends: &Endpoints,
    podterm: &Podterm,
    cluster: &Process,
    idle: usize,
    busy: usize,
    busy_time: Duration,
    half_sent: (usize, usize),
) -> Result<Crowd, Error> {
    // Warm up the process (runtime threads, client pools) before the baseline.
    for _ in 0..4 {
        shell(ends, Path::Podterm).await?.close().await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = podterm.process.rss()?;

    let failures = Arc::new(AtomicUsize::new(0));
    let first_failure = Arc::new(std::sync::Mutex::new(None::<String>));
    let fail = {
        let (failures, first_failure) = (failures.clone(), first_failure.clone());
        move |e: Error| {
            failures.fetch_add(1, Ordering::Relaxed);
            first_failure
                .lock()
                .unwrap()
                .get_or_insert_with(|| e.to_string());
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(tokio::sync::Semaphore::new(32));
    let mut idle_tasks = Vec::new();
    // Both paths open in turns, a round at a time (the order swapped each round), so both
    // open beside as many open sessions and in the same minutes.
    let (mut seconds_to_open_idle, mut seconds_to_open_direct) = (0.0, 0.0);
    for round in 0..idle.div_ceil(OPEN_ROUND) {
        let count = OPEN_ROUND.min(idle - round * OPEN_ROUND);
        let direct_first = round % 2 == 0;
        if direct_first {
            seconds_to_open_direct += open_direct(ends, count).await?;
        }
        let opening = Instant::now();
        // One channel per round: it closes once the round's pages have all said or ended.
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<bool>(count);
        for _ in 0..count {
            let page = idle_page(ends, &gate, &fail, stop_rx.clone(), ready_tx.clone());
            idle_tasks.push(tokio::spawn(page));
        }
        drop(ready_tx);
        for _ in 0..count {
            if ready_rx.recv().await.is_none() {
                break;
            }
        }
        seconds_to_open_idle += opening.elapsed().as_secs_f64();
        if !direct_first {
            seconds_to_open_direct += open_direct(ends, count).await?;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = podterm.process.rss()?;
    let slowloris = crate::slowloris::measure(podterm, half_sent.0, half_sent.1).await?;

    let mut rss_busy = 0;
    let watched = busy::Watched {
        podterm: &podterm.process,
        cluster,
    };
    let [through_podterm, direct] =
        busy::phase(ends, watched, busy, busy_time, &fail, &mut rss_busy).await;
    let _ = stop_tx.send(true);
    for task in idle_tasks {
        let _ = task.await;
    }
    let first_failure = first_failure.lock().unwrap().clone();
    Ok(Crowd {
        idle,
        busy,
        failures: failures.load(Ordering::Relaxed),
        first_failure,
        rss_before,
        rss_idle,
        rss_busy,
        bytes_per_idle_session: (rss_idle.saturating_sub(rss_before)) as f64 / idle.max(1) as f64,
        seconds_to_open_idle,
        seconds_to_open_direct,
        busy_echo: through_podterm.echo,
        busy_echo_direct: direct.echo,
        busy_echo_clear: through_podterm.echo_clear,
        busy_echo_direct_clear: direct.echo_clear,
        busy_cpu: through_podterm.cpu,
        busy_cpu_direct: direct.cpu,
        slowloris,
    })
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Flood {
    pub seconds: f64,
    pub rss_before: u64,
    pub rss_peak: u64,
    pub growth: u64,
}

/// A command floods output while the reader has stopped reading.
pub async fn flood(ends: &Endpoints, podterm: &Process, stalled: Duration) -> Result<Flood, Error> {
    let rss_before = podterm.rss()?;
    let mut term = ends
        .open(
            Path::Podterm,
            NAMESPACE,
            POD,
            CONTAINER,
            &["sh", "-c", "yes flood"],
        )
        .await?;
    term.read_until(b"flood", PATIENCE).await?;
    let started = Instant::now();
    let mut rss_peak = rss_before;
    while started.elapsed() < stalled {
        tokio::time::sleep(Duration::from_millis(200)).await;
        rss_peak = rss_peak.max(podterm.rss()?);
    }
    // Ctrl-C still gets through; then read the rest and end the session.
    term.send(b"\x03").await?;
    term.close().await;
    Ok(Flood {
        seconds: stalled.as_secs_f64(),
        rss_before,
        rss_peak,
        growth: rss_peak.saturating_sub(rss_before),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub pods: usize,
    pub cold_ms: f64,
    pub warm: Latency,
    pub html_bytes: usize,
}

/// The dashboard for the crowded namespace: the first render of this podterm process, then
/// `repeats` more.
pub async fn page(podterm: &Podterm, pods: usize, repeats: usize) -> Result<Page, Error> {
    let path = format!("/?namespace={CROWDED}");
    let get = || crate::http::get(podterm.addr, &path, Some(&podterm.token));
    let first = get().await?;
    let check = |r: &crate::http::Response| -> Result<(), Error> {
        let body = String::from_utf8_lossy(&r.body);
        if r.status != 200 || !body.contains("worker-00000") {
            return Err(format!(
                "the dashboard for {CROWDED} did not list its pods (HTTP {})",
                r.status
            )
            .into());
        }
        Ok(())
    };
    check(&first)?;
    let mut warm = Vec::new();
    for _ in 0..repeats {
        let r = get().await?;
        check(&r)?;
        warm.push(r.elapsed);
    }
    Ok(Page {
        pods,
        cold_ms: first.elapsed.as_secs_f64() * 1e3,
        warm: Latency::of(&warm),
        html_bytes: first.body.len(),
    })
}
