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
