//! Times data-parallel MPS Born machine training (issue 16): seconds per
//! half-sweep, and the bytes and seconds of the all-reduces, on the shipped MNIST
//! training images at a fixed bond dimension (the model starts at `--max-bond`).
//!
//! ```sh
//! cargo build --release --features mpi --example distributed_timing
//! RAYON_NUM_THREADS=1 mpirun -n 2 target/release/examples/distributed_timing --max-bond 100
//! ```
//!
//! Rank 0 prints one JSON line: per half-sweep `seconds`, `comm_seconds` (time in
//! `sum_in_place`, waiting for the slowest rank included) and `comm_bytes` (the
//! bytes each rank sends into the all-reduces). Without the feature `mpi` it runs
//! on one process.

mod common;
#[path = "common/ranks.rs"]
mod ranks;

use std::cell::Cell;
use std::time::Instant;

use clap::Parser;
use serde_json::json;
use tnlearn::born::{BornOptions, FitControl, HalfSweepReport, MpsBornMachine};
use tnlearn::data::mnist;
use tnlearn::distributed::Communicator;

/// Seconds per half-sweep of data-parallel MPS training, and its communication.
#[derive(Parser)]
struct Args {
    /// Training images (of the 8,000 shipped ones).
    #[arg(long, default_value_t = 8000)]
    n_train: usize,
    /// Bond dimension (the model starts at it).
    #[arg(long, default_value_t = 100)]
    max_bond: usize,
    /// Sweeps (two half-sweeps each).
    #[arg(long, default_value_t = 1)]
    sweeps: usize,
    /// Gradient steps per bond (one all-reduce each).
    #[arg(long, default_value_t = 2)]
    steps_per_bond: usize,
}

/// A communicator that counts what passes through `sum_in_place`.
struct Counting<'a> {
    inner: &'a dyn Communicator,
    bytes: Cell<u64>,
    seconds: Cell<f64>,
}

impl Communicator for Counting<'_> {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
    fn sum_in_place(&self, values: &mut [f64]) {
        let t = Instant::now();
        self.inner.sum_in_place(values);
        self.seconds
            .set(self.seconds.get() + t.elapsed().as_secs_f64());
        self.bytes
            .set(self.bytes.get() + std::mem::size_of_val(values) as u64);
    }
    fn all_gather(&self, value: u64) -> Vec<u64> {
        self.inner.all_gather(value)
    }
    fn broadcast_bytes(&self, root: usize, bytes: &mut Vec<u8>) {
        self.inner.broadcast_bytes(root, bytes)
    }
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run()?))
}

fn run() -> tnlearn::Result<()> {
    let args = Args::parse();
    let ranks = ranks::Ranks::init()?;
    let (train, _) = mnist::shipped()?;
    let train = train.take(args.n_train);
    let options = BornOptions::new()
        .max_bond(args.max_bond)
        .initial_bond(args.max_bond)
        .cutoff(1e-7)
        .learning_rate(0.02)
        .steps_per_bond(args.steps_per_bond)
        .sweeps(args.sweeps)
        .seed(1);
    let mut model = MpsBornMachine::new(train.num_sites(), 2, options)?;
    let comm = Counting {
        inner: ranks.comm(),
        bytes: Cell::new(0),
        seconds: Cell::new(0.0),
    };
    let shard = ranks.shard(&train)?;
    let mut rows = Vec::new();
    let mut observer = |r: &HalfSweepReport, _: &MpsBornMachine| {
        rows.push(json!({
            "half_sweep": r.half_sweep(),
            "seconds": r.seconds,
            "comm_seconds": comm.seconds.replace(0.0),
            "comm_bytes": comm.bytes.replace(0),
            "train_nll": r.train_nll,
            "max_bond": r.max_bond,
        }));
        FitControl::Continue
    };
    model.fit_distributed_with(&shard, None, &comm, &mut observer)?;
    if ranks.is_root() {
        common::json_line(&json!({
            "ranks": ranks.size(),
            "rayon_threads": rayon_threads(),
            "n_train": train.len(),
            "max_bond": args.max_bond,
            "steps_per_bond": args.steps_per_bond,
            "half_sweeps": rows,
        }));
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
