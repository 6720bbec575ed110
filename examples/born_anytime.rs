//! Anytime curves of Born machine runs: reads the `nll.csv` of several
//! `mnist_born_machine` runs and reports, for each training-time budget, the model
//! each run would return if it had been stopped then: the half-sweep of lowest
//! validation NLL among those finished within the budget (the warm-up model counts,
//! with the validation NLL the flagship computes for it), with its test NLL.
//!
//! ```sh
//! RAYON_NUM_THREADS=1 cargo run --release --example mnist_born_machine -- \
//!     --time-budget 600 --budget-clock cpu --sweeps 1000 --out-dir out/mps32
//! RAYON_NUM_THREADS=1 cargo run --release --example mnist_born_machine -- --model ttn \
//!     --time-budget 600 --budget-clock cpu --sweeps 1000 --out-dir out/ttn16
//! cargo run --release --example born_anytime -- --clock cpu \
//!     --run "MPS D=32=out/mps32/nll.csv" --run "TTN D=16=out/ttn16/nll.csv"
//! ```
//!
//! Prints a table (budget x run: half-sweep, validation and test NLL, seconds),
//! draws `anytime.png` in `--out-dir` (test NLL of the restorable model against training seconds, one
//! step curve per run), and ends with one JSON line. See `docs/ttn.md`, "Equal
//! training time".

#[path = "common/plot.rs"]
mod plot;

mod common;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use tnlearn::{Error, Result};

/// Anytime curves (test NLL of the best-validation model within a training-time budget) of mnist_born_machine runs.
#[derive(Parser)]
#[command(name = "born_anytime", version)]
struct Args {
    /// A run: LABEL=PATH of its nll.csv (the label may contain '='; the path is after the last one)
    #[arg(long, value_name = "LABEL=NLL.csv", required = true)]
    run: Vec<String>,
    /// Budgets in training seconds
    #[arg(long, value_delimiter = ',', default_values_t = [60.0, 180.0, 600.0])]
    budgets: Vec<f64>,
    /// Which training time the budgets are in: wall or cpu seconds (columns train_seconds, train_cpu_seconds)
    #[arg(long, value_enum, default_value = "cpu")]
    clock: Clock,
    /// Leave points above this test NLL out of the plot (the first half-sweeps are far above the rest)
    #[arg(long, default_value_t = 110.0)]
    y_max: f64,
    /// Output directory (writes anytime.png)
    #[arg(long, default_value = "out/born_anytime/")]
    out_dir: PathBuf,
}

/// The time column the budgets refer to.
#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Clock {
    /// Wall seconds of training
    Wall,
    /// Process CPU seconds of training
    Cpu,
}

/// One half-sweep of a run's log.
struct Point {
    half_sweep: usize,
    seconds: f64,
    valid_nll: Option<f64>,
    test_nll: f64,
}

/// The half-sweeps of one `nll.csv`, in order.
fn read_log(path: &PathBuf, clock: Clock) -> Result<Vec<Point>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let bad = |what: String| Error::invalid_argument("run", format!("{}: {what}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let time_col = match clock {
        Clock::Wall => "train_seconds",
        Clock::Cpu => "train_cpu_seconds",
    };
    let col = |name: &str| {
        header.iter().position(|&h| h == name).ok_or_else(|| {
            bad(format!(
                "no column `{name}` (written by mnist_born_machine since --time-budget)"
            ))
        })
    };
    let (hs, t, v, te) = (
        col("half_sweep")?,
        col(time_col)?,
        col("valid_nll")?,
        col("test_nll")?,
    );
    let mut points = Vec::new();
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let field = |c: usize| {
            f.get(c)
                .ok_or_else(|| bad(format!("line {}: too few fields", i + 2)))
        };
        let num = |c: usize| -> Result<f64> {
            field(c)?
                .parse::<f64>()
                .map_err(|e| bad(format!("line {}: {e}", i + 2)))
        };
        points.push(Point {
            half_sweep: num(hs)? as usize,
            seconds: num(t)?,
            valid_nll: match *field(v)? {
                "" => None,
                _ => Some(num(v)?),
            },
            test_nll: num(te)?,
        });
    }
    if points.is_empty() {
        return Err(bad("no half-sweep".into()));
    }
    Ok(points)
}

/// The model a run returns if stopped at `budget`: the half-sweep of lowest
/// validation NLL among those finished by then (the last one finished if none has
/// a validation NLL); `None` if none finished.
fn at_budget(points: &[Point], budget: f64) -> Option<&Point> {
    let done: Vec<&Point> = points.iter().filter(|p| p.seconds <= budget).collect();
    done.iter()
        .filter(|p| p.valid_nll.is_some())
        .min_by(|a, b| a.valid_nll.partial_cmp(&b.valid_nll).expect("finite"))
        .or(done.last())
        .copied()
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run(Args::parse())?))
}

fn run(args: Args) -> Result<()> {
    if let Some(b) = args.budgets.iter().find(|b| !(b.is_finite() && **b > 0.0)) {
        return Err(Error::invalid_argument(
            "budgets",
            format!("must be positive seconds (got {b})"),
        ));
    }
    let mut runs = Vec::new();
    for r in &args.run {
        let (label, path) = r
            .rsplit_once('=')
            .ok_or_else(|| Error::invalid_argument("run", format!("`{r}` is not LABEL=PATH")))?;
        let path = PathBuf::from(path);
        runs.push((label.to_string(), read_log(&path, args.clock)?));
    }
    common::create_dir(&args.out_dir)?;
    let png = args.out_dir.join("anytime.png");

    println!(
        "{:>9}  {:<28} {:>10} {:>9} {:>9} {:>9}",
        "budget s", "run", "half-sweep", "valid", "test", "at s"
    );
    let mut table = Vec::new();
    for &b in &args.budgets {
        for (label, points) in &runs {
            let p = at_budget(points, b);
            let fmt = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.2}"));
            println!(
                "{b:>9}  {label:<28} {:>10} {:>9} {:>9} {:>9}",
                p.map_or("-".into(), |p| p.half_sweep.to_string()),
                fmt(p.and_then(|p| p.valid_nll)),
                fmt(p.map(|p| p.test_nll)),
                fmt(p.map(|p| p.seconds)),
            );
            table.push(serde_json::json!({
                "budget": b,
                "run": label,
                "half_sweep": p.map(|p| p.half_sweep),
                "valid_nll": p.and_then(|p| p.valid_nll),
                "test_nll": p.map(|p| p.test_nll),
                "seconds": p.map(|p| p.seconds),
            }));
        }
    }

    // One step curve per run: the restorable model's test NLL from the moment its
    // half-sweep ends until a better one (by validation NLL) ends.
    let series: Vec<plot::Series> = runs
        .iter()
        .map(|(label, points)| {
            let end = points.last().map_or(0.0, |p| p.seconds);
            let mut xy = Vec::new();
            for (i, p) in points.iter().enumerate() {
                let y = at_budget(points, p.seconds).map_or(f64::NAN, |q| q.test_nll);
                let y = if y <= args.y_max { y } else { f64::NAN };
                let next = points.get(i + 1).map_or(end, |q| q.seconds);
                xy.extend([(p.seconds, y), (next, y)]);
            }
            plot::Series {
                name: label,
                points: xy,
            }
        })
        .collect();
    plot::line_chart(
        &png,
        "Test NLL of the best-validation model within the training time",
        match args.clock {
            Clock::Wall => "training seconds (wall)",
            Clock::Cpu => "training seconds (CPU)",
        },
        "test NLL (nats per image)",
        &series,
    )?;
    println!("wrote {}", png.display());
    common::json_line(
        &serde_json::json!({ "clock": format!("{:?}", args.clock).to_lowercase(), "table": table }),
    );
    Ok(())
}
