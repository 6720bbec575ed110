//! Data-parallel MPS training (issue 16) without MPI: `K` threads in one process
//! play the ranks through an in-memory [`Communicator`] (sums in rank order, so
//! every rank gets bitwise the same result, as MPI's all-reduce does). Training on
//! 1, 2 and 3 ranks gives the same model (NLL per half-sweep, validation NLL, bond
//! dimensions, final probabilities) to 1e-12; bad input on one rank is an error on
//! every rank, never a hang or a panic. `tests/mpi.rs` checks the same under
//! `mpirun` (feature `mpi`).

mod born_common;

use std::sync::{Arc, Barrier, Mutex};

use ndarray::Array2;
use tnlearn::born::{
    BornOptions, FitControl, HalfSweepReport, MpsBornMachine, NoObserver, Validation,
};
use tnlearn::distributed::{Communicator, SingleProcess};
use tnlearn::{Dataset, Error};

const SITES: usize = 10;

/// The shared state of the thread ranks: one slot per rank, and a barrier.
struct Shared {
    barrier: Barrier,
    f64s: Mutex<Vec<Vec<f64>>>,
    u64s: Mutex<Vec<u64>>,
    bytes: Mutex<Vec<u8>>,
}

struct ThreadComm {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
}

impl Communicator for ThreadComm {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn sum_in_place(&self, values: &mut [f64]) {
        self.shared.f64s.lock().unwrap()[self.rank] = values.to_vec();
        self.shared.barrier.wait();
        {
            let all = self.shared.f64s.lock().unwrap();
            for (i, v) in values.iter_mut().enumerate() {
                *v = all.iter().fold(0.0, |s, r| s + r[i]);
            }
        }
        self.shared.barrier.wait();
    }
    fn all_gather(&self, value: u64) -> Vec<u64> {
        self.shared.u64s.lock().unwrap()[self.rank] = value;
        self.shared.barrier.wait();
        let all = self.shared.u64s.lock().unwrap().clone();
        self.shared.barrier.wait();
        all
    }
    fn broadcast_bytes(&self, root: usize, bytes: &mut Vec<u8>) {
        if self.rank == root {
            *self.shared.bytes.lock().unwrap() = bytes.clone();
        }
        self.shared.barrier.wait();
        *bytes = self.shared.bytes.lock().unwrap().clone();
        self.shared.barrier.wait();
    }
}

/// Runs `body(comm)` on `size` thread ranks; the results in rank order.
fn on_ranks<T: Send>(size: usize, body: impl Fn(&ThreadComm) -> T + Sync) -> Vec<T> {
    let shared = Arc::new(Shared {
        barrier: Barrier::new(size),
        f64s: Mutex::new(vec![Vec::new(); size]),
        u64s: Mutex::new(vec![0; size]),
        bytes: Mutex::new(Vec::new()),
    });
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                let comm = ThreadComm {
                    rank,
                    size,
                    shared: Arc::clone(&shared),
                };
                let body = &body;
                s.spawn(move || body(&comm))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// `n` noisy copies of 3 random templates (bits flipped with probability 0.1).
fn noisy_templates(n: usize, seed: u64) -> Dataset {
    born_common::noisy_templates(n, SITES, 7, 0.1, seed)
}

fn options(batch: Option<usize>) -> BornOptions {
    BornOptions::new()
        .max_bond(6)
        .initial_bond(2)
        .cutoff(1e-6)
        .learning_rate(0.05)
        .steps_per_bond(2)
        .batch_size(batch)
        .sweeps(3)
        .seed(11)
}

/// What must not depend on the number of ranks.
struct Run {
    reports: Vec<HalfSweepReport>,
    log_probs: Vec<f64>,
}

fn train(comm: &dyn Communicator, batch: Option<usize>) -> Run {
    let (train, valid) = (noisy_templates(61, 1), noisy_templates(23, 2));
    let shard = |d: &Dataset| d.shard(comm.rank(), comm.size()).unwrap();
    let (train_shard, valid_shard) = (shard(&train), shard(&valid));
    let mut model = MpsBornMachine::new(SITES, 2, options(batch)).unwrap();
    let reports = model
        .fit_distributed_with(
            &train_shard,
            Some(Validation::new(&valid_shard).patience(3)),
            comm,
            &mut NoObserver,
        )
        .unwrap();
    Run {
        reports,
        log_probs: model.log_probs(train.samples()).unwrap(),
    }
}

fn assert_same(a: &Run, b: &Run, what: &str) {
    assert_eq!(a.reports.len(), b.reports.len(), "{what}: half-sweeps");
    for (ra, rb) in a.reports.iter().zip(&b.reports) {
        assert_eq!(
            ra.max_bond,
            rb.max_bond,
            "{what}: bond at {}",
            ra.half_sweep()
        );
        assert!(
            (ra.train_nll - rb.train_nll).abs() < 1e-12,
            "{what}: train NLL {} vs {} at {}",
            ra.train_nll,
            rb.train_nll,
            ra.half_sweep()
        );
        // Held-out samples the model finds unlikely make ln p ill-conditioned (an
        // amplitude psi(x) near 0 is a sum that cancels: d ln|psi| = d psi / psi):
        // the validation NLL agrees to ~1e-11 when the training NLL agrees to ~1e-13.
        let (va, vb) = (ra.valid_nll.unwrap(), rb.valid_nll.unwrap());
        assert!((va - vb).abs() < 1e-10, "{what}: valid NLL {va} vs {vb}");
        assert_eq!(ra.best_half_sweep, rb.best_half_sweep, "{what}");
    }
    let worst = a
        .log_probs
        .iter()
        .zip(&b.log_probs)
        .map(|(pa, pb)| (pa - pb).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 1e-11,
        "{what}: ln p of a training sample differs by {worst:e}"
    );
}

#[test]
fn one_two_and_three_ranks_train_the_same_model() {
    for batch in [None, Some(20)] {
        let single = train(&SingleProcess, batch);
        // Training happened (the NLL fell) and the bond grew.
        let first = single.reports.first().unwrap();
        let last = single.reports.last().unwrap();
        assert!(last.train_nll < first.train_nll - 0.5, "{batch:?}");
        assert!(single.reports.iter().any(|r| r.max_bond > 2));
        for size in [1, 2, 3] {
            let runs = on_ranks(size, |c| train(c, batch));
            for (rank, run) in runs.iter().enumerate() {
                assert_same(
                    &single,
                    run,
                    &format!("{size} ranks, rank {rank}, {batch:?}"),
                );
            }
        }
    }
}

/// The single-process path of `fit_distributed_with` is `fit_validated_with`, bit
/// for bit.
#[test]
fn single_process_is_the_ordinary_fit() {
    let (train, valid) = (noisy_templates(40, 3), noisy_templates(10, 4));
    let mut a = MpsBornMachine::new(SITES, 2, options(Some(16))).unwrap();
    let mut b = a.clone();
    let ra = a
        .fit_validated_with(&train, Some(Validation::new(&valid)), &mut NoObserver)
        .unwrap();
    let rb = b
        .fit_distributed_with(
            &train,
            Some(Validation::new(&valid)),
            &SingleProcess,
            &mut NoObserver,
        )
        .unwrap();
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(x.train_nll.to_bits(), y.train_nll.to_bits());
        assert_eq!(x.valid_nll.map(f64::to_bits), y.valid_nll.map(f64::to_bits));
    }
    assert_eq!(
        a.log_probs(train.samples()).unwrap(),
        b.log_probs(train.samples()).unwrap()
    );
}

fn message(e: &Error) -> String {
    e.to_string()
}

/// Bad input on one rank: every rank returns an error (no hang, no panic); the
/// others' errors name the failing rank and carry its message.
#[test]
fn bad_input_on_one_rank_is_an_error_on_every_rank() {
    let data = noisy_templates(20, 5);
    // Rank 1 holds samples of another number of sites.
    let results = on_ranks(2, |c| {
        let shard = if c.rank() == 1 {
            Dataset::binary(Array2::zeros((5, SITES - 1))).unwrap()
        } else {
            data.shard(0, 2).unwrap()
        };
        let mut model = MpsBornMachine::new(SITES, 2, options(None)).unwrap();
        model.fit_distributed_with(&shard, None, c, &mut NoObserver)
    });
    let e0 = message(results[0].as_ref().unwrap_err());
    let e1 = message(results[1].as_ref().unwrap_err());
    assert!(
        e0.contains("rank 1 of 2 failed") && e0.contains(&e1),
        "{e0}"
    );
    assert!(e1.contains("train"), "{e1}");

    // An empty shard (more ranks than samples).
    let results = on_ranks(2, |c| {
        let shard = if c.rank() == 0 {
            data.clone()
        } else {
            Dataset::binary(Array2::zeros((0, SITES))).unwrap()
        };
        let mut model = MpsBornMachine::new(SITES, 2, options(None)).unwrap();
        model.fit_distributed_with(&shard, None, c, &mut NoObserver)
    });
    assert!(results.iter().all(Result::is_err));
    assert!(message(results[0].as_ref().unwrap_err()).contains("rank 1"));

    // Different options (seeds) on the ranks.
    let results = on_ranks(2, |c| {
        let mut model = MpsBornMachine::new(SITES, 2, options(None).seed(c.rank() as u64)).unwrap();
        model.fit_distributed_with(&data.shard(c.rank(), 2).unwrap(), None, c, &mut NoObserver)
    });
    for r in &results {
        let e = message(r.as_ref().unwrap_err());
        assert!(
            e.contains("`comm`") && e.contains("rank 1 of 2 differs"),
            "{e}"
        );
    }

    // A validation set on one rank only.
    let results = on_ranks(2, |c| {
        let shard = data.shard(c.rank(), 2).unwrap();
        let valid = (c.rank() == 0).then(|| Validation::new(&shard));
        let mut model = MpsBornMachine::new(SITES, 2, options(None)).unwrap();
        model.fit_distributed_with(&shard, valid, c, &mut NoObserver)
    });
    assert!(results.iter().all(Result::is_err));

    // Dataset::shard's own errors.
    assert!(message(&data.shard(0, 21).unwrap_err()).contains("at most 20 ranks"));
    assert!(message(&data.shard(2, 2).unwrap_err()).contains("`rank`"));
    assert!(data.shard(0, 0).is_err());
}

/// One rank's observer stopping stops every rank after the same half-sweep.
#[test]
fn a_stop_on_one_rank_stops_every_rank() {
    let data = noisy_templates(30, 6);
    let counts = on_ranks(2, |c| {
        let mut model = MpsBornMachine::new(SITES, 2, options(None)).unwrap();
        let rank = c.rank();
        let mut observer = |r: &HalfSweepReport, _: &MpsBornMachine| {
            if rank == 1 && r.half_sweep() == 2 {
                FitControl::Stop
            } else {
                FitControl::Continue
            }
        };
        model
            .fit_distributed_with(&data.shard(rank, 2).unwrap(), None, c, &mut observer)
            .unwrap()
            .len()
    });
    assert_eq!(counts, vec![2, 2]);
}

/// The shards of `Dataset::shard` are contiguous, balanced and in order.
#[test]
fn shards_partition_the_data_set_in_order() {
    let data = noisy_templates(23, 8);
    for size in 1..=23 {
        let shards: Vec<Dataset> = (0..size).map(|r| data.shard(r, size).unwrap()).collect();
        let lens: Vec<usize> = shards.iter().map(Dataset::len).collect();
        assert_eq!(lens.iter().sum::<usize>(), 23);
        assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1);
        let rows: Vec<u8> = shards
            .iter()
            .flat_map(|s| s.samples().iter().copied().collect::<Vec<_>>())
            .collect();
        assert_eq!(rows, data.samples().iter().copied().collect::<Vec<_>>());
    }
}
