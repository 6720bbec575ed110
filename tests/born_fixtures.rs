//! Model files and results saved before the Born machine restructuring (issue 11),
//! compared bit for bit: the committed model files must load and give the same
//! `log_prob`s, and a short fixed-seed training + sampling run must give the same
//! NLLs, log-probabilities and samples.
//!
//! The fixtures in `tests/fixtures/` were written by this file with the code of
//! commit 5006f60 (`TNLEARN_WRITE_FIXTURES=1 cargo test --test born_fixtures`) on
//! the default (faer) backend; OpenBLAS may round differently, so the file is
//! compiled for the default backend only. The run records and the MPS model's
//! `log_prob`s were rewritten for the issue 13 sweep speed-up (vectorised sums,
//! blocked environment updates): the numbers moved by rounding only (at most
//! 1.1e-13 relative for values above 1e-12; the samples are the same); the model
//! files are the original ones.
#![cfg(not(feature = "openblas"))]

mod born_common;
use std::fmt::Write as _;
use std::path::PathBuf;

use born_common::{configs, random_data};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine, TtnBornMachine};
use tnlearn::AnyBornMachine;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

fn writing() -> bool {
    std::env::var_os("TNLEARN_WRITE_FIXTURES").is_some()
}

fn hex(v: f64) -> String {
    format!("{:016x}", v.to_bits())
}

/// The configurations whose `log_prob`s are recorded: a few of all `2^n`.
fn probe_configs(n: usize) -> Vec<Vec<u8>> {
    configs(n, 2).into_iter().step_by(37).collect()
}

fn log_probs_record<M: BornMachine>(model: &M) -> String {
    let mut s = String::new();
    for x in probe_configs(model.num_sites()) {
        let lp = model.log_prob(&x).unwrap();
        writeln!(s, "{x:?} {}", hex(lp)).unwrap();
    }
    s
}

/// Trains with a fixed seed, then samples with a fixed seed; every number as bits.
fn run_record<M: BornMachine>(mut model: M) -> (M, String) {
    let n = model.num_sites();
    let mut rng = StdRng::seed_from_u64(11);
    let data = random_data(24, n, 2, &mut rng);
    let reports = model
        .fit_with(&data, &mut tnlearn::born::NoObserver)
        .unwrap();
    let mut s = String::new();
    for r in &reports {
        writeln!(
            s,
            "sweep {} {:?} nll {} max_bond {} trunc {}",
            r.sweep,
            r.direction,
            hex(r.train_nll),
            r.max_bond,
            hex(r.truncation_error)
        )
        .unwrap();
    }
    writeln!(s, "nll {}", hex(model.nll(&data).unwrap())).unwrap();
    s.push_str(&log_probs_record(&model));
    let mut rng = StdRng::seed_from_u64(12);
    let x = model.sample(6, &mut rng).unwrap();
    writeln!(s, "samples {:?}", x.iter().collect::<Vec<_>>()).unwrap();
    let evidence: Vec<u8> = (0..n).map(|k| (k % 2) as u8).collect();
    let observed: Vec<bool> = (0..n).map(|k| k % 3 == 0).collect();
    let c = model
        .sample_conditional(&evidence, &observed, 6, &mut rng)
        .unwrap();
    writeln!(s, "conditional {:?}", c.iter().collect::<Vec<_>>()).unwrap();
    let m = model.marginal(&[0, n - 1]).unwrap();
    writeln!(
        s,
        "marginal {:?}",
        m.iter().map(|&v| hex(v)).collect::<Vec<_>>()
    )
    .unwrap();
    (model, s)
}

fn mps_options() -> BornOptions {
    BornOptions::new()
        .initial_bond(2)
        .max_bond(4)
        .sweeps(2)
        .batch_size(Some(8))
        .learning_rate(0.05)
        .seed(3)
}

fn ttn_options() -> BornOptions {
    mps_options().checkpoint_every(None)
}

fn check_or_write(name: &str, record: &str) {
    let path = fixture(name);
    if writing() {
        std::fs::write(&path, record).unwrap();
    } else {
        let want = std::fs::read_to_string(&path).unwrap();
        assert_eq!(record, want, "differs from {}", path.display());
    }
}

#[test]
fn mps_training_and_sampling_are_bitwise_as_before() {
    let model = MpsBornMachine::new(9, 2, mps_options()).unwrap();
    let (model, record) = run_record(model);
    check_or_write("mps_run.txt", &record);
    if writing() {
        model.save(fixture("mps_model.tnl")).unwrap();
        check_or_write("mps_model_log_probs.txt", &log_probs_record(&model));
    }
}

#[test]
fn ttn_training_and_sampling_are_bitwise_as_before() {
    let model = TtnBornMachine::for_image(3, 3, 2, ttn_options()).unwrap();
    let (model, record) = run_record(model);
    check_or_write("ttn_run.txt", &record);
    if writing() {
        model.save(fixture("ttn_model.tnl")).unwrap();
        check_or_write("ttn_model_log_probs.txt", &log_probs_record(&model));
    }
}

#[test]
fn saved_models_load_with_bitwise_equal_log_probs() {
    if writing() {
        return;
    }
    let mps = MpsBornMachine::load(fixture("mps_model.tnl")).unwrap();
    check_or_write("mps_model_log_probs.txt", &log_probs_record(&mps));
    let ttn = TtnBornMachine::load(fixture("ttn_model.tnl")).unwrap();
    check_or_write("ttn_model_log_probs.txt", &log_probs_record(&ttn));
    for (file, log_probs) in [
        ("mps_model.tnl", "mps_model_log_probs.txt"),
        ("ttn_model.tnl", "ttn_model_log_probs.txt"),
    ] {
        let any = AnyBornMachine::load(fixture(file)).unwrap();
        check_or_write(log_probs, &log_probs_record(&any));
    }
}
