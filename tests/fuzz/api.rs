//! Every public constructor, with extreme sizes and values: an input is one call (or a
//! short chain of calls) with arguments drawn from the special sizes and values of
//! `common`.

use std::path::Path;

use ndarray::Array2;
use rand::Rng;
use tnlearn::cora::{Architecture, Boundary, Geometry, StochasticMap};
use tnlearn::ising::mcrg::{
    check_configuration, estimate_mutual_information, BlockRule, CoarseGrain, Correlations,
    KlCdOptions, KlOptimal, MajorityRule, RsmiOptions,
};
use tnlearn::ising::sampling::{sample as ising_sample, SamplerOptions};
use tnlearn::ising::{exact::exact, stats::blocking, Lattice};
use tnlearn::ttn::Tree;
use tnlearn::{
    BornMachine, BornOptions, Cora, Dataset, Mps, MpsBornMachine, Tensor, TtnBornMachine,
};

use crate::common::{note, rng_for, special_f64, special_usize, Class, Outcome};

pub const TENSOR_API: Class = Class {
    name: "tensor-api",
    run: run_tensor,
    describe,
};
pub const MODEL_API: Class = Class {
    name: "born-api",
    run: run_born,
    describe,
};
pub const CORA_API: Class = Class {
    name: "cora-api",
    run: run_cora,
    describe,
};
pub const ISING_API: Class = Class {
    name: "ising-api",
    run: run_ising,
    describe,
};

fn describe(seed: u64, index: u64) -> String {
    format!("API call seed {seed} input {index}: run with TNL_FUZZ_REPRO to see the panic")
}

/// A size: usually small (so the Ok paths run), sometimes extreme.
fn size(rng: &mut impl Rng) -> usize {
    if rng.random_bool(0.6) {
        rng.random_range(0..6)
    } else {
        special_usize(rng)
    }
}

/// Ok/Err of a result, with a check of the Ok value.
fn outcome<T>(r: tnlearn::Result<T>, check: impl FnOnce(&T) -> Result<(), String>) -> Outcome {
    match r {
        Ok(v) => match check(&v) {
            Ok(()) => Outcome::Ok,
            Err(m) => Outcome::Invalid(m),
        },
        Err(e) => Outcome::from_error(&e, None),
    }
}

fn no_check<T>(_: &T) -> Result<(), String> {
    Ok(())
}

fn shape(rng: &mut impl Rng) -> Vec<usize> {
    let rank = rng.random_range(0..=4);
    (0..rank).map(|_| size(rng)).collect()
}

fn run_tensor(seed: u64, index: u64, _: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 31);
    let s = shape(&mut rng);
    note(|| format!("tensor constructor, shape {s:?}"));
    match rng.random_range(0..8) {
        0 => checked(Tensor::<f64>::try_zeros(&s), &s),
        1 => {
            let v = special_f64(&mut rng);
            checked(Tensor::try_from_fn(&s, |_| v), &s)
        }
        2 => checked(Tensor::<f64>::try_random(&s, &mut rng), &s),
        3 => {
            let n = size(&mut rng);
            checked(Tensor::<f64>::try_eye(n), &[n, n])
        }
        4 => {
            let len = rng.random_range(0..64);
            outcome(Tensor::new(&s, vec![1.0f64; len]), no_check)
        }
        5 => {
            // Mps::random with extreme dimensions and bond.
            let n = rng.random_range(0..6);
            let dims: Vec<usize> = (0..n).map(|_| size(&mut rng)).collect();
            let bond = size(&mut rng);
            outcome(Mps::<f64>::random(&dims, bond, &mut rng), no_check)
        }
        6 => {
            // log_norm of an MPS with tiny or huge entries must be finite.
            let v = [1e300, 1e-300, 1e200, 1e-200, 1.0][rng.random_range(0..5)];
            let n = rng.random_range(1..8);
            let tensors: Vec<Tensor<f64>> = (0..n)
                .map(|k| {
                    let l = if k == 0 { 1 } else { 2 };
                    let r = if k == n - 1 { 1 } else { 2 };
                    Tensor::from_fn(&[l, 2, r], |_| v)
                })
                .collect();
            outcome(Mps::from_tensors(tensors), |m| {
                let ln = m.log_norm();
                if ln.is_finite() {
                    Ok(())
                } else {
                    Err(format!("log_norm of {n} sites with entries {v:e} is {ln}"))
                }
            })
        }
        _ => {
            let t = Tensor::<f64>::zeros(&s.iter().map(|&d| d.min(4)).collect::<Vec<_>>());
            let t2 = t.clone().reshape(&shape(&mut rng));
            outcome(t2, no_check)
        }
    }
}

/// The checked constructors: `Ok` with the right shape and length, or a clean `Err`.
fn checked(t: tnlearn::Result<Tensor<f64>>, s: &[usize]) -> Outcome {
    match t {
        Ok(t) => check_len(&t, s),
        Err(e) => Outcome::from_error(&e, None),
    }
}

fn check_len(t: &Tensor<f64>, s: &[usize]) -> Outcome {
    let n = s.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if Some(t.len()) == n && t.shape() == s {
        Outcome::Ok
    } else {
        Outcome::Invalid(format!(
            "tensor of shape {:?} and length {} for {s:?}",
            t.shape(),
            t.len()
        ))
    }
}

fn born_options(rng: &mut impl Rng) -> BornOptions {
    let mut o = BornOptions::new().seed(rng.random());
    if rng.random_bool(0.3) {
        o = o.max_bond(size(rng));
    }
    if rng.random_bool(0.3) {
        o = o.initial_bond(size(rng));
    }
    o
}

fn check_samples(s: &Array2<u8>, n: usize, sites: usize, d: usize) -> Result<(), String> {
    if s.dim() != (n, sites) || s.iter().any(|&v| usize::from(v) >= d) {
        return Err(format!(
            "samples of shape {:?}, expected ({n}, {sites})",
            s.dim()
        ));
    }
    Ok(())
}

fn run_born(seed: u64, index: u64, _: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 32);
    match rng.random_range(0..6) {
        0 => {
            let (n, d) = (size(&mut rng), size(&mut rng));
            let opts = born_options(&mut rng);
            note(|| format!("MpsBornMachine::new({n}, {d}, {opts:?})"));
            outcome(MpsBornMachine::new(n, d, opts), no_check)
        }
        1 => {
            let n = size(&mut rng);
            note(|| format!("Tree::balanced/chain/image({n}, ..)"));
            match rng.random_range(0..3) {
                0 => outcome(Tree::balanced(n), |t| check_sites(t.num_sites(), n)),
                1 => outcome(Tree::chain(n), |t| check_sites(t.num_sites(), n)),
                _ => {
                    let m = size(&mut rng);
                    outcome(Tree::image(n, m), no_check)
                }
            }
        }
        2 => {
            let n = size(&mut rng).min(4096);
            let d = size(&mut rng);
            let opts = born_options(&mut rng);
            note(|| format!("TtnBornMachine::new(Tree::balanced({n}), {d}, {opts:?})"));
            match Tree::balanced(n) {
                Ok(t) => outcome(TtnBornMachine::new(t, d, opts), no_check),
                Err(e) => Outcome::from_error(&e, None),
            }
        }
        3 | 4 => {
            // sample(n) with extreme n on a small model.
            let n = size(&mut rng);
            let sites = rng.random_range(3..6);
            note(|| format!("sample({n}) on a model of {sites} sites"));
            if rng.random_bool(0.5) {
                let m = MpsBornMachine::new(sites, 2, BornOptions::new()).expect("small MPS");
                outcome(m.sample(n, &mut rng), |s| check_samples(s, n, sites, 2))
            } else {
                let t = Tree::balanced(sites).expect("small tree");
                let m = TtnBornMachine::new(t, 2, BornOptions::new()).expect("small TTN");
                outcome(m.sample(n, &mut rng), |s| check_samples(s, n, sites, 2))
            }
        }
        _ => {
            // Datasets with extreme sizes and states.
            let (r, c) = (rng.random_range(0..4), rng.random_range(0..4));
            let states = size(&mut rng);
            let d = Dataset::new(
                Array2::from_shape_fn((r, c), |_| rng.random_range(0..3)),
                states,
            );
            match d {
                Ok(d) => {
                    let shape = (size(&mut rng), size(&mut rng));
                    outcome(d.with_image_shape(shape), no_check)
                }
                Err(e) => Outcome::from_error(&e, None),
            }
        }
    }
}

fn check_sites(got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{got} sites, expected {want}"))
    }
}

fn architecture(rng: &mut impl Rng) -> Architecture {
    let mut a = match rng.random_range(0..3) {
        0 => Architecture::chain(size(rng)),
        1 => Architecture::square_2x2(size(rng), size(rng)),
        _ => Architecture::square_3x3(size(rng), size(rng)),
    };
    if rng.random_bool(0.7) {
        a = a.levels(size(rng));
    }
    if rng.random_bool(0.5) {
        a = a.chi(size(rng));
    }
    if rng.random_bool(0.2) {
        let k = rng.random_range(0..4);
        a = a.chi_per_level((0..k).map(|_| size(rng)).collect());
    }
    if rng.random_bool(0.3) {
        a = a.num_states(size(rng));
    }
    if rng.random_bool(0.3) {
        a = a.boundary(Boundary::Periodic);
    }
    a
}

fn run_cora(seed: u64, index: u64, _: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 33);
    match rng.random_range(0..6) {
        0 => {
            let (o, i) = (size(&mut rng), size(&mut rng));
            let len = rng.random_range(0..32);
            let v = special_f64(&mut rng);
            outcome(StochasticMap::new(o, i, vec![v; len]), no_check)
        }
        1 => {
            let (o, i) = (size(&mut rng), size(&mut rng));
            let m = if rng.random_bool(0.5) {
                StochasticMap::uniform(o, i)
            } else {
                StochasticMap::random(o, i, &mut rng)
            };
            let m = match m {
                Ok(m) => m,
                Err(e) => return Outcome::from_error(&e, None),
            };
            if m.values().iter().any(|v| !v.is_finite()) {
                return Outcome::Invalid(format!("a {o} x {i} map has non-finite values"));
            }
            let _ = m.try_get(size(&mut rng), size(&mut rng));
            Outcome::Ok
        }
        2 | 3 => {
            let arch = architecture(&mut rng);
            note(|| format!("Geometry::new({arch:?}), then accessors"));
            match Geometry::new(arch) {
                Ok(g) => {
                    let level = size(&mut rng).min(g.levels() + 1);
                    let _ = g.try_dims(level);
                    let _ = g.try_num_sites(level);
                    let site = size(&mut rng);
                    let _ = g.try_children(level, site);
                    let _ = g.try_parent(level, site);
                    let pos = (size(&mut rng), size(&mut rng));
                    let hw = (size(&mut rng), size(&mut rng));
                    outcome(g.window(level, pos, hw), no_check)
                }
                Err(e) => Outcome::from_error(&e, None),
            }
        }
        4 => {
            let arch = architecture(&mut rng);
            note(|| format!("Cora::random({arch:?})"));
            outcome(Cora::random(arch, &mut rng), no_check)
        }
        _ => {
            let m = Cora::random(Architecture::chain(8).levels(2).chi(2), &mut rng)
                .expect("small CORA");
            let n = size(&mut rng);
            note(|| format!("Cora::sample({n})"));
            outcome(m.sample(n, &mut rng), |s| check_samples(s, n, 8, 2))
        }
    }
}

fn run_ising(seed: u64, index: u64, _: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 34);
    match rng.random_range(0..11) {
        0 => {
            let n = size(&mut rng);
            if rng.random_bool(0.5) {
                outcome(Lattice::ring(n), no_check)
            } else {
                outcome(Lattice::square(n), no_check)
            }
        }
        1 => {
            let l = if rng.random_bool(0.5) {
                Lattice::ring(rng.random_range(2..12))
            } else {
                Lattice::square(rng.random_range(2..5))
            };
            let t = special_f64(&mut rng);
            match l {
                Ok(l) => outcome(exact(&l, t), no_check),
                Err(e) => Outcome::from_error(&e, None),
            }
        }
        2 => {
            let l = Lattice::square(rng.random_range(2..5)).expect("small lattice");
            let t = special_f64(&mut rng).abs();
            let n = [0, 1, 5, 1 << 31, 1 << 40, 1 << 62, usize::MAX][rng.random_range(0..7)];
            let mut opts = SamplerOptions::new()
                .burn_in(rng.random_range(0..20))
                .thinning(rng.random_range(0..3));
            if rng.random_bool(0.3) {
                opts = opts.cold_start(true);
            }
            outcome(ising_sample(&l, t, n, &opts, &mut rng), |d| {
                if d.len() == n {
                    Ok(())
                } else {
                    Err(format!("{} samples, asked for {n}", d.len()))
                }
            })
        }
        3 => {
            let (r, c) = (rng.random_range(0..9), rng.random_range(0..9));
            let a = Array2::from_shape_fn((r, c), |_| if rng.random_bool(0.5) { 1i8 } else { -1 });
            let b = size(&mut rng);
            outcome(check_configuration(a.view(), b), no_check)
        }
        4 => {
            let len = [0, 1, 2, 3, 10, 100][rng.random_range(0..6)];
            let series: Vec<f64> = match rng.random_range(0..3) {
                0 => vec![special_f64(&mut rng); len],
                1 => (0..len).map(|_| rng.random::<f64>()).collect(),
                _ => (0..len).map(|_| special_f64(&mut rng)).collect(),
            };
            outcome(blocking(&series), |b| {
                if b.mean.is_finite() && b.std_error.is_finite() && b.naive_std_error.is_finite() {
                    Ok(())
                } else {
                    Err(format!(
                        "blocking of {series:?} gives mean {} std_error {} naive {}",
                        b.mean, b.std_error, b.naive_std_error
                    ))
                }
            })
        }
        5 => {
            let k = rng.random_range(0..9);
            let mut c = match Correlations::new(k) {
                Ok(c) => c,
                Err(e) => return Outcome::from_error(&e, None),
            };
            let pushes = rng.random_range(0..6);
            for _ in 0..pushes {
                let v = special_f64(&mut rng);
                let len = if rng.random_bool(0.9) {
                    k
                } else {
                    size(&mut rng).min(64)
                };
                if let Err(e) = c.push(&vec![v; len], &vec![v; len]) {
                    return Outcome::from_error(&e, None);
                }
            }
            let (kk, b) = (size(&mut rng), size(&mut rng));
            outcome(c.thermal_exponent(kk, b), |y| {
                if y.is_finite() {
                    Ok(())
                } else {
                    Err(format!(
                        "thermal_exponent({kk}, {b}) after {pushes} pushes is {y}"
                    ))
                }
            })
        }
        7 => {
            // Learned-rule constructors with extreme values.
            let len = [0, 4, 15, 16, 17][rng.random_range(0..5)];
            let table: Vec<f64> = (0..len)
                .map(|_| {
                    if rng.random_bool(0.7) {
                        rng.random::<f64>()
                    } else {
                        special_f64(&mut rng)
                    }
                })
                .collect();
            let w: [f64; 4] = std::array::from_fn(|_| special_f64(&mut rng));
            let mut p = [0.0; 16];
            for x in p.iter_mut() {
                *x = if rng.random_bool(0.8) {
                    rng.random::<f64>()
                } else {
                    special_f64(&mut rng)
                };
            }
            if rng.random_bool(0.5) {
                let s: f64 = p.iter().sum();
                p.iter_mut().for_each(|x| *x /= s);
            }
            match rng.random_range(0..3) {
                0 => outcome(BlockRule::new("fuzz", &table), no_check),
                1 => outcome(KlOptimal::from_weights(w), no_check),
                _ => outcome(KlOptimal::fit_block_distribution(&p), |k| {
                    if k.weights().iter().all(|x| x.is_finite()) {
                        Ok(())
                    } else {
                        Err(format!("weights {:?} for {p:?}", k.weights()))
                    }
                }),
            }
        }
        8 => {
            let o = RsmiOptions::new()
                .buffer(size(&mut rng))
                .environment(size(&mut rng))
                .windows(size(&mut rng))
                .ridge(special_f64(&mut rng));
            let c = KlCdOptions::new()
                .filter(size(&mut rng))
                .epochs(size(&mut rng))
                .batch(size(&mut rng))
                .cd_steps(size(&mut rng))
                .learning_rate(special_f64(&mut rng))
                .final_learning_rate(special_f64(&mut rng));
            if rng.random_bool(0.5) {
                outcome(o.validate(), no_check)
            } else {
                outcome(c.validate(), no_check)
            }
        }
        9 => {
            // The I(H : E) estimator with mismatched lengths, extreme groups and ridge.
            let (n, m, d) = (
                rng.random_range(0..6),
                rng.random_range(0..6),
                rng.random_range(0..4),
            );
            fn spin(rng: &mut impl Rng) -> i8 {
                match rng.random_range(0..10) {
                    0 => 0,
                    1..=5 => 1,
                    _ => -1,
                }
            }
            let train_env = Array2::from_shape_fn((n, d), |_| spin(&mut rng));
            let test_env = Array2::from_shape_fn((m, d), |_| spin(&mut rng));
            let n_h = if rng.random_bool(0.9) {
                n
            } else {
                size(&mut rng).min(8)
            };
            let train_h: Vec<bool> = (0..n_h).map(|_| rng.random()).collect();
            let test_h: Vec<bool> = (0..m).map(|_| rng.random()).collect();
            let groups: Vec<usize> = (0..m).map(|_| special_usize(&mut rng)).collect();
            let ridge = if rng.random_bool(0.5) {
                1e-3
            } else {
                special_f64(&mut rng)
            };
            outcome(
                estimate_mutual_information(
                    &train_h,
                    train_env.view(),
                    &test_h,
                    test_env.view(),
                    &groups,
                    ridge,
                ),
                no_check,
            )
        }
        10 => {
            // Learned rules applied to configurations of any shape.
            let (r, c) = (rng.random_range(0..9), rng.random_range(0..9));
            let a = Array2::from_shape_fn((r, c), |_| if rng.random_bool(0.5) { 1i8 } else { -1 });
            let w: [f64; 4] = std::array::from_fn(|_| rng.random::<f64>());
            let rule = KlOptimal::from_weights(w).expect("finite weights");
            outcome(rule.coarse_grain(a.view(), &mut rng), |y| {
                if y.nrows() * 2 == r && y.iter().all(|&h| h == 1 || h == -1) {
                    Ok(())
                } else {
                    Err(format!("{r} x {c} gave {:?}", y.dim()))
                }
            })
        }
        _ => outcome(MajorityRule::new(size(&mut rng)), no_check),
    }
}
