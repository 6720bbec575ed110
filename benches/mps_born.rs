//! The MPS Born machine's hot loops: one training sweep and batched exact sampling.
//!
//! `cargo bench --bench mps_born` (add `--features openblas` for the OpenBLAS
//! backend).
//!
//! - `mps_sweep/1000x784_D32`: one sweep (left-to-right and back, 2 x 783 two-site
//!   updates) of full-batch training on 1000 shipped MNIST images with `max_bond`
//!   32, starting from a model whose bonds are already saturated at 32.
//! - `mps_sample/D{32,100}`: 1000 exact zipper samples of 784 pixels from an MPS of
//!   bond dimension 32 / 100; criterion's throughput reads as samples per second.
//!   The flop count per sample is about `2 sum_k d D^2` (one `D x dD` product per
//!   site): ~6.3 MFLOP at `D = 100`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine, StepRule};
use tnlearn::data::mnist;

fn bench_sweep(c: &mut Criterion) {
    eprintln!("backend: {}", tnlearn::linalg::backend_info());
    let (train, _) = mnist::shipped().expect("shipped data");
    let data = train.take(1000);
    let options = BornOptions::new()
        .max_bond(32)
        .min_bond(2)
        .cutoff(1e-50)
        .learning_rate(5e-3)
        .step_rule(StepRule::Normalized {
            size_exponent: 0.25,
        })
        .sweeps(3)
        .seed(1);
    let mut model = MpsBornMachine::new(784, 2, options).expect("valid options");
    model.fit(&data).expect("warm-up training");
    assert_eq!(model.max_bond(), 32, "bonds saturated before timing");
    model.set_options(options.sweeps(1)).expect("valid options");
    let mut group = c.benchmark_group("mps_sweep");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("1000x784_D32", |b| {
        b.iter_batched(
            || model.clone(),
            |mut m| black_box(m.fit(&data).expect("sweep")),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn bench_sample(c: &mut Criterion) {
    let mut group = c.benchmark_group("mps_sample");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(5));
    for bond in [32usize, 100] {
        let options = BornOptions::new().max_bond(bond).initial_bond(bond).seed(2);
        let model = MpsBornMachine::new(784, 2, options).expect("valid options");
        let n = 1000;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("D", bond), &bond, |b, _| {
            let mut rng = StdRng::seed_from_u64(3);
            b.iter(|| black_box(model.sample(n, &mut rng).expect("sampling")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sweep, bench_sample);
criterion_main!(benches);
