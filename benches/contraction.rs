//! Contraction-engine benchmarks. Throughput is reported as `Elements(flops)` with
//! flops = 2 x multiply-adds, so criterion's "elem/s" reads as FLOP/s. A summary
//! table (own timing, median of repeated runs) is printed at the end; with
//! `RAYON_NUM_THREADS=1` it is in this thread's CPU time (robust to other processes
//! on a shared machine). `benches/python/contraction_ref.py` times the same cases
//! with numpy / opt_einsum.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::{contract, ContractionPlan, PathOptimizer, Tensor};

struct Case {
    name: String,
    spec: &'static str,
    shapes: Vec<Vec<usize>>,
}

/// One CORA level step (2x2 blocks, 2x2 window, chi = 2): 14 operands of short axes,
/// 61,120 multiply-adds; the per-step overhead of part 5 of issue 13.
const CORA_STEP: &str =
    "ABCDEFGHI,JA,KLB,MC,NRD,OPSTE,QUF,VG,WXH,YI,ZacdJKNO,beLMPQ,fgRSVW,hTUXY->Zabcdefgh";

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for n in [2usize, 64, 256, 1024] {
        v.push(Case {
            name: format!("matmul ij,jk->ik n={n}"),
            spec: "ij,jk->ik",
            shapes: vec![vec![n, n], vec![n, n]],
        });
    }
    v.push(Case {
        name: "permuted aib,bjc->ajic (32,128,32)".into(),
        spec: "aib,bjc->ajic",
        shapes: vec![vec![32, 128, 32], vec![32, 128, 32]],
    });
    v.push(Case {
        name: "batch-leading bij,bjk->bik (128,128)".into(),
        spec: "bij,bjk->bik",
        shapes: vec![vec![128, 128, 128], vec![128, 128, 128]],
    });
    v.push(Case {
        name: "batch-trailing ijb,jkb->ikb (128,128)".into(),
        spec: "ijb,jkb->ikb",
        shapes: vec![vec![128, 128, 128], vec![128, 128, 128]],
    });
    for d in [128usize, 256] {
        v.push(Case {
            name: format!("mps env ab,asc,bsd->cd D={d}"),
            spec: "ab,asc,bsd->cd",
            shapes: vec![vec![d, d], vec![d, 2, d], vec![d, 2, d]],
        });
    }
    v.push(Case {
        name: "two-site asb,btc->astc D=256".into(),
        spec: "asb,btc->astc",
        shapes: vec![vec![256, 2, 256], vec![256, 2, 256]],
    });
    v.push(Case {
        name: "batched outer bi,bj->ij (8000,100)".into(),
        spec: "bi,bj->ij",
        shapes: vec![vec![8000, 100], vec![8000, 100]],
    });
    v.push(Case {
        name: "tree msg bl,br,alr->ba (4000,64)".into(),
        spec: "bl,br,alr->ba",
        shapes: vec![vec![4000, 64], vec![4000, 64], vec![64, 64, 64]],
    });
    v.push(Case {
        name: "cora level step (14 operands, chi=2)".into(),
        spec: CORA_STEP,
        shapes: cora_step_shapes(),
    });
    v
}

fn cora_step_shapes() -> Vec<Vec<usize>> {
    let inputs = CORA_STEP.split("->").next().expect("spec has inputs");
    inputs.split(',').map(|t| vec![2; t.len()]).collect()
}

fn operands(shapes: &[Vec<usize>]) -> Vec<Tensor<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    shapes.iter().map(|s| Tensor::random(s, &mut rng)).collect()
}

/// Median seconds per call of `f`, over batches lasting about `budget` in total.
/// Seconds on the table's clock: this thread's CPU time (`clock_gettime`, ns
/// resolution) when `RAYON_NUM_THREADS=1` (all work on this thread), else wall time.
fn clock() -> f64 {
    static START: std::sync::OnceLock<(Instant, bool)> = std::sync::OnceLock::new();
    let (start, cpu) = *START.get_or_init(|| {
        let one = std::env::var("RAYON_NUM_THREADS").is_ok_and(|v| v.trim() == "1");
        (Instant::now(), one && cfg!(target_os = "linux"))
    });
    #[cfg(target_os = "linux")]
    if cpu {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec through a valid pointer.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
    }
    let _ = cpu;
    start.elapsed().as_secs_f64()
}

fn time_it(mut f: impl FnMut(), budget: Duration) -> f64 {
    // Calibrate a batch of ~budget/15.
    let t0 = Instant::now();
    f();
    let one = t0.elapsed().as_secs_f64().max(1e-9);
    let per_batch = (budget.as_secs_f64() / 15.0 / one).clamp(1.0, 1e7) as usize;
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < 5 || (start.elapsed() < budget && samples.len() < 15) {
        let t = clock();
        for _ in 0..per_batch {
            f();
        }
        samples.push((clock() - t) / per_batch as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

/// This thread's CPU time in seconds (user + system, 10 ms ticks), from
/// /proc/thread-self/stat; 0 where unavailable. Robust to other processes
/// competing for the cores, unlike wall time.
fn thread_cpu() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    let f: Vec<&str> = s
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// CPU microseconds per call of a single-threaded `f`, over about 0.5 s.
fn cpu_per_call(mut f: impl FnMut()) -> f64 {
    let t0 = Instant::now();
    let mut n = 0usize;
    let c0 = thread_cpu();
    while t0.elapsed() < Duration::from_millis(500) {
        for _ in 0..1000 {
            f();
        }
        n += 1000;
    }
    (thread_cpu() - c0) / n as f64 * 1e6
}

fn bench(c: &mut Criterion) {
    for case in cases() {
        let shapes: Vec<&[usize]> = case.shapes.iter().map(|s| s.as_slice()).collect();
        let plan = ContractionPlan::new(case.spec, &shapes, PathOptimizer::Auto).unwrap();
        let ops = operands(&case.shapes);
        let refs: Vec<&Tensor<f64>> = ops.iter().collect();
        let flops = 2 * plan.flops() as u64;
        let mut g = c.benchmark_group("einsum_plan");
        g.throughput(Throughput::Elements(flops));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(2));
        g.bench_function(&case.name, |bch| {
            bch.iter(|| plan.execute(black_box(&refs)).unwrap())
        });
        g.finish();
    }
    for n in [16usize, 32, 256, 1024] {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let a = Tensor::<f64>::random(&[n, n], &mut rng).into_array();
        let b = Tensor::<f64>::random(&[n, n], &mut rng).into_array();
        let a = a.into_dimensionality::<ndarray::Ix2>().unwrap();
        let b = b.into_dimensionality::<ndarray::Ix2>().unwrap();
        let mut cm = Array2::<f64>::zeros((n, n));
        let mut g = c.benchmark_group("raw_gemm");
        g.throughput(Throughput::Elements(2 * (n * n * n) as u64));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(2));
        g.bench_function(format!("linalg::gemm n={n}"), |bch| {
            bch.iter(|| {
                tnlearn::linalg::gemm(1.0, a.view(), b.view(), false, cm.view_mut()).unwrap()
            })
        });
        g.finish();
    }
    let mut g = c.benchmark_group("tiny");
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    let a = Tensor::<f64>::new(&[2, 2], vec![1., 2., 3., 4.]).unwrap();
    let b = Tensor::<f64>::new(&[2, 2], vec![5., 6., 7., 8.]).unwrap();
    g.bench_function("contract 2x2", |bch| {
        bch.iter(|| contract(black_box(&a), &[1], black_box(&b), &[0]).unwrap())
    });
    let shapes: [&[usize]; 3] = [&[64, 64], &[64, 2, 64], &[64, 2, 64]];
    g.bench_function("plan ab,asc,bsd->cd (greedy)", |bch| {
        bch.iter(|| {
            ContractionPlan::new(black_box("ab,asc,bsd->cd"), &shapes, PathOptimizer::Greedy)
                .unwrap()
        })
    });
    g.bench_function("plan ab,asc,bsd->cd (auto)", |bch| {
        bch.iter(|| {
            ContractionPlan::new(black_box("ab,asc,bsd->cd"), &shapes, PathOptimizer::Auto).unwrap()
        })
    });
    g.finish();
}

/// Whether a table row is selected by `CASES` (comma-separated substrings of the
/// row names; unset = all rows).
fn selected(name: &str) -> bool {
    match std::env::var("CASES") {
        Ok(v) => v.split(',').any(|p| name.contains(p.trim())),
        Err(_) => true,
    }
}

fn table() {
    println!(
        "\n{:<40} {:>12} {:>12} {:>9}",
        "case", "time", "GFLOP/s", "copies"
    );
    let budget = Duration::from_millis(600);
    for case in cases() {
        if !selected(&case.name) {
            continue;
        }
        let shapes: Vec<&[usize]> = case.shapes.iter().map(|s| s.as_slice()).collect();
        let plan = ContractionPlan::new(case.spec, &shapes, PathOptimizer::Auto).unwrap();
        let ops = operands(&case.shapes);
        let refs: Vec<&Tensor<f64>> = ops.iter().collect();
        let t = time_it(
            || drop(black_box(plan.execute(black_box(&refs)).unwrap())),
            budget,
        );
        let gf = 2.0 * plan.flops() as f64 / t / 1e9;
        println!(
            "{:<40} {:>10.3}us {:>12.2} {:>9}",
            case.name,
            t * 1e6,
            gf,
            plan.copied_elements()
        );
    }
    // The backend's GEMM rate per case: one row-major (m, n, k) product of the
    // same dimensions as the case's GEMMs (squares, then the cases' shapes).
    let gemm_shapes: [(usize, usize, usize, &str); 8] = [
        (16, 16, 16, "n=16"),
        (32, 32, 32, "n=32"),
        (256, 256, 256, "n=256"),
        (1024, 1024, 1024, "n=1024"),
        (128, 128, 128, "n=128 (batched cases)"),
        (4096, 4096, 32, "4096x4096x32 (aib,bjc)"),
        (100, 100, 8000, "100x100x8000 (bi,bj)"),
        (4000, 4096, 64, "4000x4096x64 (tree msg)"),
    ];
    for (m, n, k, label) in gemm_shapes {
        if !selected(&format!("raw linalg::gemm {label}")) {
            continue;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let a = Tensor::<f64>::random(&[m, k], &mut rng)
            .into_array()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let b = Tensor::<f64>::random(&[k, n], &mut rng)
            .into_array()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let mut cm = Array2::<f64>::zeros((m, n));
        let t = time_it(
            || tnlearn::linalg::gemm(1.0, a.view(), b.view(), false, cm.view_mut()).unwrap(),
            budget,
        );
        println!(
            "{:<40} {:>10.3}us {:>12.2} {:>9}",
            format!("raw linalg::gemm {label}"),
            t * 1e6,
            2.0 * (m * n * k) as f64 / t / 1e9,
            "-"
        );
    }
    if !selected("tiny case") {
        return;
    }
    println!(
        "\n{:<40} {:>12} {:>12}",
        "tiny case", "wall/call", "cpu/call"
    );
    let a = Tensor::<f64>::new(&[2, 2], vec![1., 2., 3., 4.]).unwrap();
    let b = Tensor::<f64>::new(&[2, 2], vec![5., 6., 7., 8.]).unwrap();
    let tiny = |name: &str, f: &mut dyn FnMut()| {
        let wall = time_it(&mut *f, budget);
        let cpu = cpu_per_call(f);
        println!("{:<40} {:>10.3}us {:>10.3}us", name, wall * 1e6, cpu);
    };
    tiny("contract 2x2 (a_ij b_jk)", &mut || {
        drop(black_box(
            contract(black_box(&a), &[1], black_box(&b), &[0]).unwrap(),
        ))
    });
    tiny("contract 2x2 (a_ji b_jk)", &mut || {
        drop(black_box(
            contract(black_box(&a), &[0], black_box(&b), &[0]).unwrap(),
        ))
    });
    let plan = ContractionPlan::new("ij,jk->ik", &[&[2, 2], &[2, 2]], PathOptimizer::Auto).unwrap();
    tiny("plan.execute ij,jk->ik 2x2", &mut || {
        drop(black_box(plan.execute(black_box(&[&a, &b])).unwrap()))
    });
    let cora_ops = operands(&cora_step_shapes());
    let cora_refs: Vec<&Tensor<f64>> = cora_ops.iter().collect();
    let cache = tnlearn::tensor::PlanCache::default();
    tiny("PlanCache::run cora level step", &mut || {
        drop(black_box(
            cache
                .run(black_box(CORA_STEP), black_box(&cora_refs))
                .unwrap(),
        ))
    });
    let shapes: [&[usize]; 3] = [&[64, 64], &[64, 2, 64], &[64, 2, 64]];
    for opt in [PathOptimizer::Greedy, PathOptimizer::Auto] {
        tiny(&format!("plan ab,asc,bsd->cd ({opt:?})"), &mut || {
            drop(black_box(
                ContractionPlan::new(black_box("ab,asc,bsd->cd"), &shapes, opt).unwrap(),
            ))
        });
    }
}

fn main() {
    // TABLE_ONLY=1: skip the criterion groups, print only the summary table.
    if std::env::var_os("TABLE_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        bench(&mut c);
        c.final_summary();
    }
    table();
}
