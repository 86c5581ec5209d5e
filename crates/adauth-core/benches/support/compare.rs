//! Side-by-side measurements for the benches: each case is timed in rounds, the cases
//! taking turns (in a rotating order) within every round, so that a noisy machine slows
//! them alike. The table gives each case's median time per operation and its median ratio
//! to the first case, the baseline, over the rounds: only such ratios within one run are
//! stable here.
//!
//! Shared by the benches of adauth-core and adauth-tests (`#[path]`).

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

/// One case: a name and a function that performs `n` operations and returns how long they
/// took (or `None` to time the call itself).
pub struct Case<'a> {
    name: &'a str,
    run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

impl<'a> Case<'a> {
    /// A case timed around `op`, called `n` times per batch.
    pub fn each(name: &'a str, mut op: impl FnMut() + 'a) -> Self {
        Self {
            name,
            run: Box::new(move |n| {
                let start = Instant::now();
                for _ in 0..n {
                    op();
                }
                start.elapsed()
            }),
        }
    }

    /// A case that times itself: `run(n)` performs `n` operations and says how long they
    /// took (set-up left out).
    pub fn timed(name: &'a str, run: impl FnMut(u64) -> Duration + 'a) -> Self {
        Self {
            name,
            run: Box::new(run),
        }
    }
}

/// How a comparison is run: `rounds` rounds of `batch` operations per case, each batch
/// run in slices of `slice` operations that alternate between the cases, so that a slow
/// spell of the machine (milliseconds, on a shared host) falls on every case alike.
pub struct Plan {
    pub rounds: usize,
    pub batch: u64,
    pub slice: u64,
}

impl Plan {
    /// Many short batches, for operations of nanoseconds: the cases take turns every
    /// 10,000 operations (about 0.1 ms), so that a slow spell falls on all of them.
    pub const FAST: Plan = Plan {
        rounds: 61,
        batch: 100_000,
        slice: 10_000,
    };
}

/// The result of one case.
pub struct Figure {
    pub name: String,
    /// Median time per operation.
    pub per_op: Duration,
    /// Median ratio to the baseline (the first case).
    pub ratio: f64,
}

/// Runs the cases (the first is the baseline), prints the table under `title` and returns
/// the figures.
pub fn compare(title: &str, plan: &Plan, mut cases: Vec<Case<'_>>) -> Vec<Figure> {
    assert!(!cases.is_empty());
    // Warm-up: one batch each.
    for case in &mut cases {
        (case.run)(plan.batch);
    }
    let n = cases.len();
    let mut per_op: Vec<Vec<f64>> = vec![Vec::new(); n];
    for round in 0..plan.rounds {
        let mut this_round = vec![0.0; n];
        let slice = plan.slice.clamp(1, plan.batch);
        let mut done = 0;
        while done < plan.batch {
            let ops = slice.min(plan.batch - done);
            for k in 0..n {
                let i = (round + k) % n;
                this_round[i] += (cases[i].run)(ops).as_secs_f64();
            }
            done += ops;
        }
        for t in &mut this_round {
            *t /= plan.batch as f64;
        }
        for i in 0..n {
            per_op[i].push(this_round[i]);
        }
    }
    let figures: Vec<Figure> = (0..n)
        .map(|i| {
            let ratios: Vec<f64> = per_op[i]
                .iter()
                .zip(&per_op[0])
                .map(|(x, base)| x / base)
                .collect();
            Figure {
                name: cases[i].name.to_owned(),
                per_op: Duration::from_secs_f64(median(&per_op[i])),
                ratio: median(&ratios),
            }
        })
        .collect();
    println!("\n{title}");
    println!("  {:<58} {:>12} {:>10}", "", "per op", "ratio");
    for (i, f) in figures.iter().enumerate() {
        let name = if i == 0 {
            format!("{} (baseline)", f.name)
        } else {
            f.name.clone()
        };
        println!("  {:<58} {:>12} {:>9.2}x", name, show(f.per_op), f.ratio);
    }
    figures
}

/// Prints a figure that has no baseline to compare with.
pub fn report(title: &str, value: &str) {
    println!("\n{title}\n  {value}");
}

/// Prints whether a target holds, without failing the bench (figures are information;
/// CI does not time anything).
pub fn target(what: &str, holds: bool) {
    println!("  target {}: {what}", if holds { "met" } else { "MISSED" });
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted[sorted.len() / 2]
}

/// A duration in the unit that suits it.
pub fn show(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}
