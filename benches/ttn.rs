//! TTN Born machine: one training sweep, exact log-likelihoods and exact sampling
//! on the shipped MNIST subset, next to the MPS Born machine at the same bond
//! dimension.
//!
//! `cargo bench --bench ttn`. Each sweep starts from a model trained for one sweep
//! already (so the bonds have grown to `max_bond`); a TTN sweep crosses every tree
//! edge twice, an MPS sweep every bond twice.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::SeedableRng;
use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine, TtnBornMachine};
use tnlearn::data::mnist;

const IMAGES: usize = 500;

fn options(max_bond: usize) -> BornOptions {
    BornOptions::new()
        .max_bond(max_bond)
        .initial_bond(max_bond.min(8))
        .learning_rate(0.02)
        .steps_per_bond(1)
        .sweeps(1)
        .seed(1)
}

fn bench_sweep(c: &mut Criterion) {
    let (train, _) = mnist::shipped().expect("shipped MNIST");
    let train = train.take(IMAGES);
    let mut group = c.benchmark_group("born_sweep_500_mnist");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(10));
    for max_bond in [8usize, 16] {
        let mut ttn = TtnBornMachine::for_image(28, 28, 2, options(max_bond)).expect("model");
        ttn.fit(&train).expect("first sweep");
        group.bench_with_input(BenchmarkId::new("ttn", max_bond), &max_bond, |b, _| {
            b.iter(|| {
                let mut m = ttn.clone();
                black_box(m.fit(&train).expect("sweep"));
            })
        });
        let mut mps = MpsBornMachine::new(784, 2, options(max_bond)).expect("model");
        mps.fit(&train).expect("first sweep");
        group.bench_with_input(BenchmarkId::new("mps", max_bond), &max_bond, |b, _| {
            b.iter(|| {
                let mut m = mps.clone();
                black_box(m.fit(&train).expect("sweep"));
            })
        });
    }
    group.finish();
}

fn bench_exact(c: &mut Criterion) {
    let (train, test) = mnist::shipped().expect("shipped MNIST");
    let mut ttn = TtnBornMachine::for_image(28, 28, 2, options(16)).expect("model");
    ttn.fit(&train.take(IMAGES)).expect("sweep");
    let mut group = c.benchmark_group("ttn_exact_d16");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    let test = test.take(1000);
    group.bench_function("nll_1000_images", |b| {
        b.iter(|| black_box(ttn.nll(&test).expect("nll")))
    });
    group.bench_function("sample_100", |b| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        b.iter(|| black_box(ttn.sample(100, &mut rng).expect("samples")))
    });
    group.finish();
}

criterion_group!(benches, bench_sweep, bench_exact);
criterion_main!(benches);
