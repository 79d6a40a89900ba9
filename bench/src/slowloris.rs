//! `/healthz` while another address holds half-sent requests (slowloris), against the same
//! podterm without them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

use crate::Error;
use crate::servers::Podterm;
use crate::stats::Latency;

/// Where the half-sent requests come from: not the address `/healthz` is asked from.
const FROM: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// The start of a request whose headers never end.
const HALF_SENT: &[u8] = b"GET / HTTP/1.1\r\nHost: podterm\r\nX-Slow: ";
/// Everything is over within this: shorter than podterm's default header-read timeout
/// (10 s), so the requests are still held while `/healthz` is timed.
const HOLD: Duration = Duration::from_secs(8);
/// Opening stops after this, however many are open.
const OPENING: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, Serialize)]
pub struct Slowloris {
    /// Half-sent requests opened from 127.0.0.2.
    pub half_sent: usize,
    /// Of those, how many podterm held open while `/healthz` was timed.
    pub held: usize,
    pub healthz: Latency,
    pub healthz_held: Latency,
    /// `/healthz` requests that got no 200, both phases together.
    pub healthz_failures: usize,
}

/// `samples` `GET /healthz` alone, then again while `count` half-sent requests are held.
pub async fn measure(podterm: &Podterm, count: usize, samples: usize) -> Result<Slowloris, Error> {
    let mut failures = 0;
    let alone = time_healthz(podterm.addr, samples, Instant::now() + HOLD, &mut failures).await;
    let open_before = open_connections(podterm).await?;
    let started = Instant::now();
    let held_streams = half_sent(podterm.addr, count, started + OPENING).await;
    let half_sent = held_streams.len();
    let healthz_held = time_healthz(podterm.addr, samples, started + HOLD, &mut failures).await;
    // The metrics request is counted alike in both readings.
    let held = open_connections(podterm).await?.saturating_sub(open_before);
    drop(held_streams);
    Ok(Slowloris {
        half_sent,
        held,
        healthz: alone,
        healthz_held,
        healthz_failures: failures,
    })
}

/// Up to `count` connections from 127.0.0.2 with a request that never ends.
async fn half_sent(to: SocketAddr, count: usize, until: Instant) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    while held.len() < count && Instant::now() < until {
        let opened = tokio::time::timeout(Duration::from_secs(1), async {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(FROM, 0))?;
            let mut stream = socket.connect(to).await?;
            stream.write_all(HALF_SENT).await?;
            Ok::<_, std::io::Error>(stream)
        })
        .await;
        // Refused ones are counted by podterm's metrics, not here.
        if let Ok(Ok(stream)) = opened {
            held.push(stream);
        }
    }
    held
}

/// Up to `samples` sequential `GET /healthz`, each on a new connection, until `until`.
async fn time_healthz(
    addr: SocketAddr,
    samples: usize,
    until: Instant,
    failures: &mut usize,
) -> Latency {
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        if Instant::now() >= until {
            break;
        }
        let started = Instant::now();
        let answer = tokio::time::timeout(
            Duration::from_secs(2),
            crate::http::get(addr, "/healthz", None),
        )
        .await;
        match answer {
            Ok(Ok(response)) if response.status == 200 => times.push(started.elapsed()),
            _ => *failures += 1,
        }
    }
    Latency::of(&times)
}

/// `podterm_connections_open` from podterm's metrics.
async fn open_connections(podterm: &Podterm) -> Result<usize, Error> {
    let metrics = crate::http::get(podterm.addr, "/metrics", Some(&podterm.token)).await?;
    String::from_utf8_lossy(&metrics.body)
        .lines()
        .find_map(|line| line.strip_prefix("podterm_connections_open "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as usize)
        .ok_or_else(|| "podterm's metrics have no podterm_connections_open".into())
}
