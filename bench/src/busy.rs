//! The crowd's busy phase: shells typing a key every 20 ms and timing its echo, through
//! podterm and straight at the API server in alternating slices of a second. Both paths'
//! shells are open for the whole phase and type in turn, so the two are measured under
//! the same open sessions and in the same minutes: a virtual machine's speed drifts with
//! its host's load, and two phases one after the other measured that drift too.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Barrier, watch};
use tokio::time::Instant;

use crate::Error;
use crate::held::Held;
use crate::measure::{KEYSTROKE, echo_rounds, shell};
use crate::servers::{MachineCpu, Process, kernel_threads_cpu};
use crate::stats::Latency;
use crate::terminal::{Endpoints, Path};

/// How long one path types before the other's turn.
const SLICE: Duration = Duration::from_secs(1);
/// Between turns, so the last echoes of one path are back before the other types.
const GAP: Duration = Duration::from_millis(100);

/// CPU seconds used while the busy sessions were timed.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct BusyCpu {
    /// podterm's (0 on the direct path).
    pub podterm: f64,
    /// The API server's (with the testcluster, its node's work too).
    pub cluster: f64,
    /// The kernel's own threads' (memory reclaim among them): the machine's share that
    /// neither path asked for, which both wait behind.
    pub kernel: f64,
    /// The whole machine's, all cores: busy, taken by the host, and the cores' whole time.
    pub machine_busy: f64,
    pub machine_stolen: f64,
    pub machine_all: f64,
}

impl BusyCpu {
    /// How busy the machine's cores were, in %: busy or taken by the host.
    pub fn machine_load(&self) -> f64 {
        100.0 * (self.machine_busy + self.machine_stolen) / self.machine_all.max(f64::EPSILON)
    }

    /// Adds what was used between two readings (a counter that went back, as a kernel
    /// thread's sum does when one ends, adds nothing).
    fn add_between(&mut self, before: &BusyCpu, after: &BusyCpu) {
        let used = |field: fn(&BusyCpu) -> f64| (field(after) - field(before)).max(0.0);
        self.podterm += used(|c| c.podterm);
        self.cluster += used(|c| c.cluster);
        self.kernel += used(|c| c.kernel);
        self.machine_busy += used(|c| c.machine_busy);
        self.machine_stolen += used(|c| c.machine_stolen);
        self.machine_all += used(|c| c.machine_all);
    }
}

/// One path's share of the busy phase.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    pub echo: Latency,
    /// The keys that met no stretch in which a kernel thread held a core (`held`).
    pub echo_clear: Latency,
    pub cpu: BusyCpu,
}

/// The processes whose CPU the busy phase reads.
pub struct Watched<'a> {
    pub podterm: &'a Process,
    pub cluster: &'a Process,
}

impl Watched<'_> {
    /// The CPU time used so far, each counter read now.
    fn cpu(&self, path: Path) -> BusyCpu {
        let podterm = match path {
            Path::Podterm => self.podterm.cpu().unwrap_or_default(),
            Path::Direct => Duration::ZERO,
        };
        let machine = MachineCpu::now();
        BusyCpu {
            podterm: podterm.as_secs_f64(),
            cluster: self.cluster.cpu().unwrap_or_default().as_secs_f64(),
            kernel: kernel_threads_cpu().as_secs_f64(),
            machine_busy: machine.busy.as_secs_f64(),
            machine_stolen: machine.stolen.as_secs_f64(),
            machine_all: machine.all.as_secs_f64(),
        }
    }
}

/// Whose turn it is to type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Turn {
    Waiting,
    Type(Path, Instant),
    Done,
}

const PATHS: [Path; 2] = [Path::Podterm, Path::Direct];

/// `busy` shells per path, each path typing for `time` in all, in turns; podterm's peak
/// RSS meanwhile into `rss`. Returns podterm's share, then the direct one.
pub async fn phase(
    ends: &Endpoints,
    watched: Watched<'_>,
    busy: usize,
    time: Duration,
    fail: &(impl Fn(Error) + Clone + Send + 'static),
    rss: &mut u64,
) -> [Timed; 2] {
    let opened = Arc::new(Barrier::new(PATHS.len() * busy + 1));
    let (turn_tx, turn_rx) = watch::channel(Turn::Waiting);
    let mut tasks = Vec::new();
    for (index, path) in PATHS.into_iter().enumerate() {
        for n in 0..busy {
            let (ends, opened, turn) = (ends.clone(), opened.clone(), turn_rx.clone());
            let offset = KEYSTROKE.mul_f64(n as f64 / busy as f64);
            let typing = typist(ends, path, offset, opened, turn);
            tasks.push((index, tokio::spawn(typing)));
        }
    }
    let turns = async {
        opened.wait().await;
        let mut cpu = [BusyCpu::default(); 2];
        let slices = (time.as_millis() / SLICE.as_millis()).max(1);
        for slice in 0..slices as usize * PATHS.len() {
            let index = slice % PATHS.len();
            let before = watched.cpu(PATHS[index]);
            let until = Instant::now() + SLICE;
            turn_tx.send_replace(Turn::Type(PATHS[index], until));
            tokio::time::sleep_until(until + GAP).await;
            cpu[index].add_between(&before, &watched.cpu(PATHS[index]));
        }
        turn_tx.send_replace(Turn::Done);
        cpu
    };
    let sampler = async {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            *rss = (*rss).max(watched.podterm.rss().unwrap_or(0));
        }
    };
    let mut held = Held::default();
    let cpu = tokio::select! {
        cpu = turns => cpu,
        () = sampler => unreachable!("the sampler never ends"),
        () = held.watch() => unreachable!("the watch never ends"),
    };
    let mut samples = [Vec::new(), Vec::new()];
    for (index, task) in tasks {
        match task.await {
            Ok(Ok(s)) => samples[index].extend(s),
            Ok(Err(e)) => fail(e),
            Err(e) => fail(e.to_string().into()),
        }
    }
    [0, 1].map(|i| {
        let all: Vec<Duration> = samples[i].iter().map(|&(_, took)| took).collect();
        let clear: Vec<Duration> = samples[i]
            .iter()
            .filter(|&&(at, took)| !held.met(at, took))
            .map(|&(_, took)| took)
            .collect();
        Timed {
            echo: Latency::of(&all),
            echo_clear: Latency::of(&clear),
            cpu: cpu[i],
        }
    })
}

/// One busy shell: opens (and warms up), waits until every shell is open, then types in
/// its path's turns until the phase is done, its keys `offset` into each 20 ms: the
/// shells' keys are spread evenly over the 20 ms, as people's keys do not all come in the
/// same millisecond (in step, each key waited behind the whole burst's). Timing starts once all are open: the load is
/// the sessions, not their start-up; the shells close only when every turn is over, since
/// an end costs the pod a clean-up exec.
async fn typist(
    ends: Endpoints,
    path: Path,
    offset: Duration,
    opened: Arc<Barrier>,
    mut turn: watch::Receiver<Turn>,
) -> Result<Vec<(Instant, Duration)>, Error> {
    let term = async {
        let mut term = shell(&ends, path).await?;
        echo_rounds(&mut term, 20, 0).await?;
        Ok::<_, Error>(term)
    }
    .await;
    opened.wait().await;
    let mut term = term?;
    let mut samples = Vec::new();
    let typed = async {
        while let Some(until) = my_turn(&mut turn, path).await {
            let mut keys = tokio::time::interval_at(Instant::now() + offset, KEYSTROKE);
            keys.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                keys.tick().await;
                if Instant::now() >= until {
                    break;
                }
                let at = Instant::now();
                samples.extend(
                    echo_rounds(&mut term, 0, 1)
                        .await?
                        .into_iter()
                        .map(|d| (at, d)),
                );
            }
        }
        Ok::<_, Error>(())
    }
    .await;
    term.close().await;
    typed.map(|()| samples)
}

/// Waits for `path`'s next turn and says when it ends; `None` once the phase is done.
async fn my_turn(turn: &mut watch::Receiver<Turn>, path: Path) -> Option<Instant> {
    loop {
        match *turn.borrow_and_update() {
            Turn::Type(p, until) if p == path && until > Instant::now() => return Some(until),
            Turn::Done => return None,
            _ => {}
        }
        if turn.changed().await.is_err() {
            return None;
        }
    }
}
