//! Trains an MPS (or, with `--model ttn`, a tree tensor network) Born machine on
//! binarized MNIST with early stopping on a validation split, then draws samples
//! and inpaints test digits.
//!
//! ```sh
//! cargo run --release --example mnist_born_machine                  # MPS, tuned defaults
//! cargo run --release --example mnist_born_machine -- --model ttn   # TTN, its own defaults
//! cargo run --release --example mnist_born_machine -- --n-train 1000 --sweeps 2
//! cargo run --release --example mnist_born_machine -- --npy rand1k_thr50_train.npy
//! cargo run --release --example mnist_born_machine -- --resume out/mnist_born_machine/model.tnlborn
//! cargo run --release --features progress --example mnist_born_machine   # with a progress bar
//! mpirun -n 4 target/release/examples/mnist_born_machine   # built with --features mpi
//! ```
//!
//! With the cargo feature `mpi`, under `mpirun -n K` the MPS trains data-parallel
//! on `K` processes (`MpsBornMachine::fit_distributed_with`): every rank loads the
//! data, draws the same split, and trains on its shard of the training and
//! validation images; rank 0 prints, evaluates and writes the files. The result
//! does not depend on `K` (up to rounding). See the README, "Training on a cluster".
//!
//! Data: the 8,000 shipped training images, of which a random 10%
//! (`--valid-fraction`) are held out for validation, and the 2,000 shipped test
//! images. After every half-sweep the library computes the validation NLL, keeps
//! the best model, and stops after `--patience` half-sweeps without a better one
//! (`--patience 0`: no validation, plain training); the model that is sampled,
//! saved and scored is the restored best one (the model after the warm-up, if no
//! half-sweep on the full set beats its validation NLL).
//!
//! Writes to `--out-dir` (default `out/mnist_born_machine/`): `nll.png` (train,
//! validation and test NLL against half-sweeps) and `nll.csv`, `samples.png` (100
//! exact samples), `inpainting_top.png`, `inpainting_left.png`,
//! `inpainting_random.png` (10 test digits: originals, masked input with hidden
//! pixels grey, completion), and the model, `model.tnlborn` (MPS) or
//! `model.tnlttn` (TTN). One line per half-sweep is printed while training
//! (`tnlearn::born::ProgressLog`, plus the test NLL); the last line is one JSON
//! object whose `test_nll` is the restored best model's on the 2,000 test images.
//! `seconds` counts training only (with the validation NLL, without the test NLL
//! of every half-sweep that the plot needs); `cpu_seconds` is the process CPU
//! time of the same work. `nll.csv` has both, cumulative from the start of the
//! run, for every half-sweep (`train_seconds`, `train_cpu_seconds`): one run gives
//! its whole anytime curve (`examples/born_anytime.rs` reads several and tabulates
//! them per budget).
//!
//! `--time-budget SECONDS` bounds the training time: no half-sweep (warm-up or
//! full set) starts once that much training time is spent (the one running then
//! finishes), and the best-validation model so far is kept as usual.
//! `--budget-clock cpu` reads the process CPU time instead of the wall clock: on a
//! shared machine, single-threaded runs (`RAYON_NUM_THREADS=1`) compared by CPU
//! seconds are compared fairly whatever the load. Set `--sweeps` high for the
//! budget to be the limit, e.g.
//! `RAYON_NUM_THREADS=1 cargo run --release --example mnist_born_machine -- --model ttn
//! --time-budget 180 --budget-clock cpu --sweeps 1000`.
//!
//! Defaults (chosen from the measurements in `docs/mps-born-machine.md`, "The
//! flagship's defaults", and `docs/ttn.md`, "The flagship's TTN defaults"): plain
//! gradient steps, learning rate 0.02, two steps per bond, cutoff 1e-7, a warm-up
//! of 2 sweeps on 2,000 of the training images (from a random start, full-batch
//! sweeps on all images stall near 145-150 nats), then the full training set with
//! patience 4; the MPS takes full-batch steps, the TTN minibatches of 2,400 images
//! (a third of the `n D^4` gradient work; each split is kept only if it lowers the
//! NLL of all training images):
//!
//! | model | max bond | batch | sweeps on the full set | test NLL | training: wall s | cpu s |
//! |---|---|---|---|---|---|---|
//! | MPS | 64 | full | 30 (early stopping ended it after 27) | **92.48** | 227 | 365 |
//! | TTN | 16 | 2,400 | 5 | 95.73 | 113 | 132 |
//!
//! Measured on a quiet 2-core machine (2026-12-02). The MPS default was `max_bond`
//! 32 with 10 sweeps until the per-budget comparison (docs/ttn.md, "Equal training
//! time, configurations tuned per budget") showed that bond 64 is the better MPS at
//! every budget: 98.07 in 45 s with the old default. The TTN's test NLL was still
//! falling at the end (about 0.45 nats per half-sweep): with more sweeps it reaches
//! 91.2 after about 9 CPU minutes, ahead of the MPS from about 5 CPU minutes on.

#[path = "common/plot.rs"]
mod plot;

mod common;
#[path = "common/ranks.rs"]
mod ranks;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tnlearn::born::{
    AnyBornMachine, BornMachine, BornOptions, FitControl, FitObserver, HalfSweepReport,
    MpsBornMachine, ProgressLog, StepRule, TtnBornMachine, Validation,
};
use tnlearn::data::{mnist, Dataset};
use tnlearn::{Error, Result};

/// The tuned defaults of one model (see the table in the header).
struct Defaults {
    max_bond: usize,
    learning_rate: f64,
    size_exponent: f64,
    steps_per_bond: usize,
    /// Samples per gradient step (0: full batch).
    batch_size: usize,
    sweeps: usize,
}

const MPS_DEFAULTS: Defaults = Defaults {
    max_bond: 64,
    learning_rate: 0.02,
    size_exponent: -1.0,
    steps_per_bond: 2,
    batch_size: 0,
    sweeps: 30,
};

const TTN_DEFAULTS: Defaults = Defaults {
    max_bond: 16,
    learning_rate: 0.02,
    size_exponent: -1.0,
    steps_per_bond: 2,
    batch_size: 2400,
    sweeps: 5,
};

/// MPS / TTN Born machine on binarized MNIST with early stopping (Han et al., PRX 2018).
#[derive(Parser)]
#[command(name = "mnist_born_machine", version, allow_negative_numbers = true)]
struct Args {
    /// Read MNIST images from an IDX file (threshold 0.5) instead of the shipped subset
    #[arg(long, value_name = "IMAGES.idx[.gz]", conflicts_with = "npy")]
    idx: Option<PathBuf>,
    /// Read 0/1 images (n x 784) from a .npy file instead of the shipped subset
    #[arg(long, value_name = "DATA.npy")]
    npy: Option<PathBuf>,
    /// mps: matrix product state; ttn: tree tensor network over the 2D image (cost grows as D^4)
    #[arg(long, value_enum, default_value = "mps")]
    model: Kind,
    /// Training images incl. the validation split (default: all)
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    n_train: Option<u32>,
    /// Fraction of the training images held out for validation
    #[arg(long, default_value_t = 0.1)]
    valid_fraction: f64,
    /// Warm-up: the first sweeps train on this many of the training images
    #[arg(long, default_value_t = 2000)]
    warmup_images: u32,
    /// Warm-up sweeps on --warmup-images images before the full training set (0: none)
    #[arg(long, default_value_t = 2)]
    warmup_sweeps: u32,
    /// Half-sweeps without a better validation NLL before stopping (0: no validation)
    #[arg(long, default_value_t = 4)]
    patience: u32,
    /// Largest bond dimension (default: MPS 64, TTN 16)
    #[arg(long)]
    max_bond: Option<u32>,
    /// Relative singular-value cutoff
    #[arg(long, default_value_t = 1e-7)]
    cutoff: f64,
    /// Gradient step size (default 0.02)
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Normalised steps of length lr * max(|grad|, 2 n^a) (Han et al.: 0.25); negative (default): plain gradient steps
    #[arg(long)]
    size_exponent: Option<f64>,
    /// Gradient steps per bond visit (default 2)
    #[arg(long)]
    steps_per_bond: Option<u32>,
    /// Samples per step (0 = full batch; default: MPS 0, TTN 2400)
    #[arg(long)]
    batch_size: Option<u32>,
    /// Most back-and-forth sweeps on the full training set (default: MPS 30, TTN 5)
    #[arg(long)]
    sweeps: Option<u32>,
    /// Random seed
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory
    #[arg(long, default_value = "out/mnist_born_machine/")]
    out_dir: PathBuf,
    /// Continue training a saved model (its bond dimensions are kept)
    #[arg(long, value_name = "MODEL.tnlborn|MODEL.tnlttn")]
    resume: Option<PathBuf>,
    /// Training time budget: no half-sweep starts once this much training time (warm-up and validation NLL included, the curves' test NLL not) is spent; the best-validation model is kept
    #[arg(long, value_name = "SECONDS")]
    time_budget: Option<f64>,
    /// The clock of --time-budget: wall seconds, or process CPU seconds (to compare runs on a shared machine, with RAYON_NUM_THREADS=1)
    #[arg(long, value_enum, default_value = "wall")]
    budget_clock: Clock,
}

/// The clock that `--time-budget` reads.
#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Clock {
    /// Wall-clock seconds
    Wall,
    /// Process CPU seconds (user + system, all threads)
    Cpu,
}

/// Training time so far: wall and process CPU seconds since the start, less the
/// time spent on evaluations that are not training (the test NLL of the curves,
/// the warm-up model's validation NLL).
struct TrainClock {
    start: Instant,
    cpu_start: f64,
    eval_seconds: f64,
    eval_cpu: f64,
}

impl TrainClock {
    fn start() -> Self {
        TrainClock {
            start: Instant::now(),
            cpu_start: common::cpu_seconds(),
            eval_seconds: 0.0,
            eval_cpu: 0.0,
        }
    }

    /// (wall, CPU) training seconds so far.
    fn now(&self) -> (f64, f64) {
        (
            self.start.elapsed().as_secs_f64() - self.eval_seconds,
            common::cpu_seconds() - self.cpu_start - self.eval_cpu,
        )
    }

    /// Runs `f` without counting its time as training.
    fn exclude<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let (t, c) = (Instant::now(), common::cpu_seconds());
        let v = f();
        self.eval_seconds += t.elapsed().as_secs_f64();
        self.eval_cpu += common::cpu_seconds() - c;
        v
    }
}

/// `--time-budget` on its clock.
#[derive(Clone, Copy)]
struct Budget {
    seconds: f64,
    clock: Clock,
}

impl Budget {
    /// Whether the training time `(wall, cpu)` has used up the budget.
    fn spent(&self, (wall, cpu): (f64, f64)) -> bool {
        match self.clock {
            Clock::Wall => wall >= self.seconds,
            Clock::Cpu => cpu >= self.seconds,
        }
    }
}

/// The two models, as flag values.
#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Kind {
    /// Matrix product state
    Mps,
    /// Tree tensor network over the 2D image
    Ttn,
}

/// (train, test) from the chosen source; a file source keeps its last 20% (at most
/// 2000 images) as the test set.
fn load_data(args: &Args) -> Result<(Dataset, Dataset)> {
    let all = if let Some(p) = &args.idx {
        tnlearn::io::idx::read_images(p, 0.5)?
    } else if let Some(p) = &args.npy {
        tnlearn::io::npy::read_binary(p)?
    } else {
        return mnist::shipped();
    };
    let n = all.len();
    let n_test = (n / 5).min(2000);
    if n_test == 0 {
        return Err(Error::invalid_argument("data", format!("only {n} images")));
    }
    Ok((all.subset(0..n - n_test)?, all.subset(n - n_test..n)?))
}

/// One half-sweep of the curves (numbered over warm-up and training).
struct Row {
    half_sweep: usize,
    warmup: bool,
    report: HalfSweepReport,
    test_nll: f64,
    /// Training seconds (wall, CPU) at the end of this half-sweep, counted from
    /// the start of the run (see [`TrainClock`]).
    train_seconds: (f64, f64),
}

/// The example's observer: the library's progress line plus the test NLL (whose
/// time is measured, so that it can be taken out of the training time), and with
/// the `progress` feature the library's bar advancing per bond.
struct Observer<'a> {
    test: &'a Dataset,
    log: ProgressLog<std::io::Stdout>,
    #[cfg(feature = "progress")]
    bar: tnlearn::born::FitProgressBar,
    rows: Vec<Row>,
    /// Not rank 0 of a distributed run: no evaluation, no output.
    quiet: bool,
    /// Half-sweeps of earlier phases (the warm-up), and whether this is one.
    offset: usize,
    warmup: bool,
    clock: TrainClock,
    budget: Option<Budget>,
    /// Set when the observer stopped the fit because the budget was spent.
    budget_spent: bool,
}

impl FitObserver<HalfSweepReport, AnyBornMachine> for Observer<'_> {
    fn on_report(&mut self, r: &HalfSweepReport, model: &AnyBornMachine) -> FitControl {
        if self.quiet {
            return FitControl::Continue;
        }
        let train_seconds = self.clock.now();
        let test = self.test;
        let test_nll = self.clock.exclude(|| model.nll(test).unwrap_or(f64::NAN));
        let line = format!(
            "{}{}  test {test_nll:8.3}",
            if self.warmup { "warm-up " } else { "" },
            self.log.line(r, 2 * model.options().sweeps)
        );
        #[cfg(feature = "progress")]
        self.bar.println(&line);
        #[cfg(not(feature = "progress"))]
        println!("{line}");
        self.rows.push(Row {
            half_sweep: self.offset + r.half_sweep(),
            warmup: self.warmup,
            report: *r,
            test_nll,
            train_seconds,
        });
        if self.budget.is_some_and(|b| b.spent(train_seconds)) {
            self.budget_spent = true;
            return FitControl::Stop;
        }
        FitControl::Continue
    }

    fn on_progress(&mut self, done: u64, total: u64) {
        if self.quiet {
            return;
        }
        FitObserver::<HalfSweepReport, AnyBornMachine>::on_progress(&mut self.log, done, total);
        #[cfg(feature = "progress")]
        FitObserver::<HalfSweepReport, AnyBornMachine>::on_progress(&mut self.bar, done, total);
    }
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run(Args::parse())?))
}

fn run(args: Args) -> Result<()> {
    // Every argument is checked (and every input read) before the output directory
    // is created.
    let out_dir = args.out_dir.clone();
    let ranks = ranks::Ranks::init()?;
    let kind = match args.model {
        Kind::Mps => "mps",
        Kind::Ttn => "ttn",
    };
    let def = if args.model == Kind::Ttn {
        &TTN_DEFAULTS
    } else {
        &MPS_DEFAULTS
    };
    let or = |v: Option<u32>, d: usize| v.map_or(d, |v| v as usize);
    let seed = args.seed;
    let batch = or(args.batch_size, def.batch_size);
    let options = BornOptions::new()
        .max_bond(or(args.max_bond, def.max_bond))
        .cutoff(args.cutoff)
        .learning_rate(args.learning_rate.unwrap_or(def.learning_rate))
        .step_rule(match args.size_exponent.unwrap_or(def.size_exponent) {
            a if a >= 0.0 => StepRule::Normalized { size_exponent: a },
            _ => StepRule::Plain,
        })
        .steps_per_bond(or(args.steps_per_bond, def.steps_per_bond))
        .batch_size((batch > 0).then_some(batch))
        .sweeps(or(args.sweeps, def.sweeps))
        .seed(seed);
    options.validate()?;
    let patience = args.patience as usize;
    let valid_fraction = args.valid_fraction;
    if patience > 0 && !(valid_fraction > 0.0 && valid_fraction < 1.0) {
        return Err(Error::invalid_argument(
            "valid-fraction",
            format!("must be in (0, 1) with early stopping (got {valid_fraction}); use --patience 0 for none"),
        ));
    }
    let budget = args
        .time_budget
        .map(|seconds| {
            if !(seconds.is_finite() && seconds > 0.0) {
                return Err(Error::invalid_argument(
                    "time-budget",
                    format!("must be a positive number of seconds (got {seconds})"),
                ));
            }
            if ranks.size() > 1 {
                return Err(Error::invalid_argument(
                    "time-budget",
                    "is not supported under mpirun (the ranks' clocks differ); use --sweeps",
                ));
            }
            if args.budget_clock == Clock::Cpu && common::cpu_seconds().is_nan() {
                return Err(Error::invalid_argument(
                    "budget-clock",
                    "cpu: the process CPU time is not available here (/proc/self/stat); use wall",
                ));
            }
            Ok(Budget {
                seconds,
                clock: args.budget_clock,
            })
        })
        .transpose()?;

    // Data: a random subset of the training images, split into train and
    // validation; the whole test set.
    let (train_all, test) = load_data(&args)?;
    let n_train = or(args.n_train, train_all.len()).min(train_all.len());
    let mut rng = StdRng::seed_from_u64(seed);
    let idx = rand::seq::index::sample(&mut rng, train_all.len(), n_train).into_vec();
    let n_valid = if patience > 0 {
        ((n_train as f64 * valid_fraction).round() as usize).clamp(1, n_train - 1)
    } else {
        0
    };
    let valid = (n_valid > 0)
        .then(|| train_all.subset(idx[..n_valid].iter().copied()))
        .transpose()?;
    let train = train_all.subset(idx[n_valid..].iter().copied())?;
    let side = (train.num_sites() as f64).sqrt() as usize;
    let shape = train
        .image_shape()
        .unwrap_or((side, train.num_sites() / side.max(1)));
    if ranks.is_root() {
        if let Some(b) = budget {
            println!(
                "time budget: {} {:?} seconds of training",
                b.seconds, b.clock
            );
        }
        println!(
        "{kind}: train {} images, validation {n_valid}, test {}, {} sites; max_bond {}, \
         cutoff {:e}, lr {}, {:?}, steps/bond {}, batch {:?}, at most {} sweeps, patience {patience}",
        train.len(),
        test.len(),
        train.num_sites(),
        options.truncation.max_bond,
        options.truncation.cutoff,
        options.learning_rate,
        options.step_rule,
        options.steps_per_bond,
        options.batch_size,
        options.sweeps
    );
        if ranks.size() > 1 {
            println!("data-parallel on {} ranks", ranks.size());
        }
    }

    let mut model: AnyBornMachine = match &args.resume {
        Some(p) => {
            let mut model = AnyBornMachine::load(p)?;
            model.set_options(options)?;
            if ranks.is_root() {
                println!(
                    "resumed {} {} (max bond {})",
                    model.kind(),
                    p.display(),
                    model.max_bond()
                );
            }
            model
        }
        None if kind == "ttn" => TtnBornMachine::for_image(shape.0, shape.1, 2, options)?.into(),
        None => MpsBornMachine::new(train.num_sites(), 2, options)?.into(),
    };
    let kind = model.kind();
    if ranks.is_root() {
        common::create_dir(&out_dir)?;
    }

    let new_observer = |warmup: bool, offset: usize, clock: TrainClock| Observer {
        test: &test,
        log: ProgressLog::stdout(),
        #[cfg(feature = "progress")]
        bar: tnlearn::born::FitProgressBar::new(),
        rows: Vec::new(),
        quiet: !ranks.is_root(),
        offset,
        warmup,
        clock,
        budget,
        budget_spent: false,
    };
    let mut clock = TrainClock::start();
    let mut rows = Vec::new();
    let mut spent = false;
    // Warm-up: a few sweeps on a part of the training images. From a random start,
    // full-batch sweeps on all 7,200 images stall near 145-150 nats (D = 32); two
    // sweeps on 2,000 images first bring the model to ~120, from where the full set
    // keeps improving (see the docs' table).
    let warmup_sweeps = args.warmup_sweeps as usize;
    let warmup_images = (args.warmup_images as usize).min(train.len());
    let resumed = args.resume.is_some();
    if !resumed && warmup_sweeps > 0 && warmup_images > 0 && warmup_images < train.len() {
        let warm = train.take(warmup_images);
        if ranks.is_root() {
            println!("warm-up: {warmup_sweeps} sweeps on {warmup_images} of the training images");
        }
        model.set_options(options.sweeps(warmup_sweeps))?;
        let mut observer = new_observer(true, 0, clock);
        model.fit_distributed_with(&ranks.shard(&warm)?, None, ranks.comm(), &mut observer)?;
        #[cfg(feature = "progress")]
        observer.bar.finish();
        (clock, rows, spent) = (observer.clock, observer.rows, observer.budget_spent);
        model.set_options(options)?;
        if ranks.is_root() && !spent {
            println!("training on all {} training images", train.len());
        }
    }
    let offset = rows.len();
    // Early stopping across the two phases: the warm-up model is the candidate to
    // beat (its validation NLL is not part of the training time).
    let warm = match &valid {
        Some(v) if offset > 0 => {
            let nll = clock.exclude(|| model.nll(v))?;
            // The curves show the warm-up model's validation NLL too.
            if let Some(last) = rows.last_mut() {
                last.report.valid_nll = Some(nll);
            }
            Some((nll, model.clone()))
        }
        _ => None,
    };
    let valid_shard = valid.as_ref().map(|v| ranks.shard(v)).transpose()?;
    let validation = valid_shard
        .as_ref()
        .map(|v| Validation::new(v).patience(patience));
    let train_shard = ranks.shard(&train)?;
    let mut best = if spent {
        // The budget ran out in the warm-up: no half-sweep on the full set.
        println!("time budget spent in the warm-up: keeping the warm-up model");
        warm.is_some().then_some(offset)
    } else {
        let mut observer = new_observer(false, offset, clock);
        let reports =
            model.fit_distributed_with(&train_shard, validation, ranks.comm(), &mut observer)?;
        if !ranks.is_root() {
            return Ok(()); // rank 0 evaluates and writes
        }
        #[cfg(feature = "progress")]
        observer.bar.finish();
        (clock, spent) = (observer.clock, observer.budget_spent);
        rows.extend(observer.rows);
        if spent {
            println!("time budget spent after {} half-sweeps", rows.len());
        }
        reports
            .last()
            .and_then(|r| r.best_half_sweep)
            .map(|b| b + offset)
    };
    let (train_seconds, train_cpu) = clock.now();
    if let (Some((warm_nll, warm_model)), Some(b)) = (warm, best.filter(|&b| b > offset)) {
        let best_nll = rows[b - 1].report.valid_nll.unwrap_or(f64::INFINITY);
        if warm_nll <= best_nll {
            println!(
                "the warm-up model has the lower validation NLL ({warm_nll:.3} <= {best_nll:.3}): \
                 keeping it"
            );
            model = warm_model;
            best = Some(offset);
        }
    }
    let train_nll = model.nll(&train)?;
    let valid_nll = valid.as_ref().map(|v| model.nll(v)).transpose()?;
    let test_nll = model.nll(&test)?;
    if let Some(b) = best {
        println!(
            "restored the model of half-sweep {b} (best validation NLL) after {} half-sweeps",
            rows.len()
        );
    }

    // The curves: CSV and plot.
    let io_err = |path: PathBuf| move |source| Error::Io { path, source };
    let mut csv = String::from(
        "half_sweep,phase,sweep,direction,train_nll,valid_nll,test_nll,max_bond,truncation_error,seconds,best,train_seconds,train_cpu_seconds\n",
    );
    for row in &rows {
        let r = &row.report;
        csv.push_str(&format!(
            "{},{},{},{:?},{},{},{},{},{},{},{},{},{}\n",
            row.half_sweep,
            if row.warmup { "warm-up" } else { "train" },
            r.sweep,
            r.direction,
            r.train_nll,
            r.valid_nll.map_or(String::new(), |v| v.to_string()),
            row.test_nll,
            r.max_bond,
            r.truncation_error,
            r.seconds,
            Some(row.half_sweep) == best,
            row.train_seconds.0,
            row.train_seconds.1,
        ));
    }
    let csv_path = out_dir.join("nll.csv");
    std::fs::write(&csv_path, csv).map_err(io_err(csv_path.clone()))?;
    let curve = |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<(f64, f64)> {
        rows.iter()
            .filter_map(|r| f(r).map(|y| (r.half_sweep as f64, y)))
            .collect()
    };
    let mut series = vec![plot::Series {
        name: "train",
        points: curve(&|r| (!r.warmup).then_some(r.report.train_nll)),
    }];
    if offset > 0 {
        series.push(plot::Series {
            name: "train (warm-up subset)",
            points: curve(&|r| r.warmup.then_some(r.report.train_nll)),
        });
    }
    if valid.is_some() {
        series.push(plot::Series {
            name: "validation",
            points: curve(&|r| r.report.valid_nll),
        });
    }
    series.push(plot::Series {
        name: "test",
        points: curve(&|r| Some(r.test_nll)),
    });
    let title = match best {
        Some(b) => format!(
            "{} Born machine, D = {}: NLL per half-sweep (best: half-sweep {b}, test {test_nll:.1})",
            kind.to_uppercase(),
            options.truncation.max_bond
        ),
        None => format!(
            "{} Born machine, D = {}: NLL per half-sweep",
            kind.to_uppercase(),
            options.truncation.max_bond
        ),
    };
    plot::line_chart(
        out_dir.join("nll.png"),
        &title,
        "half-sweep",
        "NLL (nats per image)",
        &series,
    )?;

    // Samples (timed on a larger batch for the rate).
    let t = Instant::now();
    let n_rate = if kind == "ttn" { 200 } else { 1000 };
    let many = model.sample(n_rate, &mut rng)?;
    let samples_per_second = n_rate as f64 / t.elapsed().as_secs_f64();
    let samples = many.slice(ndarray::s![..100, ..]).mapv(f64::from);
    plot::labelled_grid(
        out_dir.join("samples.png"),
        &format!(
            "100 exact samples of the {} Born machine (max bond {})",
            kind.to_uppercase(),
            model.max_bond()
        ),
        samples.view(),
        shape,
        10,
        2,
        &[],
    )?;

    // Inpainting of 10 test digits under three masks, one picture per mask.
    let n_sites = train.num_sites();
    let (rows_px, cols_px) = shape;
    let top: Vec<bool> = (0..n_sites).map(|i| i / cols_px >= rows_px / 2).collect();
    let left: Vec<bool> = (0..n_sites).map(|i| i % cols_px >= cols_px / 2).collect();
    let random: Vec<bool> = (0..n_sites).map(|_| rng.random::<bool>()).collect();
    let picks: Vec<usize> = (0..10).map(|i| i * test.len() / 10).collect();
    for (name, what, mask) in [
        ("top", "top half hidden", &top),
        ("left", "left half hidden", &left),
        ("random", "random 50% hidden", &random),
    ] {
        let mut grid = Array2::<f64>::zeros((30, n_sites));
        for (j, &i) in picks.iter().enumerate() {
            let x = test.sample(i).to_vec();
            grid.row_mut(j).assign(&test.sample(i).mapv(f64::from));
            let masked = (0..n_sites).map(|k| if mask[k] { x[k] as f64 } else { 0.5 });
            grid.row_mut(10 + j)
                .assign(&ndarray::Array1::from_iter(masked));
            let filled = model.sample_conditional(&x, mask, 1, &mut rng)?;
            grid.row_mut(20 + j).assign(&filled.row(0).mapv(f64::from));
        }
        plot::labelled_grid(
            out_dir.join(format!("inpainting_{name}.png")),
            &format!("{} inpainting, {what} (grey)", kind.to_uppercase()),
            grid.view(),
            shape,
            10,
            2,
            &["original", "masked", "completed"],
        )?;
    }
    let model_file = format!("model.{}", if kind == "ttn" { "tnlttn" } else { "tnlborn" });
    model.save(out_dir.join(&model_file))?;
    println!(
        "wrote {}/{{nll.png,nll.csv,samples.png,inpainting_top.png,inpainting_left.png,\
         inpainting_random.png,{model_file}}}",
        out_dir.display()
    );
    // serde_json: a non-finite NLL (a test image of probability 0) is null.
    common::json_line(&serde_json::json!({
        "model": kind,
        "train_nll": train_nll,
        "valid_nll": valid_nll,
        "test_nll": test_nll,
        "best_half_sweep": best,
        "half_sweeps": rows.len(),
        "max_bond": model.max_bond(),
        "train_images": train.len(),
        "seconds": train_seconds,
        "cpu_seconds": train_cpu,
        "time_budget": budget.map(|b| b.seconds),
        "budget_spent": spent,
        "samples_per_second": samples_per_second,
    }));
    Ok(())
}
