//! Dense linear algebra on the active backend: GEMM throughput, thin SVD and QR.
//!
//! `cargo bench --bench linalg` (faer) or `cargo bench --bench linalg --features
//! openblas` (optionally with `OPENBLAS_CORETYPE=SkylakeX`). GEMM throughput is
//! reported as `2 n^3` elements, so criterion's "Gelem/s" reads as GFLOP/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::linalg::{backend_info, gemm, qr, svd};
use tnlearn::Scalar;

fn random(m: usize, n: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((m, n), || f64::random_normal(&mut rng))
}

fn configure(c: &mut Criterion) -> &mut Criterion {
    eprintln!("backend: {}", backend_info());
    c
}

fn bench_gemm(c: &mut Criterion) {
    let c = configure(c);
    let mut group = c.benchmark_group("gemm_f64");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n in [64usize, 256, 512, 1024] {
        let a = random(n, n, 1);
        let b = random(n, n, 2);
        let mut out = Array2::<f64>::zeros((n, n));
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                gemm(1.0, a.view(), b.view(), false, out.view_mut()).unwrap();
                black_box(&out);
            })
        });
    }
    group.finish();
}

fn bench_decompositions(c: &mut Criterion) {
    for (name, is_svd) in [("svd_f64", true), ("qr_f64", false)] {
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for n in [64usize, 128, 256, 512, 1024] {
            let a = random(n, n, 3);
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
                if is_svd {
                    bench.iter(|| black_box(svd(a.view()).unwrap()))
                } else {
                    bench.iter(|| black_box(qr(a.view()).unwrap()))
                }
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_gemm, bench_decompositions);
criterion_main!(benches);
