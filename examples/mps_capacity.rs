//! The capacity curve of the MPS Born machine (Han et al., PRX 2018, Fig. 4): train
//! NLL on 1000 binarized MNIST images against the number of sweeps, for several
//! maximal bond dimensions, with the published settings (full batch, one
//! normalised gradient step per bond, learning rate 5e-3 divided by 5 whenever the
//! NLL goes up, cutoff 1e-50 so the bond dimension saturates at `max_bond`).
//!
//! ```sh
//! cargo run --release --example mps_capacity -- \
//!     --npz mnist28_thr127.5_100perclass.npz --max-bonds 20,50,100 --sweeps 20
//! ```
//!
//! The published code's timing settings (issue 13; its figures are in
//! `docs/benchmarks.md`, "MPS training sweeps": plain steps, learning rate 1e-3,
//! 10 steps per bond on minibatches of 50, cutoff 1e-7, 6 sweeps), on the files of
//! its repository (`rand1k_thr50_train.npy`, held-out `others1k_thr50_test.npy`):
//!
//! ```sh
//! cargo run --release --example mps_capacity -- --npy rand1k_thr50_train.npy \
//!     --test-npy others1k_thr50_test.npy --max-bonds 100 --sweeps 6 \
//!     --learning-rate 1e-3 --size-exponent -1 --decay 1 --steps-per-bond 10 \
//!     --batch-size 50 --cutoff 1e-7
//! ```
//!
//! The `.npz` file is the one of the published repository
//! (`MNIST/capacity/mnist28_127.5.npz` in congzlwag/UnsupGenModbyMPS, member `data`:
//! 1000 x 784, 100 per digit, threshold 127.5); any 0/1 `.npy` file works with
//! `--npy`. Writes `capacity.csv` (max_bond, sweep, train NLL, NLL on `--test-npy`
//! (empty without it), max bond reached, wall and CPU seconds of the sweep, peak
//! environment bytes) and its plot `capacity.png` (train NLL against
//! sweeps, one curve per bond dimension), the trained models (`model_D{max_bond}.tnlborn`)
//! and a PNG of 100 samples per bond dimension (square images only) into
//! `--out-dir`; the last line printed is one
//! JSON object with the final NLL and the mean seconds per sweep of each bond
//! dimension.

#[path = "common/plot.rs"]
mod plot;

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tnlearn::born::{BornMachine, BornOptions, FitControl, MpsBornMachine, StepRule};
use tnlearn::io::png::write_image_grid;
use tnlearn::{Dataset, Error, Result};

/// Capacity curve of the MPS Born machine (train NLL vs sweeps, several maximal bonds).
#[derive(Parser)]
#[command(name = "mps_capacity", version, allow_negative_numbers = true)]
#[command(group(clap::ArgGroup::new("data").required(true).args(["npz", "npy"])))]
struct Args {
    /// A .npz archive of 0/1 images (member chosen by --member)
    #[arg(long, value_name = "FILE.npz")]
    npz: Option<PathBuf>,
    /// A .npy array of 0/1 images
    #[arg(long, value_name = "FILE.npy")]
    npy: Option<PathBuf>,
    /// Array inside the .npz file
    #[arg(long, default_value = "data", requires = "npz")]
    member: String,
    /// Maximal bond dimensions, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "20,50,100", value_parser = clap::value_parser!(u32).range(1..))]
    max_bonds: Vec<u32>,
    /// Sweeps per bond dimension
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    sweeps: u32,
    /// Initial step size
    #[arg(long, default_value_t = 5e-3)]
    learning_rate: f64,
    /// Normalised steps of length lr * max(|G|, 2 n^a) (negative: plain gradient steps)
    #[arg(long, default_value_t = 0.25)]
    size_exponent: f64,
    /// Gradient steps per bond visit (published: 1)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    steps_per_bond: u32,
    /// Random samples per gradient step (default: the full training set)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: Option<u32>,
    /// A .npy array of held-out 0/1 images: its NLL is printed after every sweep
    /// (not timed)
    #[arg(long, value_name = "FILE.npy")]
    test_npy: Option<PathBuf>,
    /// Continue training a saved model (with the given learning rate)
    #[arg(long, value_name = "MODEL.tnlborn")]
    resume: Option<PathBuf>,
    /// Learning-rate factor applied when the NLL goes up, in (0, 1]
    #[arg(long, default_value_t = 0.2)]
    decay: f64,
    /// Relative singular-value cutoff
    #[arg(long, default_value_t = 1e-50)]
    cutoff: f64,
    /// Random seed of the initial MPS
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory
    #[arg(long, default_value = "out/mps_capacity/")]
    out_dir: PathBuf,
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run(Args::parse())?))
}

/// The training options of the run with maximal bond `max_bond`.
fn options(args: &Args, max_bond: usize) -> BornOptions {
    let step_rule = if args.size_exponent >= 0.0 {
        StepRule::Normalized {
            size_exponent: args.size_exponent,
        }
    } else {
        StepRule::Plain
    };
    BornOptions::new()
        .max_bond(max_bond)
        .min_bond(2.min(max_bond))
        .cutoff(args.cutoff)
        .learning_rate(args.learning_rate)
        .step_rule(step_rule)
        .steps_per_bond(args.steps_per_bond as usize)
        .batch_size(args.batch_size.map(|b| b as usize))
        .sweeps(1)
        .initial_bond(2.min(max_bond))
        .seed(args.seed)
}

fn run(args: Args) -> Result<()> {
    // Every argument is checked before anything is written.
    let decay = args.decay;
    if !(decay > 0.0 && decay <= 1.0) {
        return Err(Error::invalid_argument(
            "decay",
            format!("must be in (0, 1], got {decay}"),
        ));
    }
    let bonds: Vec<usize> = args.max_bonds.iter().map(|&d| d as usize).collect();
    for &max_bond in &bonds {
        options(&args, max_bond).validate()?;
    }
    let sweeps = args.sweeps as usize;
    let data: Dataset = match (&args.npz, &args.npy) {
        (Some(p), _) => tnlearn::io::npy::read_npz_binary(p, &args.member)?,
        (None, Some(p)) => tnlearn::io::npy::read_binary(p)?,
        (None, None) => unreachable!("clap requires --npz or --npy"),
    };
    let test: Option<Dataset> = match &args.test_npy {
        Some(p) => Some(tnlearn::io::npy::read_binary(p)?),
        None => None,
    };
    let resumed = match &args.resume {
        Some(p) => Some(MpsBornMachine::load(p)?),
        None => None,
    };
    let out_dir = args.out_dir.clone();
    common::create_dir(&out_dir)?;
    println!(
        "{} images x {} sites; backend {}",
        data.len(),
        data.num_sites(),
        tnlearn::linalg::backend_name()
    );

    let mut csv = String::from(
        "max_bond,sweep,train_nll,test_nll,bond_reached,seconds,cpu_seconds,env_bytes\n",
    );
    let mut summary = Vec::new();
    let mut curves: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for &max_bond in &bonds {
        let mut curve = Vec::new();
        let mut options = options(&args, max_bond);
        let mut model = match &resumed {
            Some(saved) => {
                let mut model = saved.clone();
                model.set_options(options)?;
                model
            }
            None => MpsBornMachine::new(data.num_sites(), 2, options)?,
        };
        let bar = ProgressBar::new(sweeps as u64).with_style(
            ProgressStyle::with_template("D={msg} [{bar:30}] sweep {pos}/{len} {elapsed}")
                .expect("valid template"),
        );
        bar.set_message(max_bond.to_string());
        let (mut last_nll, mut seconds, mut peak) = (model.nll(&data)?, 0.0, 0usize);
        let mut per_sweep = Vec::new();
        let mut last_test = None;
        for sweep in 1..=sweeps {
            let cpu_start = cpu_seconds();
            let start = Instant::now();
            let mut end = None;
            model.fit_with_fn(&data, |r, _| {
                peak = peak.max(r.env_bytes);
                end = Some(*r);
                FitControl::Continue
            })?;
            let secs = start.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu_start;
            seconds += secs;
            let r = end.expect("one sweep reports twice");
            let test_nll = match &test {
                Some(t) => Some(model.nll(t)?),
                None => None,
            };
            last_test = test_nll;
            let test_text = test_nll.map_or(String::new(), |t| format!("  test NLL {t:>8.3}"));
            bar.suspend(|| println!(
                "D={max_bond:<4} sweep {sweep:>3}: train NLL {:>8.3}{test_text}  bond {:>4}  {:>6.2} s ({cpu:.2} CPU s)  lr {:.2e}",
                r.train_nll, r.max_bond, secs, options.learning_rate
            ));
            let _ = writeln!(
                csv,
                "{max_bond},{sweep},{:.6},{},{},{secs:.3},{cpu:.3},{}",
                r.train_nll,
                test_nll.map_or(String::new(), |t| format!("{t:.6}")),
                r.max_bond,
                r.env_bytes
            );
            per_sweep.push(serde_json::json!({"seconds": secs, "cpu_seconds": cpu}));
            if r.train_nll > last_nll {
                options = options.learning_rate(options.learning_rate * decay);
                model.set_options(options)?;
            }
            last_nll = r.train_nll;
            curve.push((sweep as f64, r.train_nll));
            bar.inc(1);
        }
        bar.finish_and_clear();
        model.save(out_dir.join(format!("model_D{max_bond}.tnlborn")))?;
        let mut rng = StdRng::seed_from_u64(7);
        let samples = model.sample(100, &mut rng)?;
        let side = (data.num_sites() as f64).sqrt() as usize;
        if side * side == data.num_sites() {
            write_image_grid(
                out_dir.join(format!("samples_D{max_bond}.png")),
                samples.view(),
                (side, side),
                10,
                2,
            )?;
        }
        summary.push((
            max_bond,
            last_nll,
            last_test,
            seconds / sweeps as f64,
            peak,
            per_sweep,
        ));
        curves.push((format!("max_bond {max_bond}"), curve));
    }
    let series: Vec<plot::Series<'_>> = curves
        .iter()
        .map(|(name, points)| plot::Series {
            name,
            points: points.clone(),
        })
        .collect();
    plot::line_chart(
        out_dir.join("capacity.png"),
        &format!("MPS capacity: train NLL on {} images", data.len()),
        "sweep",
        "train NLL (nats per image)",
        &series,
    )?;
    let path = out_dir.join("capacity.csv");
    std::fs::write(&path, csv).map_err(|source| Error::Io { path, source })?;
    let runs: Vec<serde_json::Value> = summary
        .iter()
        .map(|(d, nll, test_nll, s, b, per_sweep)| {
            serde_json::json!({
                "max_bond": d,
                "train_nll": nll,
                "test_nll": test_nll,
                "seconds_per_sweep": s,
                "sweeps": per_sweep,
                "env_bytes": b,
            })
        })
        .collect();
    common::json_line(&serde_json::json!({
        "images": data.len(),
        "sweeps": sweeps,
        "runs": runs,
    }));
    Ok(())
}

/// CPU seconds (user + system) of this process so far, all threads; 0 where
/// `getrusage` is unavailable.
fn cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: getrusage writes into the zeroed struct it is given.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } == 0 {
            let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
            return t(ru.ru_utime) + t(ru.ru_stime);
        }
    }
    0.0
}
