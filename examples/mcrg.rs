//! Swendsen's Monte Carlo renormalization group on the 2D Ising model at `T_c`: the
//! thermal exponent `y_t` (exact: 1) of each coarse-graining in a list, from one
//! blocking step `L -> L/2`, for 1..7 couplings, with jackknife error bars over
//! independent Wolff runs.
//!
//! ```sh
//! cargo run --release --example mcrg
//! cargo run --release --example mcrg -- --samples 4000000 --runs 32
//! cargo run --release --example mcrg -- --coarse-graining majority,cora,rsmi,kl-optimal
//! cargo run --release --example mcrg -- --coarse-graining kl-optimal-8   # y_t = 0.995(1)
//! ```
//!
//! Coarse-grainings (`--coarse-graining`, comma-separated, all on 2 x 2 blocks):
//! `majority` (sign of the block sum, fair coin on ties); the learned rules, trained
//! inside the run on `--train-samples` critical configurations of the same lattice
//! (Swendsen-Wang, seed `--seed + 1000`, independent of the measurement chains):
//! `cora` (a draw from the Bayesian inverse of a layerwise-trained CORA level,
//! `tnlearn::ising::mcrg::CoraRule`), `rsmi` (`h = sign(lambda . v)` maximising
//! `I(H : E)`, `Rsmi`), `kl-optimal` (Chung and Kao's criterion, `KlOptimal`, each
//! coarse spin coupled to its own block: exact fit), `kl-optimal-F` (the same with an
//! `F x F` filter centred on the block, as in the paper with `F = 8`: contrastive
//! divergence, trained as the paper (10^4 configurations, random start, free filter,
//! the rate decaying over half the epochs) but for 200 epochs (`--kl-epochs`; the
//! paper's 50 are not converged); `--kl-persistent` for persistent chains (PCD),
//! `--kl-warm-start`, `--kl-symmetrise` for the older variant; the trained filter is written to `OUT_DIR/kl-optimal-F.json`, and `--kl-filter FILE`
//! measures a saved filter without training).
//!
//! Writes `mcrg.md` (the table) and `mcrg.csv` to `--out-dir` (default `out/mcrg/`);
//! the last line printed is one JSON object. Reference (`docs/ising.md`, majority rule
//! 32 -> 16, 4 x 10^6 Wolff samples): `y_t = 0.906` (1 coupling), 0.966 (2), 0.969 (4),
//! `0.9673 +- 0.0009` (7).
//!
//! To add a coarse-graining, implement `tnlearn::ising::mcrg::CoarseGrain` and add one
//! arm to `coarse_graining` below; `--coarse-graining majority,NAME` then measures
//! both on the same configurations. The last JSON line holds, per coarse-graining,
//! `{"coarse_graining": name, "y_t": value, "err": error}` with all couplings.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tnlearn::cora::{Architecture, Boundary, Cora, CoraFitOptions, MapSharing};
use tnlearn::data::Dataset;
use tnlearn::ising::mcrg::{
    measure, CoarseGrain, CoraRule, EvenOperator, KlCdOptions, KlOptimal, MajorityRule,
    McrgOptions, Rsmi, RsmiOptions,
};
use tnlearn::ising::sampling::{self, ClusterAlgorithm, SamplerOptions};
use tnlearn::ising::{exact, Lattice, CRITICAL_TEMPERATURE};
use tnlearn::{Error, Result};

/// Majority rule 32 -> 16 with 4 x 10^6 Wolff samples (`docs/ising.md`).
const REFERENCE_MAJORITY: [(usize, f64); 4] = [(1, 0.906), (2, 0.966), (4, 0.969), (7, 0.9673)];

/// The training configurations of the learned rules, drawn once on first use.
struct Training<'a> {
    args: &'a Args,
    l: usize,
    temperature: f64,
    data: Option<Dataset>,
}

impl Training<'_> {
    fn data(&mut self) -> Result<&Dataset> {
        if self.data.is_none() {
            let n = self.args.train_samples as usize;
            let seed = self.args.seed;
            let start = Instant::now();
            let mut rng = StdRng::seed_from_u64(seed + 1000);
            let options = SamplerOptions::new().thinning(10);
            let data = sampling::sample(
                &Lattice::square(self.l)?,
                self.temperature,
                n,
                &options,
                &mut rng,
            )?;
            println!(
                "training data: {n} configurations {l} x {l} (Swendsen-Wang, 10 sweeps apart), {:.1} s",
                start.elapsed().as_secs_f64(),
                l = self.l
            );
            self.data = Some(data);
        }
        Ok(self.data.as_ref().expect("just set"))
    }
}

/// The coarse-grainings the example knows (`--coarse-graining` values).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    Majority,
    KlOptimal,
    /// `kl-optimal-F`: an `F x F` filter.
    KlOptimalFilter(usize),
    Rsmi,
    Cora,
}

impl Rule {
    const NAMES: &str = "majority, cora, rsmi, kl-optimal, kl-optimal-F (F an even filter side)";

    /// The flag value parser: unknown names are clap errors, before any work.
    fn parse(name: &str) -> std::result::Result<Rule, String> {
        Ok(match name.trim() {
            "majority" => Rule::Majority,
            "kl-optimal" => Rule::KlOptimal,
            "rsmi" => Rule::Rsmi,
            "cora" => Rule::Cora,
            wide if wide.starts_with("kl-optimal-") => Rule::KlOptimalFilter(
                wide["kl-optimal-".len()..]
                    .parse()
                    .map_err(|_| format!("expected kl-optimal-F with a number F (got {wide:?})"))?,
            ),
            other => {
                return Err(format!(
                    "unknown coarse-graining {other:?}; available: {}",
                    Rule::NAMES
                ))
            }
        })
    }

    /// The flag value naming this rule.
    fn name(self) -> String {
        match self {
            Rule::Majority => "majority".into(),
            Rule::KlOptimal => "kl-optimal".into(),
            Rule::KlOptimalFilter(f) => format!("kl-optimal-{f}"),
            Rule::Rsmi => "rsmi".into(),
            Rule::Cora => "cora".into(),
        }
    }

    /// The options of the learned rules, checked without training anything.
    fn check(self, args: &Args) -> Result<()> {
        match self {
            Rule::Majority | Rule::KlOptimal => Ok(()),
            Rule::KlOptimalFilter(f) => kl_cd_options(args, f).validate(),
            Rule::Rsmi => rsmi_options(args).validate(),
            Rule::Cora => {
                let l = args.size as usize;
                if !l.is_power_of_two() || l < 4 {
                    return Err(Error::invalid_argument(
                        "size",
                        format!("the cora rule needs L a power of 2, at least 4 (got {l})"),
                    ));
                }
                cora_fit_options(args).validate()
            }
        }
    }
}

fn kl_cd_options(args: &Args, filter: usize) -> KlCdOptions {
    KlCdOptions::new()
        .filter(filter)
        .epochs(args.kl_epochs as usize)
        .warm_start(args.kl_warm_start)
        .symmetrise(args.kl_symmetrise)
        .persistent(args.kl_persistent)
        .decay_fraction(args.kl_decay_fraction)
}

/// Reads a filter written by an earlier run (`kl-optimal-F.json`: a JSON object with
/// `filter` and `weights`).
fn load_filter(path: &std::path::Path) -> Result<KlOptimal> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |what: &str| {
        Error::invalid_argument(
            "kl-filter",
            format!(
                "{}: {what}; expected {{\"filter\": F, \"weights\": [F*F numbers]}}",
                path.display()
            ),
        )
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(&format!("not JSON ({e})")))?;
    let filter = value["filter"]
        .as_u64()
        .ok_or_else(|| bad("no integer \"filter\""))?;
    let weights: Vec<f64> = value["weights"]
        .as_array()
        .ok_or_else(|| bad("no array \"weights\""))?
        .iter()
        .map(|w| w.as_f64().ok_or_else(|| bad("a weight is not a number")))
        .collect::<Result<_>>()?;
    KlOptimal::from_filter(
        usize::try_from(filter).map_err(|_| bad("filter too large"))?,
        &weights,
    )
}

fn rsmi_options(args: &Args) -> RsmiOptions {
    RsmiOptions::new()
        .environment(args.rsmi_environment as usize)
        .windows(args.rsmi_windows as usize)
}

fn cora_fit_options(args: &Args) -> CoraFitOptions {
    CoraFitOptions::new()
        .em_iterations(args.cora_em_iterations as usize)
        .factorized_refine(!args.cora_full_refine)
        .seed(args.seed + 3001)
}

/// Builds (learned rules: trains) one coarse-graining and reports what it learned.
fn coarse_graining(rule: Rule, training: &mut Training<'_>) -> Result<Box<dyn CoarseGrain>> {
    let args = training.args;
    let seed = args.seed;
    match rule {
        Rule::Majority => Ok(Box::new(MajorityRule::new(2)?)),
        Rule::KlOptimalFilter(f) => {
            let rule = match &args.kl_filter {
                Some(path) => {
                    let rule = load_filter(path)?;
                    if rule.filter() != f {
                        return Err(Error::invalid_argument(
                            "kl-filter",
                            format!(
                                "{} holds a {} x {} filter, but kl-optimal-{f} was asked for",
                                path.display(),
                                rule.filter(),
                                rule.filter()
                            ),
                        ));
                    }
                    println!("{}: filter loaded from {}", rule.name(), path.display());
                    rule
                }
                None => {
                    let (start, cpu) = (Instant::now(), common::cpu_seconds());
                    let options = kl_cd_options(args, f);
                    let mut rng = StdRng::seed_from_u64(seed + 4000);
                    let rule = KlOptimal::fit_cd(training.data()?, &options, &mut rng)?;
                    println!(
                        "{}: {}-{} + ADAM, {} epochs, batch {}, {}, {}, rate decay over {} of \
                         the steps, {:.1} s (process CPU {:.1} s)",
                        rule.name(),
                        if options.persistent { "PCD" } else { "CD" },
                        options.cd_steps,
                        options.epochs,
                        options.batch,
                        if options.warm_start {
                            "warm start from the exact 2 x 2 optimum"
                        } else {
                            "uniform start in [-0.01, 0.01]"
                        },
                        if options.symmetrise {
                            "symmetrised"
                        } else {
                            "not symmetrised"
                        },
                        options.decay_fraction,
                        start.elapsed().as_secs_f64(),
                        common::cpu_seconds() - cpu
                    );
                    let path = training.args.out_dir.join(format!("kl-optimal-{f}.json"));
                    let json = serde_json::json!({"filter": f, "weights": rule.weights()});
                    std::fs::write(&path, json.to_string()).map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })?;
                    println!("  wrote {} (reload with --kl-filter)", path.display());
                    rule
                }
            };
            let w = rule.weights();
            println!("  filter (rows):");
            for row in w.chunks(f) {
                let cells: Vec<String> = row.iter().map(|x| format!("{x:+.4}")).collect();
                println!("  {}", cells.join(" "));
            }
            Ok(Box::new(rule))
        }
        Rule::KlOptimal => {
            let start = Instant::now();
            let rule = KlOptimal::fit(training.data()?)?;
            let s =
                exact::exact(&Lattice::square(training.l)?, training.temperature)?.entropy_per_site;
            let w = rule.weights();
            println!(
                "kl-optimal: w = ({:.4}, {:.4}, {:.4}, {:.4}), l(w) = {:.5} nats per block, \
                 D(p || Y / sum Y) / N = {:.5} nats per site (exact s = {s:.5}), {:.2} s",
                w[0],
                w[1],
                w[2],
                w[3],
                rule.objective(),
                rule.kl_per_site(s),
                start.elapsed().as_secs_f64()
            );
            Ok(Box::new(rule))
        }
        Rule::Rsmi => {
            let start = Instant::now();
            let env = args.rsmi_environment;
            let options = rsmi_options(args);
            let mut rng = StdRng::seed_from_u64(seed + 2000);
            let rule = Rsmi::fit(training.data()?, &options, &mut rng)?;
            println!(
                "rsmi: {} classes of sign(lambda . v) (buffer 1, environment {env} wide), \
                 I(H : E) estimates in nats, best first ({:.1} s):",
                rule.candidates().len(),
                start.elapsed().as_secs_f64()
            );
            for c in rule.candidates() {
                let up: Vec<String> = c
                    .table
                    .iter()
                    .map(|&t| if t { "1" } else { "0" }.to_string())
                    .collect();
                println!(
                    "  lambda = ({:+.3}, {:+.3}, {:+.3}, {:+.3})  class size {:2}  table {}  \
                     I = {:.5} +- {:.5}  (H(H) = {:.4})",
                    c.lambda[0],
                    c.lambda[1],
                    c.lambda[2],
                    c.lambda[3],
                    c.class_size,
                    up.join(""),
                    c.mi.nats,
                    c.mi.std_error,
                    c.mi.entropy_h
                );
            }
            Ok(Box::new(rule))
        }
        Rule::Cora => {
            let start = Instant::now();
            let l = training.l;
            let arch = Architecture::square_2x2(l, l)
                .levels(l.trailing_zeros() as usize)
                .chi(2)
                .boundary(Boundary::Periodic)
                .sharing(MapSharing::PerLevel)
                .boxes(args.cora_boxes);
            let mut rng = StdRng::seed_from_u64(seed + 3000);
            let mut model = Cora::initial(arch, 0.5, &mut rng)?;
            let options = cora_fit_options(args);
            model.fit_layerwise(training.data()?, &options)?;
            let r = model.refine_map(1, 0)?;
            let q = model.prior(1, 0)?;
            println!(
                "cora: layerwise EM, {} levels, boxes {}, {} refine maps; level 1: prior q_1 = \
                 ({:.3}, {:.3}), R(all up | h) = ({:.3}, {:.3}), R(all down | h) = ({:.3}, {:.3}); \
                 {:.1} s",
                model.levels(),
                if args.cora_boxes { "on" } else { "off" },
                if args.cora_full_refine {
                    "full"
                } else {
                    "factorized"
                },
                q.get(0, 0),
                q.get(1, 0),
                r.get(15, 0),
                r.get(15, 1),
                r.get(0, 0),
                r.get(0, 1),
                start.elapsed().as_secs_f64()
            );
            level_information(&model)?;
            Ok(Box::new(CoraRule::new(model)?))
        }
    }
}

/// Per level `j` of a CORA model: the entropy `H(h_j)` of a coarse variable and its
/// mutual information with the (refined) block it emits, exact from the model
/// ([`Cora::level_information`]).
fn level_information(model: &Cora) -> Result<()> {
    let parts: Vec<String> = model
        .level_information()?
        .iter()
        .map(|l| {
            format!(
                "level {}: H(h) = {:.4}, I(h : block) = {:.4}",
                l.level, l.entropy, l.mutual_information
            )
        })
        .collect();
    println!("cora, exact per level (nats): {}", parts.join("; "));
    Ok(())
}

/// Monte Carlo RG: thermal exponent y_t of coarse-grainings of the 2D Ising model.
///
/// The independent runs go to rayon's thread pool: set its size with the
/// environment variable RAYON_NUM_THREADS (default: one thread per core). The
/// results do not depend on it.
#[derive(Parser)]
#[command(name = "mcrg", version, allow_negative_numbers = true)]
struct Args {
    /// Side L of the fine lattice (an L x L torus)
    #[arg(long, alias = "l", default_value_t = 32)]
    size: u32,
    /// Temperature (default: the critical temperature T_c)
    #[arg(long, default_value_t = CRITICAL_TEMPERATURE)]
    temperature: f64,
    /// Measured configurations in total
    #[arg(long, default_value_t = 1_000_000)]
    samples: u64,
    /// Independent runs (error bars: jackknife over runs)
    #[arg(long, default_value_t = 16)]
    runs: u32,
    /// Wolff clusters between measurements
    #[arg(long, default_value_t = 3)]
    thinning: u32,
    /// Wolff clusters discarded per run
    #[arg(long, default_value_t = 2000)]
    burn_in: u32,
    /// Largest number of couplings (1..=7)
    #[arg(long, default_value_t = 7)]
    couplings: u32,
    /// Random seed
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Coarse-grainings, comma-separated: majority, cora, rsmi, kl-optimal, kl-optimal-F
    #[arg(long, alias = "coarse-grainings", value_delimiter = ',', default_value = "majority", value_parser = Rule::parse)]
    coarse_graining: Vec<Rule>,
    /// Training configurations of the learned rules
    #[arg(long, default_value_t = 10000, value_parser = clap::value_parser!(u32).range(1..))]
    train_samples: u32,
    /// kl-optimal-F: contrastive-divergence epochs (the paper: 50, not converged)
    #[arg(long, default_value_t = 200)]
    kl_epochs: u32,
    /// kl-optimal-F: start from the exact 2 x 2 optimum instead of small random weights
    /// (the paper's start)
    #[arg(long)]
    kl_warm_start: bool,
    /// kl-optimal-F: symmetrise the filter over the square's symmetries about the block
    /// centre after every step (not in the paper; gives a much worse rule)
    #[arg(long)]
    kl_symmetrise: bool,
    /// kl-optimal-F: persistent chains for the negative phase (PCD) instead of the
    /// paper's CD-3 restarts from the data
    #[arg(long)]
    kl_persistent: bool,
    /// kl-optimal-F: fraction of the steps over which the rate decays to 1e-4 (the paper: 0.5)
    #[arg(long, default_value_t = 0.5)]
    kl_decay_fraction: f64,
    /// kl-optimal-F: load the filter from this JSON file (written by an earlier run
    /// as OUT_DIR/kl-optimal-F.json) instead of training
    #[arg(long)]
    kl_filter: Option<PathBuf>,
    /// rsmi: width of the environment ring beyond the 1-site buffer
    #[arg(long, default_value_t = 2)]
    rsmi_environment: u32,
    /// rsmi: (block, environment) windows for fitting, and as many for testing
    #[arg(long, default_value_t = 100_000)]
    rsmi_windows: u32,
    /// cora: layerwise EM iterations per level
    #[arg(long, default_value_t = 10)]
    cora_em_iterations: u32,
    /// cora: with boxes (the inverse is then a sequential proposal)
    #[arg(long)]
    cora_boxes: bool,
    /// cora: full refine maps (default: factorized)
    #[arg(long)]
    cora_full_refine: bool,
    /// Output directory
    #[arg(long, default_value = "out/mcrg/")]
    out_dir: PathBuf,
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run(Args::parse())?))
}

fn run(args: Args) -> Result<()> {
    // Every argument is checked before any work or output.
    let samples = usize::try_from(args.samples)
        .map_err(|_| Error::invalid_argument("samples", "too large for this machine"))?;
    let options = McrgOptions::new()
        .l(args.size as usize)
        .temperature(args.temperature)
        .samples(samples)
        .runs(args.runs as usize)
        .thinning(args.thinning as usize)
        .burn_in(args.burn_in as usize)
        .couplings(args.couplings as usize)
        .seed(args.seed)
        .algorithm(ClusterAlgorithm::Wolff);
    options.validate()?;
    for rule in &args.coarse_graining {
        rule.check(&args)?;
    }
    let names: Vec<String> = args.coarse_graining.iter().map(|r| r.name()).collect();
    let mut training = Training {
        args: &args,
        l: options.l,
        temperature: options.temperature,
        data: None,
    };
    let out_dir = args.out_dir.clone();
    common::create_dir(&out_dir)?;
    let boxed: Vec<Box<dyn CoarseGrain>> = args
        .coarse_graining
        .iter()
        .map(|&rule| coarse_graining(rule, &mut training))
        .collect::<Result<_>>()?;
    let list: Vec<&dyn CoarseGrain> = boxed.iter().map(|b| b.as_ref()).collect();

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
        th2 = rayon::current_num_threads(),
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
    let entries: Vec<serde_json::Value> = results
        .iter()
        .zip(&names)
        .map(|(r, name)| {
            serde_json::json!({
                "coarse_graining": name,
                "y_t": r.y_t.last(),
                "err": r.y_t_error.last(),
            })
        })
        .collect();
    common::json_line(&serde_json::json!({
        "size": options.l,
        "couplings": options.couplings,
        "samples": options.samples,
        "runs": options.runs,
        "seconds": seconds,
        "results": entries,
    }));
    Ok(())
}
