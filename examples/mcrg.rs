//! Swendsen's Monte Carlo renormalization group on the 2D Ising model at `T_c`: the
//! thermal exponent `y_t` (exact: 1) of each coarse-graining in a list, from one
//! blocking step `L -> L/2`, for 1..7 couplings, with jackknife error bars over
//! independent Wolff runs.
//!
//! ```sh
//! cargo run --release --example mcrg
//! cargo run --release --example mcrg -- --samples 4000000 --runs 32
//! cargo run --release --example mcrg -- --coarse-graining majority,cora,rsmi,kl-optimal
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
//! divergence, `--kl-epochs`).
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

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
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
    m: &'a ArgMatches,
    l: usize,
    temperature: f64,
    data: Option<Dataset>,
}

impl Training<'_> {
    fn data(&mut self) -> Result<&Dataset> {
        if self.data.is_none() {
            let n = *self.m.get_one::<usize>("train-samples").expect("defaulted");
            let seed = *self.m.get_one::<u64>("seed").expect("defaulted");
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

/// The coarse-grainings the example knows, by name: one match arm each. Learned rules
/// are trained here and report what they learned.
fn coarse_graining(name: &str, training: &mut Training<'_>) -> Result<Box<dyn CoarseGrain>> {
    let m = training.m;
    let seed = *m.get_one::<u64>("seed").expect("defaulted");
    match name {
        "majority" => Ok(Box::new(MajorityRule::new(2)?)),
        wide if wide.starts_with("kl-optimal-") => {
            let f: usize = wide["kl-optimal-".len()..].parse().map_err(|_| {
                Error::invalid_argument(
                    "coarse-graining",
                    format!("{wide:?}: expected kl-optimal-F with an even filter side F"),
                )
            })?;
            let start = Instant::now();
            let options = KlCdOptions::new()
                .filter(f)
                .epochs(*m.get_one::<usize>("kl-epochs").expect("defaulted"));
            let mut rng = StdRng::seed_from_u64(seed + 4000);
            let rule = KlOptimal::fit_cd(training.data()?, &options, &mut rng)?;
            let w = rule.weights();
            println!(
                "{}: CD-{} + ADAM, {} epochs, batch {}, warm start from the exact 2 x 2 optimum, \
                 {:.1} s; filter (rows):",
                rule.name(),
                options.cd_steps,
                options.epochs,
                options.batch,
                start.elapsed().as_secs_f64()
            );
            for row in w.chunks(f) {
                let cells: Vec<String> = row.iter().map(|x| format!("{x:+.4}")).collect();
                println!("  {}", cells.join(" "));
            }
            Ok(Box::new(rule))
        }
        "kl-optimal" => {
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
        "rsmi" => {
            let start = Instant::now();
            let env = *m.get_one::<usize>("rsmi-environment").expect("defaulted");
            let options = RsmiOptions::new()
                .environment(env)
                .windows(*m.get_one::<usize>("rsmi-windows").expect("defaulted"));
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
        "cora" => {
            let start = Instant::now();
            let l = training.l;
            if !l.is_power_of_two() || l < 4 {
                return Err(Error::invalid_argument(
                    "l",
                    format!("the cora rule needs L a power of 2, at least 4 (got {l})"),
                ));
            }
            let arch = Architecture::square_2x2(l, l)
                .levels(l.trailing_zeros() as usize)
                .chi(2)
                .boundary(Boundary::Periodic)
                .sharing(MapSharing::PerLevel)
                .boxes(m.get_flag("cora-boxes"));
            let mut rng = StdRng::seed_from_u64(seed + 3000);
            let mut model = Cora::initial(arch, 0.5, &mut rng)?;
            let options = CoraFitOptions::new()
                .em_iterations(*m.get_one::<usize>("cora-em-iterations").expect("defaulted"))
                .factorized_refine(!m.get_flag("cora-full-refine"))
                .seed(seed + 3001);
            model.fit_layerwise(training.data()?, &options)?;
            let r = model.refine_map(1, 0)?;
            let q = model.prior(1, 0)?;
            println!(
                "cora: layerwise EM, {} levels, boxes {}, {} refine maps; level 1: prior q_1 = \
                 ({:.3}, {:.3}), R(all up | h) = ({:.3}, {:.3}), R(all down | h) = ({:.3}, {:.3}); \
                 {:.1} s",
                model.levels(),
                if m.get_flag("cora-boxes") {
                    "on"
                } else {
                    "off"
                },
                if m.get_flag("cora-full-refine") {
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
        other => Err(Error::invalid_argument(
            "coarse-graining",
            format!(
                "unknown coarse-graining {other:?}; available: majority, cora, rsmi, kl-optimal"
            ),
        )),
    }
}

/// Per level `j` of a CORA model with maps shared per level: the entropy `H(h_j)` of
/// a coarse variable and its mutual information with the (refined) block it emits,
/// `I(h_j : y) = sum_h p(h) sum_y R(y | h) ln(R(y | h) / sum_h' p(h') R(y | h'))`,
/// exact from the model (`p` = its own one-site marginals, site-averaged).
fn level_information(model: &Cora) -> Result<()> {
    let mut m = model.clone();
    m.priors_from_model()?;
    let mut parts = Vec::new();
    for j in 1..=m.levels() {
        let r = m.refine_map(j, 0)?;
        let q = m.prior(j, 0)?;
        let chi = m.geometry().chi(j);
        let p: Vec<f64> = (0..chi).map(|h| q.get(h, 0)).collect();
        let entropy: f64 = -p
            .iter()
            .filter(|&&x| x > 0.0)
            .map(|x| x * x.ln())
            .sum::<f64>();
        let mut mi = 0.0;
        for y in 0..r.outputs() {
            let py: f64 = (0..chi).map(|h| p[h] * r.get(y, h)).sum();
            for (h, &ph) in p.iter().enumerate() {
                let t = ph * r.get(y, h);
                if t > 0.0 {
                    mi += t * (r.get(y, h) / py).ln();
                }
            }
        }
        parts.push(format!(
            "level {j}: H(h) = {entropy:.4}, I(h : block) = {mi:.4}"
        ));
    }
    println!("cora, exact per level (nats): {}", parts.join("; "));
    Ok(())
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
        .arg(
            num(
                "coarse-graining",
                "majority",
                "comma-separated list of coarse-grainings: majority, cora, rsmi, kl-optimal",
            )
            .alias("coarse-grainings"),
        )
        .arg(
            num(
                "train-samples",
                "4000",
                "training configurations of the learned rules",
            )
            .value_parser(value_parser!(usize)),
        )
        .arg(
            num(
                "kl-epochs",
                "20",
                "kl-optimal-F: contrastive-divergence epochs",
            )
            .value_parser(value_parser!(usize)),
        )
        .arg(
            num(
                "rsmi-environment",
                "2",
                "rsmi: width of the environment ring beyond the 1-site buffer",
            )
            .value_parser(value_parser!(usize)),
        )
        .arg(
            num(
                "rsmi-windows",
                "100000",
                "rsmi: (block, environment) windows for fitting, and as many for testing",
            )
            .value_parser(value_parser!(usize)),
        )
        .arg(
            num(
                "cora-em-iterations",
                "10",
                "cora: layerwise EM iterations per level",
            )
            .value_parser(value_parser!(usize)),
        )
        .arg(
            Arg::new("cora-boxes")
                .long("cora-boxes")
                .action(ArgAction::SetTrue)
                .help("cora: with boxes (the inverse is then a sequential proposal)"),
        )
        .arg(
            Arg::new("cora-full-refine")
                .long("cora-full-refine")
                .action(ArgAction::SetTrue)
                .help("cora: full refine maps (default: factorized)"),
        )
        .arg(num("out-dir", "out/mcrg/", "output directory").value_parser(value_parser!(PathBuf)))
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run()?))
}

fn run() -> Result<()> {
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
        .get_one::<String>("coarse-graining")
        .expect("defaulted")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut training = Training {
        m: &m,
        l: options.l,
        temperature: options.temperature,
        data: None,
    };
    let boxed: Vec<Box<dyn CoarseGrain>> = names
        .iter()
        .map(|n| coarse_graining(n, &mut training))
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
        .zip(&names)
        .map(|(r, name)| {
            format!(
                "{{\"coarse_graining\": \"{name}\", \"y_t\": {:.5}, \"err\": {:.5}}}",
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
