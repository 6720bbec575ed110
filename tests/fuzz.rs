//! The fuzzing harness of issue 10: mutated model and data files, random einsum
//! specs and every public constructor with extreme sizes and values. See
//! `docs/reliability.md`.
//!
//! - `cargo test --test fuzz` (also part of a plain `cargo test`) runs the default
//!   mode (20,000 inputs per class) and fails if any input fails.
//! - `cargo test --release --test fuzz -- --ignored` runs the long mode (10^6 inputs in
//!   total).
//!
//! Each class runs in a worker process: this test binary re-executed with
//! `TNL_FUZZ_WORKER` set, under an address-space limit, running its inputs one by one
//! under `catch_unwind` and reporting each input's index before and its outcome after
//! running it. The parent restarts a worker that dies (abort, out-of-memory, stack
//! overflow) after the input it died on, and kills one whose input runs longer than
//! 10 s. Environment variables:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TNL_FUZZ_INPUTS` | inputs per class | 20,000 (default mode), 10^6 / classes (long) |
//! | `TNL_FUZZ_TOTAL` | long mode: inputs in total | 1,000,000 |
//! | `TNL_FUZZ_CLASSES` | comma-separated classes to run | all |
//! | `TNL_FUZZ_SEED` | base seed | 20261201 |
//! | `TNL_FUZZ_JOBS` | workers at a time | available cores, at most 4 |
//! | `TNL_FUZZ_MEM_MB` | address-space limit of a worker | 1024 |
//! | `TNL_FUZZ_MAX_HANGS` | hangs after which a class stops (each costs the timeout) | 5 (default mode), unlimited (long) |
//! | `TNL_FUZZ_TIMEOUT_S` | seconds before an input counts as a hang | 10 |
//! | `TNL_FUZZ_REPRO` | `class:seed:index`: run one input in-process, unprotected | |

#[path = "fuzz/api.rs"]
mod api;
#[path = "fuzz/common.rs"]
mod common;
#[path = "fuzz/einsum.rs"]
mod einsum_class;
#[path = "fuzz/files.rs"]
mod files;
#[path = "fuzz/models.rs"]
mod models;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Class, Outcome};

/// Every class, in table order.
fn classes() -> Vec<Class> {
    vec![
        models::MPS_FILE,
        models::TTN_FILE,
        models::CORA_FILE,
        models::NPZ_MODEL,
        models::NPZ_CORA,
        files::NPY,
        files::NPZ,
        files::IDX_RAW,
        files::IDX_GZ,
        files::TNLBITS,
        einsum_class::EINSUM,
        api::TENSOR_API,
        api::MODEL_API,
        api::CORA_API,
        api::ISING_API,
    ]
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
}

const DEFAULT_SEED: u64 = 20261201;

/// The worker: runs inputs `from..to` of one class and reports over stdout. A no-op
/// unless started by the parent (or `TNL_FUZZ_REPRO` is set).
#[test]
fn fuzz_worker() {
    if let Ok(repro) = std::env::var("TNL_FUZZ_REPRO") {
        let parts: Vec<&str> = repro.split(':').collect();
        assert_eq!(parts.len(), 3, "TNL_FUZZ_REPRO=class:seed:index");
        let class = find_class(parts[0]);
        let (seed, index) = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
        let scratch = common::scratch_dir();
        eprintln!("{}", (class.describe)(seed, index));
        let outcome = (class.run)(seed, index, &scratch);
        eprintln!("outcome: {outcome:?}");
        return;
    }
    let Ok(name) = std::env::var("TNL_FUZZ_WORKER") else {
        return;
    };
    let class = find_class(&name);
    let seed = env_u64("TNL_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let from = env_u64("TNL_FUZZ_FROM").unwrap_or(0);
    let to = env_u64("TNL_FUZZ_TO").unwrap_or(0);
    let scratch = common::scratch_dir();
    std::panic::set_hook(Box::new(|_| {}));
    let stdout = std::io::stdout();
    for i in from..to {
        {
            let mut out = stdout.lock();
            writeln!(out, "@@FUZZ B {i}").unwrap();
            out.flush().unwrap();
        }
        let r = std::panic::catch_unwind(|| (class.run)(seed, i, &scratch));
        let line = match r {
            Ok(Outcome::Ok) => "ok".to_string(),
            Ok(Outcome::Err(m)) if m.trim().is_empty() => "fail Err with an empty message".into(),
            Ok(Outcome::Err(_)) => "err".to_string(),
            Ok(Outcome::Invalid(m)) => format!("fail invalid Ok: {m}"),
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "non-string payload".into());
                format!("fail panic: {msg}")
            }
        };
        let mut out = stdout.lock();
        writeln!(out, "@@FUZZ E {i} {}", line.replace('\n', " | ")).unwrap();
        out.flush().unwrap();
    }
}

fn find_class(name: &str) -> Class {
    classes()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no fuzz class {name:?}"))
}

/// One failed input.
struct Failure {
    class: &'static str,
    seed: u64,
    index: u64,
    what: String,
}

#[derive(Default, Clone)]
struct Row {
    inputs: u64,
    ok: u64,
    err: u64,
    failures: u64,
    seconds: f64,
    restarts: u64,
}

enum Msg {
    Begin(u64),
    End(u64, String),
}

/// Runs inputs `0..n` of `class` in worker processes; returns its row and failures.
fn supervise(
    class: &Class,
    seed: u64,
    n: u64,
    mem_mb: u64,
    timeout: Duration,
    max_hangs: u64,
) -> (Row, Vec<Failure>) {
    let start = Instant::now();
    let mut row = Row::default();
    let mut failures = Vec::new();
    let mut fail = |index: u64, what: String, row: &mut Row| {
        row.failures += 1;
        failures.push(Failure {
            class: class.name,
            seed,
            index,
            what,
        });
    };
    let exe = std::env::current_exe().expect("current_exe");
    let mut next = 0u64;
    let mut hangs = 0u64;
    while next < n {
        if hangs >= max_hangs {
            // Each hang costs the timeout: stop the class rather than the clock.
            fail(
                next,
                format!("class stopped after {hangs} hangs; inputs {next}..{n} not run"),
                &mut row,
            );
            break;
        }
        let mut cmd = Command::new(&exe);
        cmd.args(["fuzz_worker", "--exact", "--nocapture", "--test-threads=1"])
            .env("TNL_FUZZ_WORKER", class.name)
            .env("TNL_FUZZ_SEED", seed.to_string())
            .env("TNL_FUZZ_FROM", next.to_string())
            .env("TNL_FUZZ_TO", n.to_string())
            .env("RAYON_NUM_THREADS", "1")
            .env_remove("TNL_FUZZ_REPRO")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        common::limit_address_space(&mut cmd, mem_mb);
        let mut child = cmd.spawn().expect("spawn the fuzz worker");
        if next > 0 {
            row.restarts += 1;
        }
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print "test fuzz_worker ... " before the first line.
                let Some(rest) = line.find("@@FUZZ ").map(|at| &line[at + 7..]) else {
                    continue;
                };
                let mut it = rest.splitn(3, ' ');
                let kind = it.next().unwrap_or("");
                let Some(i) = it.next().and_then(|v| v.parse().ok()) else {
                    continue;
                };
                let msg = match kind {
                    "B" => Msg::Begin(i),
                    _ => Msg::End(i, it.next().unwrap_or("").to_string()),
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut current: Option<u64> = None;
        let mut since = Instant::now();
        loop {
            let wait = timeout.saturating_sub(since.elapsed());
            match rx.recv_timeout(wait) {
                Ok(Msg::Begin(i)) => {
                    current = Some(i);
                    since = Instant::now();
                }
                Ok(Msg::End(i, outcome)) => {
                    current = None;
                    since = Instant::now();
                    row.inputs += 1;
                    next = i + 1;
                    if outcome == "ok" {
                        row.ok += 1;
                    } else if outcome == "err" {
                        row.err += 1;
                    } else {
                        let what = outcome.strip_prefix("fail ").unwrap_or(&outcome);
                        fail(i, what.to_string(), &mut row);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // Ours to end: the worker we spawned, by its handle.
                    let _ = child.kill();
                    let _ = child.wait();
                    let i = current.unwrap_or(next);
                    hangs += 1;
                    row.inputs += 1;
                    fail(
                        i,
                        format!("hang: no outcome after {} s", timeout.as_secs()),
                        &mut row,
                    );
                    next = i + 1;
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait for the worker");
                    if let Some(i) = current {
                        row.inputs += 1;
                        fail(
                            i,
                            format!("abort: the worker died ({})", describe_status(status)),
                            &mut row,
                        );
                        next = i + 1;
                    } else if next < n {
                        // Died between inputs (cannot happen unless the harness is broken).
                        row.inputs += 1;
                        fail(
                            next,
                            format!("worker died between inputs ({})", describe_status(status)),
                            &mut row,
                        );
                        next += 1;
                    }
                    break;
                }
            }
        }
        let _ = reader.join();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(common::scratch_dir_of(child.id()));
    }
    row.seconds = start.elapsed().as_secs_f64();
    (row, failures)
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(sig)) => format!("signal {sig}"),
        (Some(code), _) => format!("exit code {code}"),
        _ => status.to_string(),
    }
}

/// Prints to the real stdout, past libtest's capture (which only intercepts the
/// `print!` macros), so the table shows even when the test passes.
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}

fn run(default_per_class: u64, default_max_hangs: u64) {
    let seed = env_u64("TNL_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let per_class = env_u64("TNL_FUZZ_INPUTS").unwrap_or(default_per_class);
    let mem_mb = env_u64("TNL_FUZZ_MEM_MB").unwrap_or(1024);
    let max_hangs = env_u64("TNL_FUZZ_MAX_HANGS").unwrap_or(default_max_hangs);
    let timeout = Duration::from_secs(env_u64("TNL_FUZZ_TIMEOUT_S").unwrap_or(10));
    let jobs = env_u64("TNL_FUZZ_JOBS").unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, |n| n.get().min(4) as u64)
    });
    let selected: Option<Vec<String>> = std::env::var("TNL_FUZZ_CLASSES")
        .ok()
        .map(|s| s.split(',').map(|c| c.trim().to_string()).collect());
    let all: Vec<Class> = classes()
        .into_iter()
        .filter(|c| {
            selected
                .as_ref()
                .is_none_or(|s| s.iter().any(|n| n == c.name))
        })
        .collect();
    assert!(!all.is_empty(), "TNL_FUZZ_CLASSES selects no class");
    let start = Instant::now();
    let queue = Arc::new(Mutex::new(
        all.iter().cloned().enumerate().collect::<VecDeque<_>>(),
    ));
    let results = Arc::new(Mutex::new(vec![None; all.len()]));
    let all_failures = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            let (queue, results, all_failures) =
                (queue.clone(), results.clone(), all_failures.clone());
            s.spawn(move || loop {
                let Some((k, class)) = queue.lock().unwrap().pop_front() else {
                    break;
                };
                let (row, failures) =
                    supervise(&class, seed, per_class, mem_mb, timeout, max_hangs);
                say!(
                    "fuzz: {:<12} {:>8} inputs {:>8} ok {:>8} err {:>6} failures {:>7.1} s",
                    class.name,
                    row.inputs,
                    row.ok,
                    row.err,
                    row.failures,
                    row.seconds
                );
                results.lock().unwrap()[k] = Some(row);
                all_failures.lock().unwrap().extend(failures);
            });
        }
    });
    let results = results.lock().unwrap().clone();
    let failures = std::mem::take(&mut *all_failures.lock().unwrap());
    let mut table = String::new();
    table += &format!(
        "\nfuzz: seed {seed}, {per_class} inputs per class, {jobs} workers at a time, \
         {mem_mb} MiB address space, {} s timeout\n\n",
        timeout.as_secs()
    );
    table += "| class | inputs | Ok | Err | failures | seconds |\n|---|---:|---:|---:|---:|---:|\n";
    let mut total = Row::default();
    for (class, row) in all.iter().zip(&results) {
        let row = row.clone().unwrap_or_default();
        table += &format!(
            "| {} | {} | {} | {} | {} | {:.1} |\n",
            class.name, row.inputs, row.ok, row.err, row.failures, row.seconds
        );
        total.inputs += row.inputs;
        total.ok += row.ok;
        total.err += row.err;
        total.failures += row.failures;
    }
    table += &format!(
        "| **total** | {} | {} | {} | {} | {:.1} (wall) |\n",
        total.inputs,
        total.ok,
        total.err,
        total.failures,
        start.elapsed().as_secs_f64()
    );
    say!("{table}");
    let report_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures.txt");
    let mut report = table.clone();
    for f in &failures {
        report += &format!(
            "{} seed {} input {}: {}\n  reproduce: TNL_FUZZ_REPRO={}:{}:{} cargo test --test fuzz fuzz_worker -- --exact --nocapture\n",
            f.class, f.seed, f.index, f.what, f.class, f.seed, f.index
        );
    }
    let _ = std::fs::write(&report_path, &report);
    // Print the first failures of each class, and how many of each kind.
    for class in &all {
        let mine: Vec<&Failure> = failures.iter().filter(|f| f.class == class.name).collect();
        if mine.is_empty() {
            continue;
        }
        say!(
            "{} failures in class {}; the first ones:",
            mine.len(),
            class.name
        );
        let mut sorted = mine.clone();
        sorted.sort_by_key(|f| f.index);
        for f in sorted.iter().take(10) {
            say!(
                "  input {}: {}\n    TNL_FUZZ_REPRO={}:{}:{} cargo test --test fuzz fuzz_worker -- --exact --nocapture",
                f.index, truncate(&f.what, 300), f.class, f.seed, f.index
            );
        }
    }
    say!("full list with reproducers: {}", report_path.display());
    assert!(
        failures.is_empty(),
        "{} of {} fuzz inputs failed (panic, abort, hang, invalid Ok); see the table above",
        failures.len(),
        total.inputs
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The default mode, run by `cargo test`: 20,000 inputs per class.
#[test]
fn fuzz_default() {
    if std::env::var_os("TNL_FUZZ_WORKER").is_some() || std::env::var_os("TNL_FUZZ_REPRO").is_some()
    {
        return;
    }
    run(20_000, 5);
}

/// The long mode: 10^6 inputs in total (`TNL_FUZZ_TOTAL` to change).
#[test]
#[ignore = "long: about 10^6 inputs; run with --release -- --ignored"]
fn fuzz_long() {
    if std::env::var_os("TNL_FUZZ_WORKER").is_some() {
        return;
    }
    let total = env_u64("TNL_FUZZ_TOTAL").unwrap_or(1_000_000);
    run(total.div_ceil(classes().len() as u64), u64::MAX);
}
