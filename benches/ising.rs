//! Ising data: cluster updates at `T_c` (spins per second), the exact Kaufman
//! partition function, and the per-sample MCRG work (operator sums, majority rule).
//!
//! `cargo bench --bench ising`. Update throughput is reported in lattice sites, so
//! criterion's "elem/s" reads as site updates per second (for Wolff: per single
//! cluster, i.e. the cost of one update divided by `N`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::ising::mcrg::{lattice_sums, CoarseGrain, Correlations, MajorityRule};
use tnlearn::ising::sampling::{ClusterAlgorithm, MarkovChain};
use tnlearn::ising::{exact, Lattice, CRITICAL_TEMPERATURE};

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    group
}

fn bench_updates(c: &mut Criterion) {
    let mut group = configure(c, "cluster_update_tc");
    for algorithm in [ClusterAlgorithm::Wolff, ClusterAlgorithm::SwendsenWang] {
        for l in [16usize, 32, 64] {
            let lattice = Lattice::square(l).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut chain =
                MarkovChain::new(&lattice, CRITICAL_TEMPERATURE, algorithm, false, &mut rng)
                    .unwrap();
            chain.run(500, &mut rng);
            group.throughput(Throughput::Elements((l * l) as u64));
            group.bench_with_input(BenchmarkId::new(algorithm.name(), l), &l, |b, _| {
                b.iter(|| black_box(chain.update(&mut rng)))
            });
        }
    }
    group.finish();
}

fn bench_kaufman(c: &mut Criterion) {
    let mut group = configure(c, "kaufman");
    for l in [32usize, 256, 2048] {
        group.bench_with_input(BenchmarkId::from_parameter(l), &l, |b, &l| {
            b.iter(|| black_box(exact::square(l, CRITICAL_TEMPERATURE).unwrap()))
        });
    }
    group.finish();
}

fn bench_mcrg_sample(c: &mut Criterion) {
    let mut group = configure(c, "mcrg_per_sample_32");
    let lattice = Lattice::square(32).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut chain = MarkovChain::new(
        &lattice,
        CRITICAL_TEMPERATURE,
        ClusterAlgorithm::Wolff,
        false,
        &mut rng,
    )
    .unwrap();
    chain.run(500, &mut rng);
    let spins = chain.spins().to_vec();
    let fine = ArrayView2::from_shape((32, 32), &spins).unwrap();
    let majority = MajorityRule::new(2).unwrap();
    group.bench_function("three_wolff_clusters", |b| {
        b.iter(|| chain.run(3, &mut rng))
    });
    group.bench_function("lattice_sums", |b| {
        b.iter(|| black_box(lattice_sums(fine).unwrap()))
    });
    group.bench_function("majority_rule", |b| {
        b.iter(|| black_box(majority.coarse_grain(fine, &mut rng).unwrap()))
    });
    let s0 = lattice_sums(fine).unwrap();
    let mut acc = Correlations::new(7).unwrap();
    group.bench_function("correlations_push", |b| {
        b.iter(|| acc.push(&s0, &s0).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_updates, bench_kaufman, bench_mcrg_sample);
criterion_main!(benches);
