//! Model comparison on Ising data with an exact answer key: trains each generative
//! model on Monte Carlo samples of the 2D Ising model and reports its test NLL per
//! site against the exact entropy per site (Kaufman). Their difference is the
//! model's KL divergence from the Boltzmann distribution, per site: it cannot be
//! negative beyond sampling noise, so it is an absolute quality measure.
//!
//! ```sh
//! cargo run --release --example ising_benchmark      # MPS D = 8, 16, 32; TTN D = 8, 16
//! cargo run --release --example ising_benchmark -- --size 8 --max-bonds 4,8,16 --n-train 5000
//! cargo run --release --example ising_benchmark -- --models mps,ttn,cora
//! cargo run --release --example ising_benchmark -- --models ttn --ttn-max-bonds 16 --n-train 40000
//! cargo run --release --example ising_benchmark -- --temperature 3.0 --save-data
//! ```
//!
//! Writes `benchmark.md`, `benchmark.csv`, `data.png` (20 training configurations,
//! white = up) and `samples_<model>_d<bond>.png` (20 samples of each trained model) to
//! `--out-dir` (default `out/ising_benchmark/`), with `--save-data` also `train.npy`, `test.npy` (uint8
//! bits, 1 = spin up, row-major L x L) and `ising.tnlbits` (both sets, packed). The
//! last line printed is one JSON object.
//!
//! Two KL estimates are reported: `NLL/N - s` with the standard error from the spread
//! of the per-sample NLLs, and the paired estimate `mean_x [ln p(x) - ln q(x)] / N`
//! over the same test samples (`-ln p(x) = K E(x) + ln Z` is exact), whose standard
//! error is much smaller because model and true NLL fluctuate together.
//!
//! Models: `mps` (the MPS Born machine, sites laid out in snake order so consecutive
//! sites are lattice neighbours), `ttn` (the TTN Born machine on the image tree of
//! the lattice: vertical neighbours stay close), `cora`. To add a model, write one
//! function returning the per-sample test NLLs and the training time (see
//! `train_mps`) and add one variant to `Model`.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array2, Axis};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tnlearn::born::{BornMachine, BornOptions, FitControl, MpsBornMachine, TtnBornMachine};
use tnlearn::cora::{Architecture, Boundary, Cora, CoraFitOptions, MapSharing};
use tnlearn::data::Dataset;
use tnlearn::io::png::write_image_grid;
use tnlearn::ising::sampling::{self, ClusterAlgorithm, SamplerOptions};
use tnlearn::ising::{exact, snake_order, stats, Lattice, CRITICAL_TEMPERATURE};
use tnlearn::{Error, Result};

/// What every model run returns.
struct ModelRun {
    /// `-ln p(x)` of every test sample, nats.
    test_nll: Vec<f64>,
    /// Training wall-clock seconds.
    seconds: f64,
    /// Training CPU seconds of the process (user + system, all threads; `NaN` where
    /// not measured).
    cpu_seconds: f64,
    /// Mean NLL per sample on the training set.
    train_nll: f64,
    /// A short description of the trained model (e.g. its largest bond).
    detail: String,
    /// A few samples of the trained model, `n x N` bits in row-major lattice order.
    samples: Array2<u8>,
}

/// Samples drawn from each trained model for the PNGs.
const PNG_SAMPLES: usize = 20;

/// Training settings shared by the models.
struct Settings {
    max_bond: usize,
    sweeps: usize,
    learning_rate: f64,
    steps_per_bond: usize,
    batch_size: Option<usize>,
    seed: u64,
}

/// One arm per model.
fn run_model(model: Model, train: &Dataset, test: &Dataset, s: &Settings) -> Result<ModelRun> {
    match model {
        Model::Mps => train_mps(train, test, s),
        Model::Ttn => train_ttn(train, test, s),
        Model::Cora => train_cora(train, test, s),
    }
}

/// The TTN Born machine on the image tree of the lattice (row-major sites).
fn train_ttn(train: &Dataset, test: &Dataset, s: &Settings) -> Result<ModelRun> {
    let (rows, cols) = train.image_shape().unwrap_or((1, train.num_sites()));
    let model = TtnBornMachine::for_image(rows, cols, 2, born_options(s))?;
    fit_born("ttn", model, train, test, s)
}

/// The Born machine options of one run.
fn born_options(s: &Settings) -> BornOptions {
    BornOptions::new()
        .max_bond(s.max_bond)
        .initial_bond(2.min(s.max_bond))
        .learning_rate(s.learning_rate)
        .steps_per_bond(s.steps_per_bond)
        .batch_size(s.batch_size)
        .sweeps(s.sweeps)
        .seed(s.seed)
}

/// Trains a Born machine with a progress bar and scores it: per-sample test NLLs,
/// training seconds and NLL, samples in the model's site order.
fn fit_born<M: BornMachine>(
    name: &str,
    mut model: M,
    train: &Dataset,
    test: &Dataset,
    s: &Settings,
) -> Result<ModelRun> {
    let bar = half_sweep_bar(name, s);
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    model.fit_with_fn(train, |_, _| {
        bar.inc(1);
        FitControl::Continue
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = cpu_seconds() - cpu_start;
    bar.finish_and_clear();
    let test_nll = model
        .log_probs(test.samples())?
        .into_iter()
        .map(|l| -l)
        .collect();
    Ok(ModelRun {
        test_nll,
        seconds,
        cpu_seconds,
        train_nll: model.nll(train)?,
        detail: format!("max bond reached {}", model.max_bond()),
        samples: model.sample(PNG_SAMPLES, &mut StdRng::seed_from_u64(s.seed))?,
    })
}

/// A progress bar over the half-sweeps of one training run.
fn half_sweep_bar(name: &str, s: &Settings) -> ProgressBar {
    let bar = ProgressBar::new(2 * s.sweeps as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "  {name} D={{msg}} half-sweep {{pos}}/{{len}} [{{bar:30}}] {{elapsed_precise}}"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(format!("{}", s.max_bond));
    bar
}

/// CPU seconds (user + system) used so far by this process, all threads included
/// (`getrusage(RUSAGE_SELF)`); `NaN` off Linux.
fn cpu_seconds() -> f64 {
    #[cfg(target_os = "linux")]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is valid.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
            // SAFETY: initialised by the successful call.
            let u = unsafe { usage.assume_init() };
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
            return secs(u.ru_utime) + secs(u.ru_stime);
        }
    }
    f64::NAN
}

/// The MPS Born machine on the snake ordering of the lattice.
fn train_mps(train: &Dataset, test: &Dataset, s: &Settings) -> Result<ModelRun> {
    let (rows, cols) = train.image_shape().unwrap_or((1, train.num_sites()));
    let order = snake_order(rows, cols)?;
    let reorder = |d: &Dataset| Dataset::binary(d.samples().select(Axis(1), &order));
    let (train, test) = (reorder(train)?, reorder(test)?);
    let model = MpsBornMachine::new(train.num_sites(), 2, born_options(s))?;
    let mut run = fit_born("mps", model, &train, &test, s)?;
    // Model samples come in snake order; put position k back at site order[k].
    let mut samples = Array2::<u8>::zeros(run.samples.dim());
    for (k, &site) in order.iter().enumerate() {
        samples.column_mut(site).assign(&run.samples.column(k));
    }
    run.samples = samples;
    Ok(run)
}

/// CORA (2x2 blocks, periodic, hidden dimension `chi = min(max_bond, 4)`, maps
/// shared per level): layerwise then joint EM on 2x2 patches. Its full likelihood is
/// not tractable: the per-sample test "NLL" is the K = 20 importance-sampling
/// upper bound `-ln p_K(x) >= -ln p(x)`, so the KL reported for CORA is an upper
/// bound too.
fn train_cora(train: &Dataset, test: &Dataset, s: &Settings) -> Result<ModelRun> {
    let (rows, cols) = train.image_shape().unwrap_or((1, train.num_sites()));
    check_cora_size(rows, cols)?;
    let chi = s.max_bond.min(4);
    let arch = Architecture::square_2x2(rows, cols)
        .levels(rows.trailing_zeros() as usize)
        .chi(chi)
        .boundary(Boundary::Periodic)
        .sharing(MapSharing::PerLevel);
    let mut rng = StdRng::seed_from_u64(s.seed);
    let options = CoraFitOptions::new()
        .em_iterations(10)
        .patch((2, 2))
        .seed(s.seed);
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let mut model = Cora::initial(arch, 0.5, &mut rng)?;
    model.fit_layerwise(train, &options)?;
    model.fit_joint(train, &options.em_iterations(5))?;
    model.priors_from_model()?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = cpu_seconds() - cpu_start;
    let test_nll = model
        .log_likelihood_bounds(test, 20, &mut rng)?
        .into_iter()
        .map(|l| -l)
        .collect();
    let train_nll = model.nll_bound(&train.take(train.len().min(1000)), 20, &mut rng)?;
    let samples = model.sample(PNG_SAMPLES, &mut rng)?;
    Ok(ModelRun {
        test_nll,
        seconds,
        cpu_seconds,
        train_nll,
        detail: format!("chi {chi}, NLL = K=20 upper bound"),
        samples,
    })
}

/// CORA's 2x2 blocks need a square lattice with a power-of-two side.
fn check_cora_size(rows: usize, cols: usize) -> Result<()> {
    if rows != cols || !rows.is_power_of_two() {
        return Err(Error::invalid_argument(
            "size",
            format!("cora needs a power-of-two L (got {rows} x {cols})"),
        ));
    }
    Ok(())
}

/// Generative models on 2D Ising data: test NLL per site against the exact entropy.
#[derive(Parser)]
#[command(name = "ising_benchmark", version, allow_negative_numbers = true)]
struct Args {
    /// Lattice side L (an L x L torus)
    #[arg(long, alias = "l", default_value_t = 16, value_parser = clap::value_parser!(u32).range(2..=1024))]
    size: u32,
    /// Temperature (default: the critical temperature T_c)
    #[arg(long, default_value_t = CRITICAL_TEMPERATURE)]
    temperature: f64,
    /// Training samples
    #[arg(long, default_value_t = 10000, value_parser = clap::value_parser!(u32).range(1..))]
    n_train: u32,
    /// Test samples
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(2..))]
    n_test: u32,
    /// Models to train, comma-separated
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mps,ttn")]
    models: Vec<Model>,
    /// Bond dimensions of the MPS (CORA: hidden dimension min(D, 4), each once),
    /// comma-separated
    #[arg(long, value_delimiter = ',', default_value = "8,16,32", value_parser = clap::value_parser!(u32).range(1..))]
    max_bonds: Vec<u32>,
    /// Bond dimensions of the TTN, comma-separated (its two-node updates cost
    /// O(n D^4) against the MPS's O(n D^3))
    #[arg(long, value_delimiter = ',', default_value = "8,16", value_parser = clap::value_parser!(u32).range(1..))]
    ttn_max_bonds: Vec<u32>,
    /// Training sweeps
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    sweeps: u32,
    /// Gradient step size
    #[arg(long, default_value_t = 0.1)]
    learning_rate: f64,
    /// Gradient steps per bond visit
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    steps_per_bond: u32,
    /// Samples per gradient step (0 = full batch)
    #[arg(long, default_value_t = 0)]
    batch_size: u32,
    /// Monte Carlo algorithm
    #[arg(long, value_enum, default_value = "swendsen-wang")]
    algorithm: Algorithm,
    /// Cluster updates between recorded samples
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    thinning: u32,
    /// Random seed
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory
    #[arg(long, default_value = "out/ising_benchmark/")]
    out_dir: PathBuf,
    /// Also write train.npy, test.npy and ising.tnlbits
    #[arg(long)]
    save_data: bool,
}

/// The models this benchmark trains.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Model {
    /// MPS Born machine on the snake order of the lattice
    Mps,
    /// TTN Born machine on the image tree of the lattice
    Ttn,
    /// CORA with 2x2 blocks
    Cora,
}

impl Model {
    fn name(self) -> &'static str {
        match self {
            Model::Mps => "mps",
            Model::Ttn => "ttn",
            Model::Cora => "cora",
        }
    }
}

/// The bond dimensions `kind` is trained with: `bonds` (the TTN: `ttn_bonds`); CORA
/// once per distinct hidden dimension `min(D, 4)`, as `min(D, 4)`.
fn model_bonds(kind: Model, bonds: &[usize], ttn_bonds: &[usize]) -> Vec<usize> {
    match kind {
        Model::Mps => bonds.to_vec(),
        Model::Ttn => ttn_bonds.to_vec(),
        Model::Cora => {
            let mut chis = Vec::new();
            for chi in bonds.iter().map(|&d| d.min(4)) {
                if !chis.contains(&chi) {
                    chis.push(chi);
                }
            }
            chis
        }
    }
}

/// The cluster algorithms, as flag values.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Algorithm {
    Wolff,
    SwendsenWang,
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run(Args::parse())?))
}

fn run(args: Args) -> Result<()> {
    let (l, n_train, n_test) = (
        args.size as usize,
        args.n_train as usize,
        args.n_test as usize,
    );
    let temperature = args.temperature;
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(Error::invalid_argument(
            "temperature",
            format!("must be a finite number > 0 (got {temperature})"),
        ));
    }
    let seed = args.seed;
    let algorithm = match args.algorithm {
        Algorithm::Wolff => ClusterAlgorithm::Wolff,
        Algorithm::SwendsenWang => ClusterAlgorithm::SwendsenWang,
    };
    let models = args.models.clone();
    let bonds: Vec<usize> = args.max_bonds.iter().map(|&b| b as usize).collect();
    let ttn_bonds: Vec<usize> = args.ttn_max_bonds.iter().map(|&b| b as usize).collect();
    let out_dir = args.out_dir.clone();
    let batch = args.batch_size as usize;
    let settings = |max_bond| Settings {
        max_bond,
        sweeps: args.sweeps as usize,
        learning_rate: args.learning_rate,
        steps_per_bond: args.steps_per_bond as usize,
        batch_size: (batch > 0).then_some(batch),
        seed,
    };
    // Every setting is checked before anything is sampled or written.
    for &kind in &models {
        match kind {
            Model::Mps | Model::Ttn => {
                for d in model_bonds(kind, &bonds, &ttn_bonds) {
                    born_options(&settings(d)).validate()?;
                }
            }
            Model::Cora => check_cora_size(l, l)?,
        }
    }
    common::create_dir(&out_dir)?;
    let io_err = |path: PathBuf| move |source| Error::Io { path, source };

    // Data and the exact answer key.
    let lattice = Lattice::square(l)?;
    let truth = exact::exact(&lattice, temperature)?;
    let n = lattice.num_sites() as f64;
    let sampler = SamplerOptions::new()
        .algorithm(algorithm)
        .burn_in(2000)
        .thinning(args.thinning as usize);
    let mut rng = StdRng::seed_from_u64(seed);
    let t0 = Instant::now();
    let all = sampling::sample(&lattice, temperature, n_train + n_test, &sampler, &mut rng)?;
    let (train, test) = (
        all.subset(0..n_train)?,
        all.subset(n_train..n_train + n_test)?,
    );
    // Check the data against the exact energy (blocking error over the whole chain).
    let energies: Vec<f64> = all
        .samples()
        .rows()
        .into_iter()
        .map(|row| {
            let spins = sampling::bits_to_spins(&row.to_vec()).expect("bits");
            lattice.energy(&spins).expect("configuration") / n
        })
        .collect();
    let e = stats::blocking(&energies)?;
    // -ln p(x) = K E(x) + ln Z under the true distribution, per test sample.
    let log_z = truth.log_z().expect("finite lattice");
    let true_nll: Vec<f64> = energies[n_train..]
        .iter()
        .map(|e_site| e_site * n / temperature + log_z)
        .collect();
    println!(
        "{l} x {l} torus at T = {temperature:.6}{}: {n_train} train + {n_test} test samples \
         ({}, {} updates apart) in {:.1} s",
        if temperature == CRITICAL_TEMPERATURE {
            " (T_c)"
        } else {
            ""
        },
        algorithm.name(),
        sampler.thinning,
        t0.elapsed().as_secs_f64()
    );
    println!(
        "data check: E/N = {:.5} +- {:.5} (exact {:.5}); exact entropy s = {:.6} nats/site",
        e.mean, e.std_error, truth.energy_per_site, truth.entropy_per_site
    );
    let shown = train.take(PNG_SAMPLES);
    write_image_grid(out_dir.join("data.png"), shown.samples(), (l, l), 10, 4)?;
    if args.save_data {
        tnlearn::io::npy::write_samples(out_dir.join("train.npy"), &train)?;
        tnlearn::io::npy::write_samples(out_dir.join("test.npy"), &test)?;
        tnlearn::io::packed::write_packed(out_dir.join("ising.tnlbits"), &train, &test)?;
        println!(
            "wrote train.npy, test.npy, ising.tnlbits to {}",
            out_dir.display()
        );
    }

    let mut md = format!(
        "Ising {l} x {l}, T = {temperature:.6}, {n_train} train / {n_test} test samples, seed {seed}; \
         exact entropy s = {:.6} nats/site\n\n\
         | model | max bond | train samples | test NLL/site | s (exact) | KL/site | std. error | KL/site (paired) | std. error | train NLL/site | train seconds | train CPU seconds | detail |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        truth.entropy_per_site
    );
    let mut csv = String::from(
        "model,max_bond,n_train,test_nll_per_site,exact_entropy_per_site,kl_per_site,kl_std_error,kl_paired_per_site,kl_paired_std_error,train_nll_per_site,train_seconds,train_cpu_seconds\n",
    );
    let mut json = Vec::new();
    for &kind in &models {
        let model = kind.name();
        for max_bond in model_bonds(kind, &bonds, &ttn_bonds) {
            let run = run_model(kind, &train, &test, &settings(max_bond))?;
            let png = out_dir.join(format!("samples_{model}_d{max_bond}.png"));
            write_image_grid(&png, run.samples.view(), (l, l), 10, 4)?;
            let k = run.test_nll.len() as f64;
            let mean = run.test_nll.iter().sum::<f64>() / k;
            let var = run
                .test_nll
                .iter()
                .map(|v| (v - mean) * (v - mean))
                .sum::<f64>()
                / (k - 1.0);
            let (nll, se) = (mean / n, (var / k).sqrt() / n);
            let kl = nll - truth.entropy_per_site;
            // Paired estimate: mean over test samples of ln p(x) - ln q(x).
            let diff: Vec<f64> = run
                .test_nll
                .iter()
                .zip(&true_nll)
                .map(|(q, p)| q - p)
                .collect();
            let dm = diff.iter().sum::<f64>() / k;
            let dv = diff.iter().map(|v| (v - dm) * (v - dm)).sum::<f64>() / (k - 1.0);
            let (kl_paired, se_paired) = (dm / n, (dv / k).sqrt() / n);
            println!(
                "{model} D={max_bond}: test NLL/site {nll:.5}, KL/site {kl:.5} +- {se:.5} \
                 (paired {kl_paired:.5} +- {se_paired:.5}), train NLL/site {:.5}, {:.1} s \
                 ({:.1} s CPU) ({})",
                run.train_nll / n,
                run.seconds,
                run.cpu_seconds,
                run.detail
            );
            md.push_str(&format!(
                "| {model} | {max_bond} | {n_train} | {nll:.5} | {:.5} | {kl:.5} | {se:.5} | {kl_paired:.5} | {se_paired:.5} | {:.5} | {:.1} | {:.1} | {} |\n",
                truth.entropy_per_site,
                run.train_nll / n,
                run.seconds,
                run.cpu_seconds,
                run.detail
            ));
            csv.push_str(&format!(
                "{model},{max_bond},{n_train},{nll},{},{kl},{se},{kl_paired},{se_paired},{},{},{}\n",
                truth.entropy_per_site,
                run.train_nll / n,
                run.seconds,
                run.cpu_seconds
            ));
            json.push(serde_json::json!({
                "model": model,
                "max_bond": max_bond,
                "train_samples": n_train,
                "test_nll_per_site": nll,
                "kl_per_site": kl,
                "kl_std_error": se,
                "kl_paired_per_site": kl_paired,
                "kl_paired_std_error": se_paired,
                "seconds": run.seconds,
                "cpu_seconds": run.cpu_seconds,
            }));
        }
    }
    print!("\n{md}");
    for (file, text) in [("benchmark.md", &md), ("benchmark.csv", &csv)] {
        let path = out_dir.join(file);
        std::fs::write(&path, text).map_err(io_err(path.clone()))?;
    }
    println!(
        "wrote {} and benchmark.csv",
        out_dir.join("benchmark.md").display()
    );
    common::json_line(&serde_json::json!({
        "size": l,
        "temperature": temperature,
        "n_train": n_train,
        "n_test": n_test,
        "exact_entropy_per_site": truth.entropy_per_site,
        "results": json,
    }));
    Ok(())
}
