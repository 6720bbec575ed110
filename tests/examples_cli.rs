//! The examples as a user runs them with bad input: a non-zero exit status, the
//! error's message (Display, never the Debug form such as `Io {`) on stderr, and
//! nothing written before every argument was checked.
//!
//! The example binaries are the ones `cargo test` builds next to the test
//! binaries (`target/<profile>/examples/`). Run alone (`cargo test --test
//! examples_cli`) they may be missing: then the test says so and passes, unless
//! `TNL_REQUIRE_EXAMPLES=1` (set by CI) makes that a failure.

use std::path::PathBuf;
use std::process::Command;

/// The example binary `name`, if built.
fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Some(path)
    } else if std::env::var_os("TNL_REQUIRE_EXAMPLES").is_some() {
        panic!("example binary {} is missing", path.display());
    } else {
        eprintln!(
            "skipped: {} not built (cargo test builds it)",
            path.display()
        );
        None
    }
}

/// Runs `name` with `args`; returns (exit code, stderr).
fn run(name: &str, args: &[&str]) -> Option<(i32, String)> {
    let out = Command::new(example(name)?).args(args).output().unwrap();
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn scratch(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("examples_cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&p);
    p
}

#[test]
fn flag_errors_are_clap_errors() {
    let Some((code, err)) = run("ising_benchmark", &["--tempreature", "2"]) else {
        return;
    };
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--temperature"), "no suggestion: {err}");
    let (code, err) = run("ising_benchmark", &["--sweeps", "-3"]).unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("invalid value '-3'"), "{err}");
    let (code, err) = run("ising_benchmark", &["--max-bonds", "4,,8"]).unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("invalid value"), "{err}");
    let (code, err) = run("ising_benchmark", &["--models", "mera"]).unwrap();
    assert_eq!(code, 2);
    assert!(
        err.contains("possible values") && err.contains("ttn"),
        "{err}"
    );
}

#[test]
fn library_errors_print_their_message_and_write_nothing() {
    let out = scratch("bad_temperature");
    let out_s = out.to_str().unwrap();
    let Some((code, err)) = run(
        "ising_benchmark",
        &["--temperature", "-1", "--out-dir", out_s],
    ) else {
        return;
    };
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: invalid argument `temperature`"),
        "{err}"
    );
    assert!(
        !out.exists(),
        "an output directory was created before the check"
    );
    // An I/O error: Display with its cause, not the Debug form.
    let blocker = scratch("file_not_dir");
    std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
    std::fs::write(&blocker, b"a file").unwrap();
    let target = blocker.join("grid.png");
    let (code, err) = run("mnist_grid", &[target.to_str().unwrap()]).unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: I/O error on"), "{err}");
    assert!(
        !err.contains("Io {") && !err.contains("Os {"),
        "Debug form: {err}"
    );
    // The message already quotes the OS error: it is not printed a second time.
    assert_eq!(err.lines().count(), 1, "cause repeated: {err}");
}

#[test]
fn help_is_help() {
    let Some((code, err)) = run("mnist_grid", &["--help"]) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert!(
        !PathBuf::from("--help").exists(),
        "--help was taken as a file name"
    );
}

#[test]
fn version_names_the_example() {
    for name in [
        "born_anytime",
        "cora",
        "ising_benchmark",
        "mcrg",
        "mnist_born_machine",
        "mnist_grid",
        "mps_capacity",
        "ttn_vs_mps",
    ] {
        let Some(path) = example(name) else {
            return;
        };
        let out = Command::new(path).arg("--version").output().unwrap();
        assert!(out.status.success(), "{name} --version failed");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.trim(),
            format!("{name} {}", env!("CARGO_PKG_VERSION")),
            "{name} --version"
        );
    }
}

/// Runs `name` with `args` and `--out-dir` in a fresh scratch directory; checks the
/// exit status, that stderr starts with `want` (clap: `error: invalid value`;
/// library: the Display message), never holds a Debug form, and that no output
/// directory was created. Returns false if the binary is not built.
fn refused(name: &str, args: &[&str], code: i32, want: &str) -> bool {
    let out = scratch(&format!(
        "{name}_{}",
        args.join("_").replace(['/', ','], "-")
    ));
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--out-dir", out.to_str().unwrap()]);
    let Some((got, err)) = run(name, &all) else {
        return false;
    };
    assert_eq!(got, code, "{name} {args:?}: {err}");
    assert!(err.starts_with(want), "{name} {args:?}: {err}");
    assert!(
        !err.contains("Io {") && !err.contains("Os {") && !err.contains("InvalidArgument {"),
        "{name} {args:?}: Debug form: {err}"
    );
    assert!(
        !out.exists(),
        "{name} {args:?}: an output directory was created before the check"
    );
    true
}

const CLAP: &str = "error: invalid value";

#[test]
fn ttn_vs_mps_checks_its_flags() {
    if !refused("ttn_vs_mps", &["--models", "mera"], 2, CLAP) {
        return;
    }
    refused("ttn_vs_mps", &["--max-bonds", "4,,8"], 2, CLAP);
    refused("ttn_vs_mps", &["--sweeps", "0"], 2, CLAP);
    refused(
        "ttn_vs_mps",
        &["--learning-rate", "-1"],
        1,
        "error: invalid argument `learning_rate`",
    );
    // The old name still works as an alias.
    refused("ttn_vs_mps", &["--bonds", "0"], 2, CLAP);
}

#[test]
fn mps_capacity_checks_its_flags() {
    if !refused(
        "mps_capacity",
        &["--npy", "x.npy", "--sweeps", "0"],
        2,
        CLAP,
    ) {
        return;
    }
    refused(
        "mps_capacity",
        &["--npy", "x.npy", "--max-bonds", "4,,8"],
        2,
        CLAP,
    );
    refused(
        "mps_capacity",
        &["--npy", "x.npy", "--decay", "3"],
        1,
        "error: invalid argument `decay`",
    );
    refused(
        "mps_capacity",
        &["--npy", "/nonexistent/x.npy"],
        1,
        "error: I/O error on /nonexistent/x.npy",
    );
    refused(
        "mps_capacity",
        &["--npy", "x.npy", "--batch-size", "0"],
        2,
        CLAP,
    );
    // One data source is required.
    refused(
        "mps_capacity",
        &[],
        2,
        "error: the following required arguments",
    );
}

#[test]
fn cora_checks_its_flags() {
    if !refused("cora", &["--importance-samples", "0"], 2, CLAP) {
        return;
    }
    refused(
        "cora",
        &["--ising-size", "6"],
        1,
        "error: invalid argument `ising-size`",
    );
    refused(
        "cora",
        &["--pseudo-count", "-1"],
        1,
        "error: invalid argument `pseudo_count`",
    );
    refused("cora", &["--n-train", "x"], 2, CLAP);
}

#[test]
fn mcrg_checks_its_flags() {
    // Unknown names are clap errors before any work (a learned rule listed first
    // would otherwise be trained before the bad name is seen).
    if !refused("mcrg", &["--coarse-graining", "cora,bogus"], 2, CLAP) {
        return;
    }
    refused(
        "mcrg",
        &["--runs", "1"],
        1,
        "error: invalid argument `runs`",
    );
    refused(
        "mcrg",
        &["--size", "12", "--coarse-graining", "cora"],
        1,
        "error: invalid argument `size`",
    );
    refused(
        "mcrg",
        &["--coarse-graining", "kl-optimal-3"],
        1,
        "error: invalid argument `filter`",
    );
    // Threads come from RAYON_NUM_THREADS, not from a flag.
    refused("mcrg", &["--threads", "2"], 2, "error: unexpected argument");
}

#[test]
fn mnist_born_machine_checks_its_flags() {
    if !refused("mnist_born_machine", &["--model", "mera"], 2, CLAP) {
        return;
    }
    refused(
        "mnist_born_machine",
        &["--npy", "/nonexistent/x.npy"],
        1,
        "error: I/O error on /nonexistent/x.npy",
    );
    refused(
        "mnist_born_machine",
        &["--valid-fraction", "2"],
        1,
        "error: invalid argument `valid-fraction`",
    );
    refused(
        "mnist_born_machine",
        &["--resume", "/nonexistent/model.tnlborn"],
        1,
        "error: I/O error on /nonexistent/model.tnlborn",
    );
    refused("mnist_born_machine", &["--sweeps", "-3"], 2, CLAP);
    for budget in ["0", "-5", "inf", "NaN"] {
        refused(
            "mnist_born_machine",
            &["--time-budget", budget],
            1,
            "error: invalid argument `time-budget`",
        );
    }
    refused("mnist_born_machine", &["--budget-clock", "cycles"], 2, CLAP);
}

#[test]
fn born_anytime_checks_its_flags() {
    if !refused(
        "born_anytime",
        &["--run", "no-equals-sign"],
        1,
        "error: invalid argument `run`",
    ) {
        return;
    }
    refused(
        "born_anytime",
        &["--run", "a=/nonexistent/nll.csv"],
        1,
        "error: I/O error on /nonexistent/nll.csv",
    );
    refused(
        "born_anytime",
        &["--run", "a=/nonexistent/nll.csv", "--budgets", "60,0"],
        1,
        "error: invalid argument `budgets`",
    );
}

#[test]
fn ising_benchmark_checks_its_flags() {
    if !refused(
        "ising_benchmark",
        &["--learning-rate", "-1"],
        1,
        "error: invalid argument `learning_rate`",
    ) {
        return;
    }
    refused("ising_benchmark", &["--ttn-max-bonds", "0"], 2, CLAP);
    refused("ising_benchmark", &["--ttn-max-bonds", "4,,8"], 2, CLAP);
    // CORA's 2x2 blocks: refused before any sample is drawn.
    refused(
        "ising_benchmark",
        &["--models", "mps,cora", "--size", "12"],
        1,
        "error: invalid argument `size`",
    );
}

/// On a 2 x 2 torus (16 configurations) bond 4 makes both Born machines exact
/// (every cut of the snake and of the image tree has at most 4 states on one side),
/// so trained on many samples their KL per site, measured by the example against
/// the exact `-ln p(x) = K E(x) + ln Z`, is zero up to sampling noise: the arms
/// score the test samples in the right site order (snake for the MPS, row-major
/// image tree for the TTN).
#[test]
fn ising_benchmark_models_are_exact_on_a_tiny_lattice() {
    let Some(exe) = example("ising_benchmark") else {
        return;
    };
    let out_dir = scratch("ising_tiny");
    let out = Command::new(exe)
        .args([
            "--size",
            "2",
            "--models",
            "mps,ttn",
            "--max-bonds",
            "4",
            "--ttn-max-bonds",
            "4",
            "--n-train",
            "20000",
            "--n-test",
            "20000",
            "--sweeps",
            "10",
            "--out-dir",
            out_dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{stdout}");
    for r in results {
        let (kl, se) = (
            r["kl_paired_per_site"].as_f64().unwrap(),
            r["kl_paired_std_error"].as_f64().unwrap(),
        );
        assert!(kl.abs() < 4.0 * se + 2e-3, "{r}");
        assert!(r["train_samples"].as_u64() == Some(20000), "{r}");
        assert!(out_dir.join("benchmark.md").is_file());
    }
}
