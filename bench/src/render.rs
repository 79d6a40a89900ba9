//! Output rendered in the browser: a Playwright script (end2end/bench/render.mjs) times
//! mixed output shown through podterm's terminal page against a bare xterm.js page, with
//! the DOM and the WebGL renderer; and what the module loaded after the prompt weighs.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::report::Asset;
use crate::servers::Podterm;
use crate::stats::Spread;
use crate::{Error, Run, Sizes};

/// One run: the median milliseconds to display the output, of the script's repeats.
#[derive(Debug, Clone, Serialize)]
pub struct Render {
    pub bytes: u64,
    pub cols: u32,
    pub rows: u32,
    pub podterm_dom: f64,
    pub bare_dom: f64,
    pub podterm_webgl: f64,
    pub bare_webgl: f64,
    /// The files loaded after the first prompt (search, OSC 52, WebGL).
    pub late: Vec<Asset>,
    pub late_gzip: usize,
}

#[derive(Deserialize)]
struct Script {
    bytes: u64,
    cols: u32,
    rows: u32,
    podterm_dom: Vec<f64>,
    bare_dom: Vec<f64>,
    podterm_webgl: Vec<f64>,
    bare_webgl: Vec<f64>,
    late: Vec<String>,
}

pub async fn measure(podterm: &Podterm, sizes: &Sizes) -> Result<Render, Error> {
    let mut node = tokio::process::Command::new("node");
    node.arg("end2end/bench/render.mjs")
        .env("PODTERM_URL", format!("http://{}", podterm.addr))
        .env("PODTERM_TOKEN", &podterm.token)
        .env("MB", (sizes.render_bytes / 1_000_000).max(1).to_string())
        .env("RUNS", sizes.render_repeats.max(1).to_string());
    let script: Script = crate::report::run_script(node, "render").await?;
    let mut late = Vec::new();
    for path in &script.late {
        late.push(crate::report::asset(podterm, path).await?);
    }
    let median = |ms: &[f64]| Spread::of(ms.iter().copied()).median;
    Ok(Render {
        bytes: script.bytes,
        cols: script.cols,
        rows: script.rows,
        podterm_dom: median(&script.podterm_dom),
        bare_dom: median(&script.bare_dom),
        podterm_webgl: median(&script.podterm_webgl),
        bare_webgl: median(&script.bare_webgl),
        late_gzip: late.iter().map(|a| a.gzip).sum(),
        late,
    })
}

/// The section of the summary: medians over the runs, with their ranges.
pub fn markdown(out: &mut String, runs: &[Run]) {
    let renders: Vec<&Render> = runs.iter().filter_map(|r| r.render.as_ref()).collect();
    let Some(first) = renders.first() else {
        return;
    };
    let spread = |value: fn(&Render) -> f64| Spread::of(renders.iter().map(|r| value(r)));
    let _ = writeln!(
        out,
        "\n### Output in the browser ({:.0} MB of mixed output into a {}×{} terminal, ms to display)\n",
        first.bytes as f64 / 1e6,
        first.cols,
        first.rows
    );
    let _ = writeln!(
        out,
        "| renderer | bare xterm.js page | podterm | podterm / bare | target |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    let dom_ratio = spread(|r| r.podterm_dom / r.bare_dom);
    let _ = writeln!(
        out,
        "| DOM | {} | {} | {} | ≤ 1.5: {} |",
        spread(|r| r.bare_dom),
        spread(|r| r.podterm_dom),
        dom_ratio,
        if dom_ratio.median <= 1.5 {
            "met"
        } else {
            "**missed**"
        }
    );
    let _ = writeln!(
        out,
        "| WebGL (SwiftShader, no GPU) | {} | {} | {} |  |",
        spread(|r| r.bare_webgl),
        spread(|r| r.podterm_webgl),
        spread(|r| r.podterm_webgl / r.bare_webgl)
    );
    let _ = writeln!(
        out,
        "\nLoaded after the first prompt (search, OSC 52, WebGL): {:.1} KB gzip.\n",
        first.late_gzip as f64 / 1000.0
    );
    crate::report::asset_table(out, "late asset (first run)", &first.late);
}
