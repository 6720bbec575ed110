//! MPS vs TTN Born machine on the shipped binarized MNIST split, at equal bond
//! dimension and equal number of sweeps: train NLL, test NLL, seconds per sweep.
//!
//! ```sh
//! cargo run --release --example ttn_vs_mps -- --max-bonds 16,32 --n-train 2000 --sweeps 6
//! ```
//!
//! Prints one line per half-sweep, then a Markdown table, writes `nll.png` (train
//! NLL against half-sweeps for every run, the test NLL in the legend) to
//! `--out-dir` (default `out/ttn_vs_mps/`), and as the last line one JSON object
//! with the figures. "cpu s/sweep" is the process CPU time (user +
//! system, from `/proc/self/stat`; `null` in the JSON line elsewhere) per sweep, which is less
//! sensitive than wall time to other programs sharing the machine. Run with
//! `RAYON_NUM_THREADS=1` for single-threaded linear algebra: otherwise the
//! thread pool's waiting workers count as CPU time too, which penalises the TTN
//! (its GEMMs are large enough to be parallel, the MPS's mostly are not).

#[path = "common/plot.rs"]
mod plot;

mod common;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use tnlearn::born::{BornMachine, BornOptions, FitControl, MpsBornMachine, TtnBornMachine};
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
    let reports = model.fit_with_fn(train, |r, _| {
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

/// MPS vs TTN Born machine on the shipped binarized MNIST split.
#[derive(Parser)]
#[command(name = "ttn_vs_mps", version, allow_negative_numbers = true)]
struct Args {
    /// Maximal bond dimensions, comma-separated (one run per value and model)
    #[arg(long, alias = "bonds", value_delimiter = ',', default_value = "16,32", value_parser = clap::value_parser!(u32).range(1..))]
    max_bonds: Vec<u32>,
    /// Training images (the first n of the shipped 8000)
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    n_train: u32,
    /// Sweeps for both models
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    sweeps: u32,
    /// Gradient step size
    #[arg(long, default_value_t = 0.02)]
    learning_rate: f64,
    /// Gradient steps per bond / edge visit
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    steps_per_bond: u32,
    /// Models to run, comma-separated
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mps,ttn")]
    models: Vec<Model>,
    /// Where nll.png (train NLL per half-sweep of every run) is written
    #[arg(long, default_value = "out/ttn_vs_mps/")]
    out_dir: PathBuf,
}

/// The models this comparison trains.
#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Model {
    /// MPS Born machine on the row-major pixel order
    Mps,
    /// TTN Born machine on the image tree
    Ttn,
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run_all(Args::parse())?))
}

fn run_all(args: Args) -> Result<()> {
    // Every argument is checked before any work or output.
    let options: Vec<BornOptions> = args
        .max_bonds
        .iter()
        .map(|&d| {
            let opts = BornOptions::new()
                .max_bond(d as usize)
                .cutoff(1e-7)
                .learning_rate(args.learning_rate)
                .steps_per_bond(args.steps_per_bond as usize)
                .sweeps(args.sweeps as usize)
                .seed(1);
            opts.validate().map(|()| opts)
        })
        .collect::<Result<_>>()?;
    let (train_all, test) = mnist::shipped()?;
    let train = train_all.take((args.n_train as usize).min(train_all.len()));
    println!("train {} images, test {} images", train.len(), test.len());
    let mut rows = Vec::new();
    for opts in options {
        if args.models.contains(&Model::Mps) {
            rows.push(run(
                MpsBornMachine::new(784, 2, opts)?,
                "mps",
                &train,
                &test,
            )?);
            print_row(rows.last().expect("pushed"));
        }
        if args.models.contains(&Model::Ttn) {
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
    let out_dir = &args.out_dir;
    common::create_dir(out_dir)?;
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
    let results: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "model": r.model,
                "max_bond": r.max_bond,
                "train_nll": r.train_nll,
                "test_nll": r.test_nll,
                "seconds_per_sweep": r.wall_per_sweep,
                "cpu_seconds_per_sweep": r.cpu_per_sweep,
            })
        })
        .collect();
    common::json_line(&serde_json::json!({
        "n_train": train.len(),
        "results": results,
    }));
    Ok(())
}
