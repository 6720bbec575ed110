//! Swendsen's Monte Carlo renormalization group on the 2D Ising model at `T_c`: the
//! thermal exponent `y_t` (exact: 1) of each coarse-graining in a list, from one
//! blocking step `L -> L/2`, for 1..7 couplings, with jackknife error bars over
//! independent Wolff runs.
//!
//! ```sh
//! cargo run --release --example mcrg
//! cargo run --release --example mcrg -- --samples 4000000 --runs 32
//! ```
//!
//! Writes `mcrg.md` (the table) and `mcrg.csv` to `--out-dir` (default `out/mcrg/`);
//! the last line printed is one JSON object. Reference (`docs/ising.md`, majority rule
//! 32 -> 16, 4 x 10^6 Wolff samples): `y_t = 0.906` (1 coupling), 0.966 (2), 0.969 (4),
//! `0.9673 +- 0.0009` (7).
//!
//! To add a coarse-graining, implement `tnlearn::ising::mcrg::CoarseGrain` and add one
//! arm to `coarse_graining` below; `--coarse-grainings majority,NAME` then measures
//! both on the same configurations.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::{value_parser, Arg, Command};
use indicatif::{ProgressBar, ProgressStyle};
use tnlearn::ising::mcrg::{measure, CoarseGrain, EvenOperator, MajorityRule, McrgOptions};
use tnlearn::ising::sampling::ClusterAlgorithm;
use tnlearn::ising::CRITICAL_TEMPERATURE;
use tnlearn::{Error, Result};

/// Majority rule 32 -> 16 with 4 x 10^6 Wolff samples (`docs/ising.md`).
const REFERENCE_MAJORITY: [(usize, f64); 4] = [(1, 0.906), (2, 0.966), (4, 0.969), (7, 0.9673)];

/// The coarse-grainings the example knows, by name: one match arm each.
fn coarse_graining(name: &str) -> Result<Box<dyn CoarseGrain>> {
    match name {
        "majority" => Ok(Box::new(MajorityRule::new(2)?)),
        other => Err(Error::invalid_argument(
            "coarse-grainings",
            format!("unknown coarse-graining {other:?}; available: majority"),
        )),
    }
}

fn cli() -> Command {
    let num = |name: &'static str, default: &'static str, help: &'static str| {
        Arg::new(name).long(name).default_value(default).help(help)
    };
    Command::new("mcrg")
        .about("Monte Carlo RG: thermal exponent y_t of coarse-grainings of the 2D Ising model")
        .arg(num("l", "32", "side of the fine lattice").value_parser(value_parser!(usize)))
        .arg(
            num(
                "temperature",
                "2.269185314213022",
                "temperature (default T_c)",
            )
            .value_parser(value_parser!(f64)),
        )
        .arg(
            num("samples", "1000000", "measured configurations in total")
                .value_parser(value_parser!(usize)),
        )
        .arg(
            num(
                "runs",
                "16",
                "independent runs (error bars: jackknife over runs)",
            )
            .value_parser(value_parser!(usize)),
        )
        .arg(
            num("thinning", "3", "Wolff clusters between measurements")
                .value_parser(value_parser!(usize)),
        )
        .arg(
            num("burn-in", "2000", "Wolff clusters discarded per run")
                .value_parser(value_parser!(usize)),
        )
        .arg(
            num("couplings", "7", "largest number of couplings (1..=7)")
                .value_parser(value_parser!(usize)),
        )
        .arg(num("threads", "2", "worker threads").value_parser(value_parser!(usize)))
        .arg(num("seed", "1", "random seed").value_parser(value_parser!(u64)))
        .arg(num(
            "coarse-grainings",
            "majority",
            "comma-separated list of coarse-grainings",
        ))
        .arg(num("out-dir", "out/mcrg/", "output directory").value_parser(value_parser!(PathBuf)))
}

fn main() -> Result<()> {
    let m = cli().get_matches();
    let get = |k: &str| *m.get_one::<usize>(k).expect("defaulted");
    let options = McrgOptions::new()
        .l(get("l"))
        .temperature(*m.get_one::<f64>("temperature").expect("defaulted"))
        .samples(get("samples"))
        .runs(get("runs"))
        .thinning(get("thinning"))
        .burn_in(get("burn-in"))
        .couplings(get("couplings"))
        .threads(get("threads"))
        .seed(*m.get_one::<u64>("seed").expect("defaulted"))
        .algorithm(ClusterAlgorithm::Wolff);
    options.validate()?;
    let names: Vec<String> = m
        .get_one::<String>("coarse-grainings")
        .expect("defaulted")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let boxed: Vec<Box<dyn CoarseGrain>> = names
        .iter()
        .map(|n| coarse_graining(n))
        .collect::<Result<_>>()?;
    let list: Vec<&dyn CoarseGrain> = boxed.iter().map(|b| b.as_ref()).collect();
    let out_dir = m.get_one::<PathBuf>("out-dir").expect("defaulted").clone();
    std::fs::create_dir_all(&out_dir).map_err(|source| Error::Io {
        path: out_dir.clone(),
        source,
    })?;

    println!(
        "MCRG: {l} x {l} -> {h} x {h} at T = {t} ({tc}), {s} Wolff samples in {r} runs, \
         {th} clusters apart, {th2} threads; operators: {ops}",
        l = options.l,
        h = options.l / 2,
        t = options.temperature,
        tc = if options.temperature == CRITICAL_TEMPERATURE {
            "T_c"
        } else {
            "not T_c"
        },
        s = options.samples,
        r = options.runs,
        th = options.thinning,
        th2 = options.threads,
        ops = EvenOperator::ALL
            .iter()
            .map(|o| o.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let bar = ProgressBar::new(options.samples as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} samples {elapsed_precise} (eta {eta})")
            .expect("valid template"),
    );
    let done = AtomicU64::new(0);
    let start = Instant::now();
    let results = measure(&list, &options, &|n| {
        let total = done.fetch_add(n, Ordering::Relaxed) + n;
        bar.set_position(total);
    })?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    let mut md = format!(
        "MCRG, {l} x {l} -> {h} x {h}, T = {t}, {s} Wolff samples, {r} runs, {seconds:.0} s\n\n\
         | coarse-graining | couplings | y_t | error | reference (majority, 4e6 samples) |\n|---|---|---|---|---|\n",
        l = options.l,
        h = options.l / 2,
        t = options.temperature,
        s = options.samples,
        r = options.runs
    );
    let mut csv = String::from("coarse_graining,couplings,y_t,error\n");
    for res in &results {
        for (k, (y, e)) in res.y_t.iter().zip(&res.y_t_error).enumerate() {
            let reference = REFERENCE_MAJORITY
                .iter()
                .find(|r| r.0 == k + 1 && res.name.starts_with("majority") && options.l == 32)
                .map_or(String::new(), |r| format!("{}", r.1));
            md.push_str(&format!(
                "| {} | {} | {y:.4} | {e:.4} | {reference} |\n",
                res.name,
                k + 1
            ));
            csv.push_str(&format!("{},{},{y},{e}\n", res.name, k + 1));
        }
    }
    print!("\n{md}");
    for res in &results {
        let eig: Vec<String> = res
            .eigenvalues
            .iter()
            .take(4)
            .map(|z| {
                if z.im.abs() > 1e-12 {
                    format!("{:.4}{:+.4}i", z.re, z.im)
                } else {
                    format!("{:.4}", z.re)
                }
            })
            .collect();
        println!(
            "{}: leading eigenvalues of T ({} couplings): {}",
            res.name,
            options.couplings,
            eig.join(", ")
        );
    }
    for (file, text) in [("mcrg.md", &md), ("mcrg.csv", &csv)] {
        let path = out_dir.join(file);
        std::fs::write(&path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }
    println!(
        "wrote {} and mcrg.csv; {seconds:.1} s",
        out_dir.join("mcrg.md").display()
    );
    let entries: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{{\"name\": \"{}\", \"y_t\": {:.5}, \"error\": {:.5}}}",
                r.name,
                r.y_t.last().copied().unwrap_or(f64::NAN),
                r.y_t_error.last().copied().unwrap_or(f64::NAN)
            )
        })
        .collect();
    println!(
        "{{\"l\": {}, \"couplings\": {}, \"samples\": {}, \"runs\": {}, \"seconds\": {seconds:.1}, \"results\": [{}]}}",
        options.l,
        options.couplings,
        options.samples,
        options.runs,
        entries.join(", ")
    );
    Ok(())
}
