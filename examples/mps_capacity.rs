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
//! The `.npz` file is the one of the published repository
//! (`MNIST/capacity/mnist28_127.5.npz` in congzlwag/UnsupGenModbyMPS, member `data`:
//! 1000 x 784, 100 per digit, threshold 127.5); any 0/1 `.npy` file works with
//! `--npy`. Writes `capacity.csv` (max_bond, sweep, train NLL, max bond reached,
//! seconds, peak environment bytes) and its plot `capacity.png` (train NLL against
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

use clap::{value_parser, Arg, Command};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tnlearn::born::{
    BornMachine, BornOptions, FitControl, HalfSweepReport, MpsBornMachine, StepRule,
};
use tnlearn::io::png::write_image_grid;
use tnlearn::{Dataset, Error, Result};

fn cli() -> Command {
    let arg = |name: &'static str, default: &'static str, help: &'static str| {
        Arg::new(name).long(name).default_value(default).help(help)
    };
    Command::new("mps_capacity")
        .about("Capacity curve of the MPS Born machine (train NLL vs sweeps, several max_bond)")
        .arg(
            Arg::new("npz")
                .long("npz")
                .value_name("FILE.npz")
                .help("a .npz archive of 0/1 images (member chosen by --member)")
                .value_parser(value_parser!(PathBuf))
                .conflicts_with("npy")
                .required_unless_present("npy"),
        )
        .arg(
            Arg::new("npy")
                .long("npy")
                .value_name("FILE.npy")
                .help("a .npy array of 0/1 images")
                .value_parser(value_parser!(PathBuf)),
        )
        .arg(arg("member", "data", "array inside the .npz file"))
        .arg(arg(
            "max-bonds",
            "20,50,100",
            "comma-separated maximal bond dimensions",
        ))
        .arg(arg("sweeps", "10", "sweeps per bond dimension").value_parser(value_parser!(usize)))
        .arg(arg("learning-rate", "5e-3", "initial step size").value_parser(value_parser!(f64)))
        .arg(
            arg(
                "size-exponent",
                "0.25",
                "normalised steps of length lr * max(|G|, 2 n^a) (negative: plain gradient steps)",
            )
            .value_parser(value_parser!(f64))
            .allow_negative_numbers(true),
        )
        .arg(
            arg(
                "steps-per-bond",
                "1",
                "gradient steps per bond visit (published: 1)",
            )
            .value_parser(value_parser!(usize)),
        )
        .arg(
            Arg::new("resume")
                .long("resume")
                .value_name("MODEL.tnlborn")
                .help("continue training a saved model (with the given learning rate)")
                .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            arg(
                "decay",
                "0.2",
                "learning-rate factor applied when the NLL goes up",
            )
            .value_parser(value_parser!(f64)),
        )
        .arg(
            arg("cutoff", "1e-50", "relative singular-value cutoff")
                .value_parser(value_parser!(f64)),
        )
        .arg(arg("seed", "1", "random seed of the initial MPS").value_parser(value_parser!(u64)))
        .arg(
            arg("out-dir", "out/mps_capacity/", "output directory")
                .value_parser(value_parser!(PathBuf)),
        )
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run()?))
}

fn run() -> Result<()> {
    let m = cli().get_matches();
    let f = |k: &str| *m.get_one::<f64>(k).expect("defaulted");
    let data: Dataset = if let Some(p) = m.get_one::<PathBuf>("npz") {
        let member = m.get_one::<String>("member").expect("defaulted");
        tnlearn::io::npy::read_npz_binary(p, member)?
    } else {
        tnlearn::io::npy::read_binary(m.get_one::<PathBuf>("npy").expect("required"))?
    };
    let bonds: Vec<usize> = m
        .get_one::<String>("max-bonds")
        .expect("defaulted")
        .split(',')
        .map(|s| {
            s.trim().parse::<usize>().map_err(|_| {
                Error::invalid_argument("max-bonds", format!("`{s}` is not a bond dimension"))
            })
        })
        .collect::<Result<_>>()?;
    let sweeps = *m.get_one::<usize>("sweeps").expect("defaulted");
    let exponent = f("size-exponent");
    let decay = f("decay");
    if !(decay > 0.0 && decay <= 1.0) {
        return Err(Error::invalid_argument(
            "decay",
            format!("must be in (0, 1], got {decay}"),
        ));
    }
    let out_dir = m.get_one::<PathBuf>("out-dir").expect("defaulted").clone();
    std::fs::create_dir_all(&out_dir).map_err(|source| Error::Io {
        path: out_dir.clone(),
        source,
    })?;
    println!(
        "{} images x {} sites; backend {}",
        data.len(),
        data.num_sites(),
        tnlearn::linalg::backend_name()
    );

    let mut csv = String::from("max_bond,sweep,train_nll,bond_reached,seconds,env_bytes\n");
    let mut summary = Vec::new();
    let mut curves: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for &max_bond in &bonds {
        let mut curve = Vec::new();
        let step_rule = if exponent >= 0.0 {
            StepRule::Normalized {
                size_exponent: exponent,
            }
        } else {
            StepRule::Plain
        };
        let mut options = BornOptions::new()
            .max_bond(max_bond)
            .min_bond(2.min(max_bond))
            .cutoff(f("cutoff"))
            .learning_rate(f("learning-rate"))
            .step_rule(step_rule)
            .steps_per_bond(*m.get_one::<usize>("steps-per-bond").expect("defaulted"))
            .sweeps(1)
            .initial_bond(2.min(max_bond))
            .seed(*m.get_one::<u64>("seed").expect("defaulted"));
        let mut model = match m.get_one::<PathBuf>("resume") {
            Some(p) => {
                let mut model = MpsBornMachine::load(p)?;
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
        for sweep in 1..=sweeps {
            let start = Instant::now();
            let mut end = None;
            model.fit_with(&data, &mut |r: &HalfSweepReport, _m: &MpsBornMachine| {
                peak = peak.max(r.env_bytes);
                end = Some(*r);
                FitControl::Continue
            })?;
            let secs = start.elapsed().as_secs_f64();
            seconds += secs;
            let r = end.expect("one sweep reports twice");
            bar.suspend(|| println!(
                "D={max_bond:<4} sweep {sweep:>3}: train NLL {:>8.3}  bond {:>4}  {:>6.2} s  lr {:.2e}",
                r.train_nll, r.max_bond, secs, options.learning_rate
            ));
            let _ = writeln!(
                csv,
                "{max_bond},{sweep},{:.6},{},{secs:.3},{}",
                r.train_nll, r.max_bond, r.env_bytes
            );
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
        summary.push((max_bond, last_nll, seconds / sweeps as f64, peak));
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
    let fields: Vec<String> = summary
        .iter()
        .map(|(d, nll, s, b)| {
            format!(
                "{{\"max_bond\":{d},\"train_nll\":{nll:.4},\"seconds_per_sweep\":{s:.3},\"env_bytes\":{b}}}"
            )
        })
        .collect();
    println!(
        "{{\"images\":{},\"sweeps\":{sweeps},\"runs\":[{}]}}",
        data.len(),
        fields.join(",")
    );
    Ok(())
}
