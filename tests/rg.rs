//! Learned coarse-grainings (issue 14): block rules, the Chung-Kao criterion, the
//! RSMI estimator and rule, CORA's Bayesian inverse as a `CoarseGrain`.

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tnlearn::cora::{Architecture, Boundary, Cora, MapSharing};
use tnlearn::ising::mcrg::{
    block_index, block_spins, estimate_mutual_information, BlockRule, CoarseGrain, CoraRule,
    KlCdOptions, KlOptimal, MajorityRule, Rsmi, RsmiOptions,
};
use tnlearn::ising::{exact, sampling, Lattice, CRITICAL_COUPLING, CRITICAL_TEMPERATURE};

fn random_config(l: usize, rng: &mut StdRng) -> Array2<i8> {
    Array2::from_shape_fn((l, l), |_| if rng.random::<bool>() { 1 } else { -1 })
}

fn block_of(x: &Array2<i8>, a: usize, b: usize) -> [i8; 4] {
    let (r, c) = (2 * a, 2 * b);
    [x[[r, c]], x[[r, c + 1]], x[[r + 1, c]], x[[r + 1, c + 1]]]
}

#[test]
fn block_index_round_trips_and_orders_row_major() {
    for i in 0..16 {
        assert_eq!(block_index(block_spins(i)), i);
    }
    assert_eq!(block_index([1, -1, -1, -1]), 8);
    assert_eq!(block_index([-1, -1, -1, 1]), 1);
    assert_eq!(block_index([1, 1, 1, 1]), 15);
}

#[test]
fn block_rules_map_configurations_block_by_block() {
    let mut rng = StdRng::seed_from_u64(3);
    // A random deterministic table: every coarse spin is the table entry of its block.
    let table: Vec<f64> = (0..16)
        .map(|_| f64::from(u8::from(rng.random::<bool>())))
        .collect();
    let rule = BlockRule::new("random", &table).unwrap();
    for _ in 0..5 {
        let x = random_config(8, &mut rng);
        let y = rule.coarse_grain(x.view(), &mut rng).unwrap();
        assert_eq!(y.dim(), (4, 4));
        for ((a, b), &h) in y.indexed_iter() {
            let want = if table[block_index(block_of(&x, a, b))] == 1.0 {
                1
            } else {
                -1
            };
            assert_eq!(h, want, "block ({a}, {b})");
        }
    }
    // The majority table agrees with MajorityRule off ties; ties are fair coins.
    let maj = BlockRule::majority();
    let x = random_config(16, &mut rng);
    let y = maj.coarse_grain(x.view(), &mut rng).unwrap();
    let z = MajorityRule::new(2)
        .unwrap()
        .coarse_grain(x.view(), &mut rng)
        .unwrap();
    for ((a, b), &h) in y.indexed_iter() {
        let m: i32 = block_of(&x, a, b).iter().map(|&s| i32::from(s)).sum();
        if m != 0 {
            assert_eq!(h, z[[a, b]]);
            assert_eq!(i32::from(h), m.signum());
        }
    }
    // A stochastic entry: frequency of +1 matches P(+1 | v) (binomial, 5 sigma).
    let p = 0.3;
    let rule = BlockRule::new("noisy", &[p; 16]).unwrap();
    let x = random_config(32, &mut rng);
    let mut ups = 0usize;
    let trials = 40;
    for _ in 0..trials {
        let y = rule.coarse_grain(x.view(), &mut rng).unwrap();
        ups += y.iter().filter(|&&h| h == 1).count();
    }
    let n = (trials * 256) as f64;
    let sd = (p * (1.0 - p) / n).sqrt();
    assert!((ups as f64 / n - p).abs() < 5.0 * sd);
    // Errors, not panics.
    assert!(BlockRule::new("short", &[0.5; 15]).is_err());
    assert!(BlockRule::new("bad", &[1.5; 16]).is_err());
    assert!(BlockRule::new("nan", &[f64::NAN; 16]).is_err());
    let odd = Array2::<i8>::ones((5, 5));
    assert!(rule.coarse_grain(odd.view(), &mut rng).is_err());
    let zero = Array2::<i8>::zeros((4, 4));
    assert!(rule.coarse_grain(zero.view(), &mut rng).is_err());
}

/// `q_w(v) = cosh(w.v) / sum cosh`: the block law of the KL-optimal model.
fn q_w(w: [f64; 4]) -> [f64; 16] {
    let c: Vec<f64> = (0..16)
        .map(|i| {
            let v = block_spins(i);
            (0..4).map(|k| w[k] * f64::from(v[k])).sum::<f64>().cosh()
        })
        .collect();
    let z: f64 = c.iter().sum();
    std::array::from_fn(|i| c[i] / z)
}

#[test]
fn kl_optimal_recovers_the_weights_of_its_own_model() {
    for w in [
        [0.8, 0.6, 0.5, 0.3],
        [1.1, 1.1, 1.1, 1.1],
        [0.2, -0.4, 0.9, 0.7],
    ] {
        let fit = KlOptimal::fit_block_distribution(&q_w(w)).unwrap();
        let got = fit.weights();
        // w and -w give the same Y; the fit picks sum w >= 0.
        let sign = if w.iter().sum::<f64>() >= 0.0 {
            1.0
        } else {
            -1.0
        };
        for k in 0..4 {
            assert!((got[k] - sign * w[k]).abs() < 1e-8, "{got:?} vs {w:?}");
        }
        // The rule is the RBM conditional P(+1 | v) = e^{w.v} / (2 cosh w.v).
        for (i, &p) in fit.rule().unwrap().probabilities().iter().enumerate() {
            let v = block_spins(i);
            let x: f64 = (0..4).map(|k| got[k] * f64::from(v[k])).sum();
            assert!((p - x.exp() / (2.0 * x.cosh())).abs() < 1e-14);
        }
    }
    assert!(KlOptimal::fit_block_distribution(&[0.1; 16]).is_err());
    assert!(KlOptimal::from_weights([f64::INFINITY, 0.0, 0.0, 0.0]).is_err());
}

#[test]
fn kl_optimal_divergence_matches_enumeration_on_a_4x4_torus() {
    // p: the Boltzmann law of the 4 x 4 torus at K_c, by enumeration of 2^16 states;
    // Y / sum Y with Y = prod_blocks 2 cosh(w . v_block), by enumeration too.
    let l = 4;
    let lattice = Lattice::square(l).unwrap();
    let bonds = lattice.bonds();
    let k = CRITICAL_COUPLING;
    let w = [0.7, 0.5, 0.6, 0.4];
    let n = l * l;
    let mut log_weights = Vec::with_capacity(1 << n);
    let mut log_y = Vec::with_capacity(1 << n);
    for state in 0..1usize << n {
        let s: Vec<f64> = (0..n)
            .map(|i| if state >> i & 1 == 1 { 1.0 } else { -1.0 })
            .collect();
        let e: f64 = bonds.iter().map(|&(i, j)| s[i] * s[j]).sum();
        log_weights.push(k * e);
        let mut ly = 0.0;
        for a in 0..2 {
            for b in 0..2 {
                let v = [
                    s[2 * a * l + 2 * b],
                    s[2 * a * l + 2 * b + 1],
                    s[(2 * a + 1) * l + 2 * b],
                    s[(2 * a + 1) * l + 2 * b + 1],
                ];
                let x: f64 = (0..4).map(|k| w[k] * v[k]).sum();
                ly += (2.0 * x.cosh()).ln();
            }
        }
        log_y.push(ly);
    }
    let lse = |v: &[f64]| {
        let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    };
    let (ln_z, ln_sum_y) = (lse(&log_weights), lse(&log_y));
    let mut kl = 0.0;
    let mut entropy = 0.0;
    let mut block_p = [0.0; 16];
    for state in 0..1usize << n {
        let p = (log_weights[state] - ln_z).exp();
        kl += p * ((log_weights[state] - ln_z) - (log_y[state] - ln_sum_y));
        entropy -= p * (log_weights[state] - ln_z);
        // Block histogram, pooled over the 4 blocks.
        for a in 0..2 {
            for b in 0..2 {
                let bit = |r: usize, c: usize| {
                    if state >> (r * l + c) & 1 == 1 {
                        1
                    } else {
                        -1
                    }
                };
                let v = [
                    bit(2 * a, 2 * b),
                    bit(2 * a, 2 * b + 1),
                    bit(2 * a + 1, 2 * b),
                    bit(2 * a + 1, 2 * b + 1),
                ];
                block_p[block_index(v)] += p / 4.0;
            }
        }
    }
    // The exact entropy agrees with the crate's enumeration.
    let s = exact::enumerate(&lattice, CRITICAL_TEMPERATURE)
        .unwrap()
        .thermodynamics
        .entropy_per_site;
    assert!((entropy / n as f64 - s).abs() < 1e-10);
    // D/N = -s - l(w)/4, l(w) from its definition on the exact block histogram.
    let x: Vec<f64> = (0..16)
        .map(|i| {
            let v = block_spins(i);
            (0..4).map(|k| w[k] * f64::from(v[k])).sum::<f64>()
        })
        .collect();
    let l_w: f64 = (0..16).map(|i| block_p[i] * x[i].cosh().ln()).sum::<f64>()
        - x.iter().map(|x| x.cosh()).sum::<f64>().ln();
    assert!((kl / n as f64 - (-s - l_w / 4.0)).abs() < 1e-10);
    // And the fitted rule's own divergence is no larger than at these weights.
    let fit = KlOptimal::fit_block_distribution(&block_p).unwrap();
    assert!(fit.objective() >= l_w - 1e-12);
    assert!(fit.kl_per_site(s) <= kl / n as f64 + 1e-12);
    assert!(fit.kl_per_site(s) >= 0.0);
}

#[test]
fn kl_optimal_contrastive_divergence_finds_the_exact_2x2_optimum_and_wider_filters_coarse_grain() {
    let mut rng = StdRng::seed_from_u64(21);
    let lattice = Lattice::square(8).unwrap();
    let options = sampling::SamplerOptions::new().burn_in(100).thinning(5);
    let data = sampling::sample(&lattice, CRITICAL_TEMPERATURE, 400, &options, &mut rng).unwrap();
    let exact_fit = KlOptimal::fit(&data).unwrap();
    // CD from small random weights (no warm start) on the 2 x 2 filter: the normaliser is exact
    // there, so CD must land on the exact maximum-likelihood weights.
    let cd = KlCdOptions::new()
        .filter(2)
        .epochs(30)
        .learning_rate(0.02)
        .final_learning_rate(0.002)
        .warm_start(false)
        .symmetrise(true)
        .decay_fraction(1.0);
    let fit = KlOptimal::fit_cd(&data, &cd, &mut rng).unwrap();
    for (a, b) in fit.weights().iter().zip(exact_fit.weights()) {
        assert!(
            (a - b).abs() < 0.1,
            "{:?} vs {:?}",
            fit.weights(),
            exact_fit.weights()
        );
    }
    assert!(fit.objective() <= exact_fit.objective() + 1e-12);
    assert!(fit.objective() > exact_fit.objective() - 0.01);
    // Persistent chains (PCD) estimate the same gradient: the same optimum.
    let pcd = KlOptimal::fit_cd(&data, &cd.persistent(true), &mut rng).unwrap();
    for (a, b) in pcd.weights().iter().zip(exact_fit.weights()) {
        assert!(
            (a - b).abs() < 0.1,
            "PCD {:?} vs {:?}",
            pcd.weights(),
            exact_fit.weights()
        );
    }
    assert!(pcd.objective() > exact_fit.objective() - 0.01);
    // A 4 x 4 filter: symmetric under the square's symmetries, maps 8 x 8 to 4 x 4.
    let symmetrised = KlCdOptions::new()
        .filter(4)
        .epochs(2)
        .warm_start(true)
        .symmetrise(true);
    let wide = KlOptimal::fit_cd(&data, &symmetrised, &mut rng).unwrap();
    let w = wide.weights();
    assert_eq!((wide.filter(), w.len()), (4, 16));
    for u in 0..4 {
        for v in 0..4 {
            assert!((w[u * 4 + v] - w[v * 4 + u]).abs() < 1e-12);
            assert!((w[u * 4 + v] - w[(3 - u) * 4 + v]).abs() < 1e-12);
        }
    }
    assert!(wide.rule().is_none());
    // The defaults are the paper's settings: random start, no symmetrisation, decay over
    // half the run.
    let paper = KlCdOptions::new().filter(4).epochs(2);
    assert!(!paper.warm_start && !paper.symmetrise && paper.decay_fraction == 0.5);
    let free = KlOptimal::fit_cd(&data, &paper, &mut rng).unwrap();
    assert!(free.weights().iter().all(|x| x.is_finite()));
    assert!(free.weights().iter().sum::<f64>() >= 0.0);
    let x = random_config(8, &mut rng);
    let y = wide.coarse_grain(x.view(), &mut rng).unwrap();
    assert_eq!(y.dim(), (4, 4));
    assert!(y.iter().all(|&h| h == 1 || h == -1));
    let small = random_config(2, &mut rng);
    assert!(wide.coarse_grain(small.view(), &mut rng).is_err());
    assert!(KlCdOptions::new().filter(3).validate().is_err());
    assert!(KlCdOptions::new().learning_rate(0.0).validate().is_err());
    assert!(KlCdOptions::new().batch(0).validate().is_err());
}

#[test]
fn mutual_information_estimator_matches_the_exact_value_on_an_ising_ring() {
    // Ring of 12 spins at K = 0.6; block = sites 0, 1; buffer = 11, 2; environment =
    // sites 3..=10. H = v_0 (the only sign(lambda . v) class of a 2-site block). Its
    // log-odds given E depend on e_3 and e_10 only (Markov) and are odd: linear, so
    // the logistic bound is tight and the estimator consistent.
    let n = 12;
    let k = 0.6;
    let env_sites: Vec<usize> = (3..=10).collect();
    let mut probs = Vec::with_capacity(1 << n);
    for state in 0..1usize << n {
        let s = |i: usize| if state >> (i % n) & 1 == 1 { 1.0 } else { -1.0 };
        let e: f64 = (0..n).map(|i| s(i) * s(i + 1)).sum();
        probs.push((k * e).exp());
    }
    let z: f64 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= z);
    // Exact I(H : E) by enumeration.
    let mut joint = std::collections::HashMap::<(bool, usize), f64>::new();
    for (state, &p) in probs.iter().enumerate() {
        let e = env_sites
            .iter()
            .enumerate()
            .fold(0, |a, (j, &i)| a | ((state >> i & 1) << j));
        *joint.entry((state & 1 == 1, e)).or_default() += p;
    }
    let mut ph = [0.0; 2];
    let mut pe = vec![0.0; 1 << env_sites.len()];
    for (&(h, e), &p) in &joint {
        ph[usize::from(h)] += p;
        pe[e] += p;
    }
    let exact_mi: f64 = joint
        .iter()
        .map(|(&(h, e), &p)| p * (p / (ph[usize::from(h)] * pe[e])).ln())
        .sum();
    assert!(exact_mi > 0.02, "{exact_mi}");
    // i.i.d. samples from the exact law.
    let mut cdf = probs.clone();
    for i in 1..cdf.len() {
        cdf[i] += cdf[i - 1];
    }
    let mut rng = StdRng::seed_from_u64(11);
    let mut draw = |count: usize| {
        let mut h = Vec::with_capacity(count);
        let mut env = Array2::<i8>::zeros((count, env_sites.len()));
        for t in 0..count {
            let u: f64 = rng.random();
            let state = cdf.partition_point(|&c| c < u).min(cdf.len() - 1);
            h.push(state & 1 == 1);
            for (j, &i) in env_sites.iter().enumerate() {
                env[[t, j]] = if state >> i & 1 == 1 { 1 } else { -1 };
            }
        }
        (h, env)
    };
    let (train_h, train_env) = draw(30_000);
    let (test_h, test_env) = draw(30_000);
    let groups: Vec<usize> = (0..test_h.len()).collect();
    let est = estimate_mutual_information(
        &train_h,
        train_env.view(),
        &test_h,
        test_env.view(),
        &groups,
        1e-6,
    )
    .unwrap();
    let tol = 4.0 * est.std_error + 2e-3;
    assert!(
        (est.nats - exact_mi).abs() < tol,
        "estimate {} +- {} vs exact {exact_mi}",
        est.nats,
        est.std_error
    );
    assert!(est.std_error > 0.0 && est.std_error < 0.01);
    // With the informative spins left out (only the far sites 5..=8), the estimate
    // drops: the bound is a lower bound.
    let far = |env: &Array2<i8>| env.slice(ndarray::s![.., 2..6]).to_owned();
    let worse = estimate_mutual_information(
        &train_h,
        far(&train_env).view(),
        &test_h,
        far(&test_env).view(),
        &groups,
        1e-6,
    )
    .unwrap();
    assert!(worse.nats < exact_mi - 5.0 * worse.std_error);
    // Input checks.
    assert!(estimate_mutual_information(
        &train_h[1..],
        train_env.view(),
        &test_h,
        test_env.view(),
        &groups,
        0.0
    )
    .is_err());
    assert!(estimate_mutual_information(
        &train_h,
        train_env.view(),
        &test_h,
        test_env.view(),
        &groups,
        -1.0
    )
    .is_err());
}

#[test]
fn rsmi_searches_every_threshold_class_and_coarse_grains() {
    let mut rng = StdRng::seed_from_u64(5);
    let lattice = Lattice::square(8).unwrap();
    let options = sampling::SamplerOptions::new().burn_in(100).thinning(3);
    let data = sampling::sample(&lattice, CRITICAL_TEMPERATURE, 120, &options, &mut rng).unwrap();
    let opts = RsmiOptions::new().environment(1).windows(3000);
    let rsmi = Rsmi::fit(&data, &opts, &mut rng).unwrap();
    let c = rsmi.candidates();
    // Every table is an odd linear threshold function of its lambda; classes are
    // disjoint and sorted by the estimate.
    let total: usize = c.iter().map(|c| c.class_size).sum();
    assert!(c.len() >= 3 && total >= c.len());
    for cand in c {
        for i in 0..16 {
            let v = block_spins(i);
            let x: f64 = (0..4).map(|k| cand.lambda[k] * f64::from(v[k])).sum();
            assert_eq!(cand.table[i], x > 0.0);
            assert_ne!(cand.table[i], cand.table[15 - i]); // odd: h(-v) = -h(v)
        }
        assert!(cand.mi.nats.is_finite());
    }
    for pair in c.windows(2) {
        assert!(pair[0].mi.nats >= pair[1].mi.nats);
    }
    assert_eq!(rsmi.lambda(), c[0].lambda);
    // Decimation (h = +-v_k) is one of the classes: 8 tables (4 sites, 2 signs).
    let decimation = |t: &[bool; 16]| {
        (0..4).any(|k| {
            [false, true]
                .iter()
                .any(|&neg| (0..16).all(|i| t[i] == ((block_spins(i)[k] == 1) != neg)))
        })
    };
    let dec: Vec<_> = c.iter().filter(|c| decimation(&c.table)).collect();
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].class_size, 8);
    // The rule is deterministic and follows the chosen table.
    let x = random_config(8, &mut rng);
    let y = rsmi.coarse_grain(x.view(), &mut rng).unwrap();
    assert_eq!(y.dim(), (4, 4));
    for ((a, b), &h) in y.indexed_iter() {
        assert_eq!(h == 1, c[0].table[block_index(block_of(&x, a, b))]);
    }
    // Errors: an environment window larger than the lattice; bad options.
    assert!(Rsmi::fit(&data, &RsmiOptions::new().environment(3), &mut rng).is_err());
    assert!(Rsmi::fit(&data, &RsmiOptions::new().environment(0), &mut rng).is_err());
    assert!(RsmiOptions::new().ridge(f64::NAN).validate().is_err());
    assert!(RsmiOptions::new().buffer(usize::MAX).validate().is_err());
}

#[test]
fn cora_rule_draws_from_the_exact_block_posterior_without_boxes() {
    // Without boxes the Bayesian inverse factorises: q(h_c | v) propto q_1(h_c) R(v_c | h_c).
    let mut rng = StdRng::seed_from_u64(9);
    let arch = Architecture::square_2x2(4, 4)
        .levels(2)
        .boundary(Boundary::Periodic)
        .sharing(MapSharing::PerLevel)
        .boxes(false);
    let model = Cora::random(arch, &mut rng).unwrap();
    let r = model.refine_map(1, 0).unwrap().clone();
    let q = model.prior(1, 0).unwrap().clone();
    let rule = CoraRule::new(model).unwrap();
    let up = usize::from(r.get(15, 1) > r.get(15, 0));
    let x = random_config(4, &mut rng);
    let trials = 4000;
    let mut ups = [0usize; 4];
    for _ in 0..trials {
        let y = rule.coarse_grain(x.view(), &mut rng).unwrap();
        assert_eq!(y.dim(), (2, 2));
        for (k, &h) in y.iter().enumerate() {
            assert!(h == 1 || h == -1);
            ups[k] += usize::from(h == 1);
        }
    }
    for (k, &count) in ups.iter().enumerate() {
        let v = block_index(block_of(&x, k / 2, k % 2));
        let w = |h: usize| q.get(h, 0) * r.get(v, h);
        let p = w(up) / (w(0) + w(1));
        let sd = (p * (1.0 - p) / trials as f64).sqrt().max(1e-3);
        assert!(
            (count as f64 / trials as f64 - p).abs() < 5.0 * sd,
            "block {k}: {count}/{trials} vs {p}"
        );
    }
    // Wrong lattice size, wrong model.
    let big = random_config(8, &mut rng);
    assert!(rule.coarse_grain(big.view(), &mut rng).is_err());
    let chain = Cora::random(Architecture::chain(16).levels(2), &mut rng).unwrap();
    assert!(CoraRule::new(chain).is_err());
}
