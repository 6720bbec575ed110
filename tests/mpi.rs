//! Data-parallel training under `mpirun` (issue 16; cargo feature `mpi`, needs the
//! system's Open MPI and `mpirun`): the same MPS Born machine fit on 1 and 2 MPI
//! ranks gives the same model to 1e-12 (NLL and validation NLL per half-sweep,
//! bond dimensions, `ln p` of every training image afterwards), and the
//! `mnist_born_machine` example runs under `mpirun -n 2` with rank 0 reporting.
//!
//! A test without the libtest harness (`harness = false`): the binary is the driver
//! and, started by `mpirun` with `TNL_MPI_WORKER` set, the worker. `.ci/run` runs it
//! (`cargo test --features mpi --test mpi`); the example part needs the example
//! built in the test profile (`cargo build --profile test --features mpi --example
//! mnist_born_machine`) and is skipped without it unless `TNL_REQUIRE_EXAMPLES=1`.

mod born_common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use tnlearn::born::{BornOptions, MpsBornMachine, NoObserver, Validation};
use tnlearn::distributed::{Communicator, MpiCommunicator};
use tnlearn::Dataset;

/// `n` noisy copies of 3 random templates (bits flipped with probability 0.1).
fn noisy_templates(n: usize, seed: u64) -> Dataset {
    born_common::noisy_templates(n, SITES, 7, 0.1, seed)
}

const SITES: usize = 10;

/// The worker: trains on its shard of 61 noisy template samples (minibatches of
/// 20, a validation shard of 23; the setting of `tests/born_distributed.rs`), rank 0 writes one line per half-sweep and the
/// final `ln p` of the training samples to the file `TNL_MPI_WORKER`.
///
/// Small on purpose: on MNIST (784 sites) training amplifies rounding differences
/// to O(1) nats within a half-sweep even on one process (reversing the order of
/// the samples does the same), so "the same model" is testable where the fit is
/// well-conditioned, as here (see docs/benchmarks.md).
fn worker(out: &Path) -> tnlearn::Result<()> {
    let comm = MpiCommunicator::init()?;
    let train = noisy_templates(61, 1);
    let valid = noisy_templates(23, 2);
    let (rank, size) = (comm.rank(), comm.size());
    let options = BornOptions::new()
        .max_bond(6)
        .initial_bond(2)
        .cutoff(1e-6)
        .learning_rate(0.05)
        .steps_per_bond(2)
        .batch_size(Some(20))
        .sweeps(3)
        .seed(11);
    let mut model = MpsBornMachine::new(SITES, 2, options)?;
    let valid_shard = valid.shard(rank, size)?;
    let reports = model.fit_distributed_with(
        &train.shard(rank, size)?,
        Some(Validation::new(&valid_shard).patience(3)),
        &comm,
        &mut NoObserver,
    )?;
    if rank == 0 {
        let mut text = String::new();
        for r in &reports {
            text.push_str(&format!(
                "half_sweep {} train_nll {:?} valid_nll {:?} max_bond {}\n",
                r.half_sweep(),
                r.train_nll,
                r.valid_nll.unwrap_or(f64::NAN),
                r.max_bond
            ));
        }
        for lp in model.log_probs(train.samples())? {
            text.push_str(&format!("ln_p {lp:?}\n"));
        }
        std::fs::write(out, text).map_err(|source| tnlearn::Error::Io {
            path: out.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// `mpirun -n <ranks>` (with `--oversubscribe`, and `--allow-run-as-root` as root)
/// of `program args`, one thread per rank; panics unless it succeeds. Returns stdout.
fn mpirun(ranks: usize, program: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("mpirun");
    cmd.args(["-n", &ranks.to_string(), "--oversubscribe"]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.arg("--allow-run-as-root");
    }
    cmd.arg(program).args(args);
    cmd.env("RAYON_NUM_THREADS", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run mpirun (install openmpi-bin): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mpirun -n {ranks} {} failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The numbers of a worker's output, line by line (name, value pairs).
fn parse(text: &str) -> Vec<Vec<(String, f64)>> {
    text.lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.chunks(2)
                .map(|p| (p[0].to_string(), p[1].parse::<f64>().unwrap()))
                .collect()
        })
        .collect()
}

/// The two runs agree: the same fields, integers equal, reals to 1e-12.
fn assert_close(a: &[Vec<(String, f64)>], b: &[Vec<(String, f64)>], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: number of lines");
    let mut worst: f64 = 0.0;
    for (la, lb) in a.iter().zip(b) {
        for ((na, va), (nb, vb)) in la.iter().zip(lb) {
            assert_eq!(na, nb, "{what}");
            let d = (va - vb).abs();
            // ln p of held-out (and some training) samples the model finds unlikely is
            // ill-conditioned (psi(x) near 0 is a sum that cancels): 1e-10 there.
            let tol = if na == "train_nll" || na == "max_bond" {
                1e-12
            } else {
                1e-10
            };
            assert!(
                d < tol || (va.is_nan() && vb.is_nan()),
                "{what}: {na} {va} vs {vb}"
            );
            worst = worst.max(d);
        }
    }
    println!(
        "{what}: {} lines agree, largest difference {worst:e}",
        a.len()
    );
}

fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mpi");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 1 and 2 ranks train the same model.
fn ranks_agree(dir: &Path) {
    let me = std::env::current_exe().unwrap();
    let mut runs = Vec::new();
    for ranks in [1, 2] {
        let out = dir.join(format!("worker_{ranks}.txt"));
        mpirun(
            ranks,
            &me,
            &[],
            &[("TNL_MPI_WORKER", out.to_str().unwrap())],
        );
        runs.push(parse(&std::fs::read_to_string(&out).unwrap()));
    }
    let half_sweeps = runs[0].iter().filter(|l| l[0].0 == "half_sweep").count();
    assert!(half_sweeps >= 4, "{half_sweeps} half-sweeps");
    assert_close(&runs[0], &runs[1], "worker, 1 vs 2 ranks");
}

/// The example under `mpirun -n 2`: one JSON line (rank 0 reports), rank 0's files,
/// and a curve of finite NLLs (on MNIST the curves of 1 and 2 ranks differ by the
/// amplified rounding described at [`worker`]).
fn example_runs(dir: &Path) {
    let me = std::env::current_exe().unwrap();
    let example = me
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples")
        .join(format!(
            "mnist_born_machine{}",
            std::env::consts::EXE_SUFFIX
        ));
    if !example.is_file() {
        assert!(
            std::env::var_os("TNL_REQUIRE_EXAMPLES").is_none(),
            "{} is missing (cargo build --profile test --features mpi --example mnist_born_machine)",
            example.display()
        );
        println!("skipped: {} not built", example.display());
        return;
    }
    {
        let ranks = 2;
        let out_dir = dir.join(format!("example_{ranks}"));
        let stdout = mpirun(
            ranks,
            &example,
            &[
                "--n-train",
                "300",
                "--warmup-images",
                "100",
                "--warmup-sweeps",
                "1",
                "--sweeps",
                "1",
                "--max-bond",
                "8",
                "--batch-size",
                "50",
                "--patience",
                "2",
                "--out-dir",
                out_dir.to_str().unwrap(),
            ],
            &[],
        );
        let json: Vec<&str> = stdout.lines().filter(|l| l.starts_with('{')).collect();
        assert_eq!(json.len(), 1, "one JSON line (rank 0's):\n{stdout}");
        let csv = std::fs::read_to_string(out_dir.join("nll.csv")).unwrap();
        // half_sweep, phase, sweep, direction, train_nll, valid_nll, test_nll, max_bond
        let curve: Vec<Vec<(String, f64)>> = csv
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                [
                    (4, "train_nll"),
                    (5, "valid_nll"),
                    (6, "test_nll"),
                    (7, "max_bond"),
                ]
                .iter()
                .map(|&(i, name)| (name.to_string(), f[i].parse().unwrap_or(f64::NAN)))
                .collect()
            })
            .collect();
        assert_eq!(curve.len(), 4, "2 warm-up + 2 training half-sweeps:\n{csv}");
        assert!(
            curve.iter().all(|l| l[0].1.is_finite() && l[3].1 >= 1.0),
            "{csv}"
        );
        for f in ["nll.png", "samples.png", "model.tnlborn"] {
            assert!(out_dir.join(f).is_file(), "{f} missing");
        }
        println!("mnist_born_machine under mpirun -n 2: ok");
    }
}

fn main() -> ExitCode {
    if let Some(out) = std::env::var_os("TNL_MPI_WORKER") {
        return match worker(Path::new(&out)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let dir = scratch();
    ranks_agree(&dir);
    example_runs(&dir);
    println!("test mpi ... ok");
    ExitCode::SUCCESS
}
