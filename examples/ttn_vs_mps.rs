//! MPS vs TTN Born machine on the shipped binarized MNIST split, at equal bond
//! dimension and equal number of sweeps: train NLL, test NLL, seconds per sweep.
//!
//! ```sh
//! cargo run --release --example ttn_vs_mps -- --bonds 16,32 --n-train 2000 --sweeps 6
//! ```
//!
//! Prints one line per half-sweep, then a Markdown table, writes `nll.png` (train
//! NLL against half-sweeps for every run, the test NLL in the legend) to
//! `--out-dir` (default `out/ttn_vs_mps/`), and as the last line one JSON object
//! with the figures. "cpu s/sweep" is the process CPU time (user +
//! system, from `/proc/self/stat`; `NaN` elsewhere) per sweep, which is less
//! sensitive than wall time to other programs sharing the machine. Run with
//! `RAYON_NUM_THREADS=1` for single-threaded linear algebra: otherwise the
//! thread pool's waiting workers count as CPU time too, which penalises the TTN
//! (its GEMMs are large enough to be parallel, the MPS's mostly are not).

#[path = "common/plot.rs"]
mod plot;

mod common;

use std::path::PathBuf;

use clap::{value_parser, Arg, Command};
use tnlearn::born::{
    BornMachine, BornOptions, FitControl, HalfSweepReport, MpsBornMachine, TtnBornMachine,
};
use tnlearn::data::{mnist, Dataset};
use tnlearn::Result;

struct Row {
    model: &'static str,
    max_bond: usize,
    train_nll: f64,
    test_nll: f64,
    wall_per_sweep: f64,
    cpu_per_sweep: f64,
    /// `(half-sweep, train NLL)` after every half-sweep.
    curve: Vec<(f64, f64)>,
}

fn run<M: BornMachine>(
    mut model: M,
    name: &'static str,
    train: &Dataset,
    test: &Dataset,
) -> Result<Row> {
    let max_bond = model.options().truncation.max_bond;
    let cpu0 = common::cpu_seconds();
    let mut wall = 0.0;
    let mut curve = Vec::new();
    let reports = model.fit_with(train, &mut |r: &HalfSweepReport, _m: &M| {
        wall += r.seconds;
        curve.push((r.half_sweep() as f64, r.train_nll));
        println!(
            "{name} D={max_bond} sweep {:>2} {:?}: train NLL {:8.3}  max bond {:>3}  {:6.2} s",
            r.sweep, r.direction, r.train_nll, r.max_bond, r.seconds
        );
        FitControl::Continue
    })?;
    let cpu = common::cpu_seconds() - cpu0;
    let sweeps = reports.len() as f64 / 2.0;
    Ok(Row {
        model: name,
        max_bond,
        train_nll: model.nll(train)?,
        test_nll: model.nll(test)?,
        wall_per_sweep: wall / sweeps,
        cpu_per_sweep: cpu / sweeps,
        curve,
    })
}

fn print_row(r: &Row) {
    println!(
        "done: {} D={}: train NLL {:.3}, test NLL {:.3}, {:.2} s/sweep wall, {:.2} s/sweep cpu",
        r.model, r.max_bond, r.train_nll, r.test_nll, r.wall_per_sweep, r.cpu_per_sweep
    );
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run_all()?))
}

fn run_all() -> Result<()> {
    let m = Command::new("ttn_vs_mps")
        .about("MPS vs TTN Born machine on the shipped binarized MNIST split")
        .arg(
            Arg::new("bonds")
                .long("bonds")
                .default_value("16,32")
                .help("comma-separated max_bond values"),
        )
        .arg(
            Arg::new("n-train")
                .long("n-train")
                .default_value("2000")
                .value_parser(value_parser!(usize))
                .help("training images (first n of the shipped 8000)"),
        )
        .arg(
            Arg::new("sweeps")
                .long("sweeps")
                .default_value("6")
                .value_parser(value_parser!(usize))
                .help("sweeps for both models"),
        )
        .arg(
            Arg::new("learning-rate")
                .long("learning-rate")
                .default_value("0.02")
                .value_parser(value_parser!(f64))
                .help("gradient step size"),
        )
        .arg(
            Arg::new("steps-per-bond")
                .long("steps-per-bond")
                .default_value("2")
                .value_parser(value_parser!(usize))
                .help("gradient steps per bond / edge visit"),
        )
        .arg(
            Arg::new("models")
                .long("models")
                .default_value("mps,ttn")
                .help("which models to run"),
        )
        .arg(
            Arg::new("out-dir")
                .long("out-dir")
                .default_value("out/ttn_vs_mps/")
                .value_parser(value_parser!(PathBuf))
                .help("where nll.png (train NLL per half-sweep of every run) is written"),
        )
        .get_matches();
    let bonds: Vec<usize> = m
        .get_one::<String>("bonds")
        .expect("defaulted")
        .split(',')
        .map(|s| {
            s.trim().parse().map_err(|_| {
                tnlearn::Error::invalid_argument("bonds", format!("not a number: {s:?}"))
            })
        })
        .collect::<Result<_>>()?;
    let models = m.get_one::<String>("models").expect("defaulted").clone();
    let (train_all, test) = mnist::shipped()?;
    let n_train = (*m.get_one::<usize>("n-train").expect("defaulted")).min(train_all.len());
    let train = train_all.take(n_train);
    println!("train {} images, test {} images", train.len(), test.len());
    let mut rows = Vec::new();
    for &d in &bonds {
        let opts = BornOptions::new()
            .max_bond(d)
            .cutoff(1e-7)
            .learning_rate(*m.get_one::<f64>("learning-rate").expect("defaulted"))
            .steps_per_bond(*m.get_one::<usize>("steps-per-bond").expect("defaulted"))
            .sweeps(*m.get_one::<usize>("sweeps").expect("defaulted"))
            .seed(1);
        if models.contains("mps") {
            rows.push(run(
                MpsBornMachine::new(784, 2, opts)?,
                "mps",
                &train,
                &test,
            )?);
            print_row(rows.last().expect("pushed"));
        }
        if models.contains("ttn") {
            rows.push(run(
                TtnBornMachine::for_image(28, 28, 2, opts)?,
                "ttn",
                &train,
                &test,
            )?);
            print_row(rows.last().expect("pushed"));
        }
    }
    println!("\n| model | max_bond | train NLL | test NLL | wall s/sweep | cpu s/sweep |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.model, r.max_bond, r.train_nll, r.test_nll, r.wall_per_sweep, r.cpu_per_sweep
        );
    }
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{{\"model\": \"{}\", \"max_bond\": {}, \"train_nll\": {:.4}, \"test_nll\": {:.4}, \
                 \"seconds_per_sweep\": {:.3}, \"cpu_seconds_per_sweep\": {:.3}}}",
                r.model, r.max_bond, r.train_nll, r.test_nll, r.wall_per_sweep, r.cpu_per_sweep
            )
        })
        .collect();
    let out_dir = m.get_one::<PathBuf>("out-dir").expect("defaulted");
    std::fs::create_dir_all(out_dir).map_err(|source| tnlearn::Error::Io {
        path: out_dir.clone(),
        source,
    })?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} D={} (test {:.1})",
                r.model.to_uppercase(),
                r.max_bond,
                r.test_nll
            )
        })
        .collect();
    let series: Vec<plot::Series<'_>> = rows
        .iter()
        .zip(&names)
        .map(|(r, name)| plot::Series {
            name,
            points: r.curve.clone(),
        })
        .collect();
    plot::line_chart(
        out_dir.join("nll.png"),
        &format!(
            "MPS vs TTN on {} MNIST images: train NLL per half-sweep",
            train.len()
        ),
        "half-sweep",
        "train NLL (nats per image)",
        &series,
    )?;
    println!("wrote {}", out_dir.join("nll.png").display());
    println!(
        "{{\"n_train\": {}, \"results\": [{}]}}",
        train.len(),
        items.join(", ")
    );
    Ok(())
}
