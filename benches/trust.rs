//! The TRUSTED flow (`kith::domain::trust::trusted`) at the size the background loop must
//! carry: by default 100,000 members and 1,000,000 confirmed meetings.
//!
//! ```sh
//! cargo bench --bench trust
//! cargo bench --bench trust -- --members 100000 --meetings 1000000 --runs 3
//! ```
//!
//! The graph is synthetic and deterministic: communities of 100 members, nine meetings in ten
//! inside a member's community and one with anyone, and three seeds (organisers) in every
//! other community. Reported: the time of each run, and the process's peak resident memory
//! (`VmHWM`) before the graph is made, after, and after the runs, so the flow's own working
//! memory is the last difference. The database side (reading one row per meeting) is not in
//! this figure; `kith` logs each recomputation's result.

use std::time::Instant;

use kith::domain::trust::{MeetingGraph, trusted};
use rand::{Rng, SeedableRng};
use uuid::Uuid;

const COMMUNITY: usize = 100;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let (mut members, mut meetings, mut runs) = (100_000usize, 1_000_000usize, 3usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse().ok()).expect("a number");
        match arg.as_str() {
            "--members" => members = value(),
            "--meetings" => meetings = value(),
            "--runs" => runs = value(),
            _ => {} // cargo bench passes --bench
        }
    }
    let before = peak_rss_mib();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let ids: Vec<Uuid> = (0..members)
        .map(|_| Uuid::from_u128(rng.random()))
        .collect();
    let mut pairs = Vec::with_capacity(meetings);
    while pairs.len() < meetings {
        let a = rng.random_range(0..members);
        let b = if rng.random_bool(0.9) {
            let base = a - a % COMMUNITY;
            (base + rng.random_range(0..COMMUNITY)).min(members - 1)
        } else {
            rng.random_range(0..members)
        };
        if a != b {
            pairs.push((ids[a], ids[b]));
        }
    }
    let seeds: Vec<Uuid> = (0..members)
        .step_by(COMMUNITY * 2)
        .flat_map(|base| ids[base..(base + 3).min(members)].to_vec())
        .collect();
    let graph = MeetingGraph {
        seeds,
        meetings: pairs,
        banned: Default::default(),
    };
    let made = peak_rss_mib();
    println!(
        "graph: {members} members, {} meetings, {} seeds",
        graph.meetings.len(),
        graph.seeds.len()
    );
    for run in 1..=runs {
        let started = Instant::now();
        let result = trusted(&graph);
        println!(
            "run {run}: {:.2} s, {} trusted",
            started.elapsed().as_secs_f64(),
            result.len()
        );
    }
    let after = peak_rss_mib();
    println!(
        "peak RSS: {before:.0} MiB at start, {made:.0} MiB with the graph, {after:.0} MiB after the runs (the flow's working memory: {:.0} MiB)",
        after - made
    );
}
