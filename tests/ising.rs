//! Ising data: exact values against the reference tables of `docs/ising.md` and brute
//! force; samplers against the exact energy; MCRG pieces against direct computations.

use tnlearn::ising::exact::{self, Thermodynamics};
use tnlearn::ising::{Lattice, CRITICAL_COUPLING, CRITICAL_TEMPERATURE};

/// `|got - want| <= half a unit in the last printed digit of `want` (given as text).
fn matches_printed(got: f64, want: &str) -> bool {
    let value: f64 = want.parse().expect("number");
    let decimals = want.split('.').nth(1).map_or(0, str::len) as i32;
    (got - value).abs() <= 0.5 * 10f64.powi(-decimals) + 1e-15
}

fn check_row(t: &Thermodynamics, row: [&str; 4], what: &str) {
    let got = [
        t.log_z_per_site,
        t.energy_per_site,
        t.heat_capacity_per_site,
        t.entropy_per_site,
    ];
    for (name, (g, w)) in ["ln Z/N", "E/N", "C/N", "s"]
        .iter()
        .zip(got.iter().zip(row))
    {
        if w.is_empty() {
            continue;
        }
        assert!(
            matches_printed(*g, w),
            "{what} {name}: got {g:.14}, table {w}"
        );
    }
}

#[test]
fn critical_point_constants() {
    assert!((CRITICAL_COUPLING - (1.0 + 2f64.sqrt()).ln() / 2.0).abs() < 1e-16);
    assert!((CRITICAL_TEMPERATURE * CRITICAL_COUPLING - 1.0).abs() < 1e-15);
}

#[test]
fn kaufman_matches_the_reference_table_at_tc() {
    let rows = [
        (4, ["0.97011971617", "-1.5656237876", "0.78327", "0.28017"]),
        (8, ["0.93971532483", "-1.4915891074", "1.14556", "0.28239"]),
        (16, ["0.93219631498", "-1.4530648528", "1.49870", "0.29185"]),
        (32, ["0.93032039018", "-1.4336584661", "1.84677", "0.29853"]),
    ];
    for (l, row) in rows {
        let t = exact::square(l, CRITICAL_TEMPERATURE).unwrap();
        check_row(&t, row, &format!("L = {l}"));
    }
    let lz16 = exact::square(16, CRITICAL_TEMPERATURE)
        .unwrap()
        .log_z()
        .unwrap();
    let lz32 = exact::square(32, CRITICAL_TEMPERATURE)
        .unwrap()
        .log_z()
        .unwrap();
    assert!((lz16 - 238.64225663513287).abs() < 1e-11, "{lz16}");
    assert!((lz32 - 952.6480795485427).abs() < 1e-10, "{lz32}");
}

#[test]
fn onsager_matches_the_reference_table() {
    let rows = [
        (
            2.0,
            ["1.02579281269", "-1.74556457531", "", "0.153010525039"],
        ),
        (
            CRITICAL_TEMPERATURE,
            ["0.92969539834", "-1.41421356237", "", "0.30647015820"],
        ),
        (
            2.5,
            ["0.879363820775", "-1.10607920375", "", "0.436932139277"],
        ),
        (
            3.0,
            ["0.815882731858", "-0.817309592502", "", "0.543446201024"],
        ),
    ];
    for (t, row) in rows {
        check_row(
            &exact::onsager(t).unwrap(),
            row,
            &format!("Onsager T = {t}"),
        );
    }
}

const TEMPERATURES: [f64; 6] = [0.7, 1.5, 2.0, CRITICAL_TEMPERATURE, 2.6, 5.0];

fn close(a: &Thermodynamics, b: &Thermodynamics, tol: f64, what: &str) {
    let pairs = [
        ("ln Z/N", a.log_z_per_site, b.log_z_per_site),
        ("E/N", a.energy_per_site, b.energy_per_site),
        ("C/N", a.heat_capacity_per_site, b.heat_capacity_per_site),
        ("s", a.entropy_per_site, b.entropy_per_site),
    ];
    for (name, x, y) in pairs {
        assert!((x - y).abs() <= tol, "{what} {name}: {x:.16} vs {y:.16}");
    }
}

#[test]
fn kaufman_equals_brute_force_for_l_2_3_4() {
    for l in 2..=4 {
        for t in TEMPERATURES {
            let brute = exact::enumerate(&Lattice::square(l).unwrap(), t).unwrap();
            let kaufman = exact::square(l, t).unwrap();
            close(
                &kaufman,
                &brute.thermodynamics,
                1e-12,
                &format!("L = {l}, T = {t}"),
            );
        }
    }
}

#[test]
fn chain_equals_brute_force_and_tends_to_its_limit() {
    for n in 2..=14 {
        for t in TEMPERATURES {
            let brute = exact::enumerate(&Lattice::ring(n).unwrap(), t).unwrap();
            let chain = exact::chain(n, t).unwrap();
            close(
                &chain,
                &brute.thermodynamics,
                1e-12,
                &format!("ring {n}, T = {t}"),
            );
        }
    }
    // Per-site limit: the reference entropies of `docs/ising.md`, and ring N -> infinity.
    assert!(matches_printed(
        exact::chain_limit(1.0).unwrap().entropy_per_site,
        "0.365333855"
    ));
    assert!(matches_printed(
        exact::chain_limit(2.0).unwrap().entropy_per_site,
        "0.582203109"
    ));
    for t in TEMPERATURES {
        let limit = exact::chain_limit(t).unwrap();
        close(
            &exact::chain(20_000, t).unwrap(),
            &limit,
            1e-12,
            &format!("ring limit T = {t}"),
        );
    }
}

#[test]
fn brute_force_magnetisation_at_tc_matches_the_reference() {
    let e = exact::enumerate(&Lattice::square(4).unwrap(), CRITICAL_TEMPERATURE).unwrap();
    assert!(matches_printed(e.mean_abs_magnetization, "0.84386044"));
    assert!(matches_printed(e.mean_magnetization_squared, "0.76135891"));
}

/// Analytic derivatives against a 5-point central difference of the function itself.
#[test]
fn derivatives_agree_with_finite_differences() {
    let h = 1e-4;
    let d = |f: &dyn Fn(f64) -> f64, k: f64| {
        (-f(k + 2.0 * h) + 8.0 * f(k + h) - 8.0 * f(k - h) + f(k - 2.0 * h)) / (12.0 * h)
    };
    for k in [0.3, 0.42, CRITICAL_COUPLING, 0.46, 0.6] {
        // Large torus: u = -d(ln Z/N)/dK, C/N = -K^2 du/dK.
        let lz = |k: f64| exact::square(64, 1.0 / k).unwrap().log_z_per_site;
        let u = |k: f64| exact::square(64, 1.0 / k).unwrap().energy_per_site;
        let t = exact::square(64, 1.0 / k).unwrap();
        assert!((t.energy_per_site + d(&lz, k)).abs() < 1e-9, "u at K = {k}");
        assert!(
            (t.heat_capacity_per_site + k * k * d(&u, k)).abs() < 1e-7,
            "C at K = {k}"
        );
        if k != CRITICAL_COUPLING {
            let lz = |k: f64| exact::onsager(1.0 / k).unwrap().log_z_per_site;
            let u = |k: f64| exact::onsager(1.0 / k).unwrap().energy_per_site;
            let t = exact::onsager(1.0 / k).unwrap();
            assert!(
                (t.energy_per_site + d(&lz, k)).abs() < 1e-9,
                "Onsager u at K = {k}"
            );
            assert!(
                (t.heat_capacity_per_site + k * k * d(&u, k)).abs() < 1e-6,
                "Onsager C at K = {k}"
            );
        }
    }
}

#[test]
fn kaufman_approaches_onsager_and_stays_finite_for_large_lattices() {
    for t in [1.0, 2.0, 2.6, 4.0] {
        let inf = exact::onsager(t).unwrap();
        let mut big = exact::square(512, t).unwrap();
        // Away from T_c finite-size corrections are exponentially small, except the
        // two-fold degenerate ordered state below T_c: ln Z = N f + ln 2.
        if t < CRITICAL_TEMPERATURE {
            let ln2_per_site = std::f64::consts::LN_2 / (512.0 * 512.0);
            big.log_z_per_site -= ln2_per_site;
            big.entropy_per_site -= ln2_per_site;
        }
        close(&big, &inf, 1e-12, &format!("L = 512 vs Onsager at T = {t}"));
    }
    for t in [0.05, 0.3, CRITICAL_TEMPERATURE, 50.0] {
        let v = exact::square(2000, t).unwrap();
        assert!(v.log_z_per_site.is_finite() && v.heat_capacity_per_site.is_finite());
        assert!(v.entropy_per_site >= -1e-12 && v.entropy_per_site <= std::f64::consts::LN_2);
    }
    assert!(exact::onsager(CRITICAL_TEMPERATURE)
        .unwrap()
        .heat_capacity_per_site
        .is_infinite());
}

#[test]
fn exact_values_reject_bad_input() {
    for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(exact::square(4, t).is_err() && exact::onsager(t).is_err());
        assert!(exact::chain(4, t).is_err() && exact::chain_limit(t).is_err());
    }
    assert!(exact::square(1, 2.0).is_err() && exact::chain(1, 2.0).is_err());
    assert!(exact::enumerate(&Lattice::square(5).unwrap(), 2.0).is_err());
    assert!(Lattice::square(1).is_err() && Lattice::ring(1).is_err());
    let msg = exact::square(4, -1.0).unwrap_err().to_string();
    assert!(msg.contains("temperature"), "{msg}");
}

// ---------------------------------------------------------------- samplers

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::ising::sampling::{self, ClusterAlgorithm, MarkovChain, SamplerOptions};
use tnlearn::ising::stats::blocking;

const ALGORITHMS: [ClusterAlgorithm; 2] = [ClusterAlgorithm::Wolff, ClusterAlgorithm::SwendsenWang];

/// Upper `1e-4` quantile of chi-square with `dof` degrees of freedom
/// (Wilson-Hilferty; accurate to a few percent for `dof >= 3`).
fn chi2_critical(dof: usize) -> f64 {
    let k = dof as f64;
    let z = 3.719; // standard normal upper 1e-4 quantile
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

/// Exact probabilities of the (bond sum, number of up spins) classes, by enumeration.
fn exact_classes(lattice: &Lattice, t: f64) -> std::collections::BTreeMap<(i64, usize), f64> {
    let n = lattice.num_sites();
    let mut p = std::collections::BTreeMap::new();
    let mut z = 0.0;
    for x in 0u32..1 << n {
        let spins: Vec<i8> = (0..n)
            .map(|i| if x >> i & 1 == 1 { 1 } else { -1 })
            .collect();
        let bond_sum = -lattice.energy(&spins).unwrap() as i64;
        let w = (bond_sum as f64 / t).exp();
        *p.entry((bond_sum, x.count_ones() as usize)).or_insert(0.0) += w;
        z += w;
    }
    p.values_mut().for_each(|v| *v /= z);
    p
}

/// Independent chains (one sample each after a burn-in far beyond the mixing time
/// of these tiny lattices) against the exact joint law of energy and magnetisation,
/// by a chi-square test at significance 1e-4 (classes with expected count < 5 merged).
#[test]
fn samplers_draw_the_boltzmann_distribution_on_small_lattices() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let cases = [
        (Lattice::square(3).unwrap(), CRITICAL_TEMPERATURE),
        (Lattice::square(3).unwrap(), 1.6),
        (Lattice::ring(10).unwrap(), 1.0),
    ];
    for (lattice, t) in cases {
        let exact = exact_classes(&lattice, t);
        for algorithm in ALGORITHMS {
            let n_chains = 40_000;
            let mut counts = std::collections::BTreeMap::new();
            for _ in 0..n_chains {
                let mut chain = MarkovChain::new(&lattice, t, algorithm, false, &mut rng).unwrap();
                chain.run(40, &mut rng);
                let bond_sum = -chain.energy() as i64;
                let ups = chain.spins().iter().filter(|&&s| s > 0).count();
                *counts.entry((bond_sum, ups)).or_insert(0usize) += 1;
            }
            let (mut chi2, mut dof) = (0.0, 0usize);
            let (mut pool_e, mut pool_o) = (0.0, 0.0);
            for (class, p) in &exact {
                let e = p * n_chains as f64;
                let o = *counts.get(class).unwrap_or(&0) as f64;
                if e < 5.0 {
                    pool_e += e;
                    pool_o += o;
                } else {
                    chi2 += (o - e) * (o - e) / e;
                    dof += 1;
                }
            }
            if pool_e > 0.0 {
                chi2 += (pool_o - pool_e) * (pool_o - pool_e) / pool_e;
                dof += 1;
            }
            let unseen: usize = counts.keys().filter(|c| !exact.contains_key(c)).count();
            assert_eq!(unseen, 0, "impossible classes sampled");
            let critical = chi2_critical(dof - 1);
            assert!(
                chi2 < critical,
                "{algorithm:?} on {lattice:?} at T = {t}: chi2 = {chi2:.1} > {critical:.1} ({} dof)",
                dof - 1
            );
        }
    }
}

/// The check of `docs/ising.md`: one long chain at T_c reproduces Kaufman's energy per
/// site within 4 standard errors (blocking analysis), for both algorithms.
#[test]
fn samplers_reproduce_the_exact_energy_at_tc() {
    for (l, updates_wolff, sweeps_sw) in [(8, 200_000, 100_000), (16, 200_000, 60_000)] {
        let lattice = Lattice::square(l).unwrap();
        let exact_u = exact::square(l, CRITICAL_TEMPERATURE)
            .unwrap()
            .energy_per_site;
        for (algorithm, updates) in [
            (ClusterAlgorithm::Wolff, updates_wolff),
            (ClusterAlgorithm::SwendsenWang, sweeps_sw),
        ] {
            let mut rng = ChaCha8Rng::seed_from_u64(l as u64 * 7 + updates as u64);
            let mut chain =
                MarkovChain::new(&lattice, CRITICAL_TEMPERATURE, algorithm, false, &mut rng)
                    .unwrap();
            chain.run(1000, &mut rng);
            let series: Vec<f64> = (0..updates)
                .map(|_| {
                    chain.update(&mut rng);
                    chain.energy() / (l * l) as f64
                })
                .collect();
            let b = blocking(&series).unwrap();
            let z = (b.mean - exact_u) / b.std_error;
            println!(
                "L = {l} {}: E/N = {:.6} +- {:.6} (exact {exact_u:.6}, z = {z:+.2}, tau = {:.2} updates)",
                algorithm.name(),
                b.mean,
                b.std_error,
                b.autocorrelation_time()
            );
            assert!(z.abs() < 4.0, "L = {l} {algorithm:?}: z = {z}");
            // The error bar is a real one: tight enough to see the 0.03 bias of a
            // state-dependent stopping rule, and reflecting autocorrelation.
            assert!(4.0 * b.std_error < 0.01, "error bar {}", b.std_error);
            let tau = b.autocorrelation_time();
            assert!(tau > 0.5 && tau < 10.0, "tau = {tau}");
        }
    }
}

#[test]
fn sample_gives_binary_images_with_their_energy() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let lattice = Lattice::square(6).unwrap();
    let opts = SamplerOptions::new()
        .algorithm(ClusterAlgorithm::Wolff)
        .burn_in(10)
        .thinning(2);
    let data = sampling::sample(&lattice, 2.0, 30, &opts, &mut rng).unwrap();
    assert_eq!(
        (data.len(), data.num_sites(), data.num_states()),
        (30, 36, 2)
    );
    assert_eq!(data.image_shape(), Some((6, 6)));
    assert!(data.samples().iter().all(|&b| b <= 1));
    // Up to the global flip the bits are the spins: the energy is the same either way.
    let spins = sampling::bits_to_spins(data.sample(0).as_slice().unwrap()).unwrap();
    let flipped: Vec<i8> = spins.iter().map(|s| -s).collect();
    assert_eq!(
        lattice.energy(&spins).unwrap(),
        lattice.energy(&flipped).unwrap()
    );
    // Rings are (1, n) images; options are validated; bad bits are named.
    let ring = sampling::sample(
        &Lattice::ring(7).unwrap(),
        1.0,
        3,
        &SamplerOptions::new(),
        &mut rng,
    );
    assert_eq!(ring.unwrap().image_shape(), Some((1, 7)));
    let bad = sampling::sample(
        &lattice,
        2.0,
        3,
        &SamplerOptions::new().thinning(0),
        &mut rng,
    );
    assert!(bad.unwrap_err().to_string().contains("thinning"));
    assert!(sampling::sample(&lattice, -2.0, 3, &SamplerOptions::new(), &mut rng).is_err());
    assert!(sampling::bits_to_spins(&[0, 1, 2])
        .unwrap_err()
        .to_string()
        .contains("position 2"));
    assert!("sw".parse::<ClusterAlgorithm>().unwrap() == ClusterAlgorithm::SwendsenWang);
    assert!("metropolis".parse::<ClusterAlgorithm>().is_err());
    // Saved in the formats the examples read, and read back unchanged.
    let dir = std::env::temp_dir().join(format!("tnlearn_ising_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    tnlearn::io::npy::write_samples(dir.join("d.npy"), &data).unwrap();
    let back = tnlearn::io::npy::read_binary(dir.join("d.npy")).unwrap();
    assert_eq!(back.samples(), data.samples());
    let (train, test) = (data.take(20), data.subset(20..30).unwrap());
    tnlearn::io::packed::write_packed(dir.join("d.tnlbits"), &train, &test).unwrap();
    let (tr, te) = tnlearn::io::packed::read_packed(dir.join("d.tnlbits")).unwrap();
    assert_eq!((tr, te), (train, test));
    std::fs::remove_dir_all(&dir).unwrap();
    // The same seed gives the same data.
    let a = sampling::sample(&lattice, 2.0, 5, &opts, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
    let b = sampling::sample(&lattice, 2.0, 5, &opts, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn blocking_of_independent_values_matches_the_naive_error() {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let series: Vec<f64> = (0..1 << 15).map(|_| rng.random::<f64>()).collect();
    let b = blocking(&series).unwrap();
    let naive = (1.0f64 / 12.0 / series.len() as f64).sqrt();
    assert!((b.naive_std_error / naive - 1.0).abs() < 0.05);
    assert!(b.std_error / naive < 1.35, "{}", b.std_error / naive);
    assert!((b.mean - 0.5).abs() < 4.0 * naive);
    assert!(blocking(&[1.0; 10]).is_err());
    assert!(blocking(&vec![f64::NAN; 100])
        .unwrap_err()
        .to_string()
        .contains("value 0"));
}

// ---------------------------------------------------------------- MCRG

use ndarray::Array2;
use tnlearn::ising::mcrg::{
    lattice_sums, measure, CoarseGrain, Correlations, EvenOperator, MajorityRule, McrgOptions,
};

fn random_config(l: usize, rng: &mut ChaCha8Rng) -> Array2<i8> {
    use rand::Rng;
    Array2::from_shape_fn((l, l), |_| if rng.random::<bool>() { 1 } else { -1 })
}

/// Each operator as its list of shapes (sets of (row, col) offsets), summed naively
/// with modular indexing: an independent reference for `lattice_sums`.
fn naive_sums(s: &Array2<i8>) -> Vec<f64> {
    let shapes: Vec<Vec<Vec<(i64, i64)>>> = vec![
        vec![vec![(0, 0), (0, 1)], vec![(0, 0), (1, 0)]],
        vec![vec![(0, 0), (1, 1)], vec![(0, 0), (1, -1)]],
        vec![vec![(0, 0), (0, 1), (1, 0), (1, 1)]],
        vec![vec![(0, 0), (0, 2)], vec![(0, 0), (2, 0)]],
        vec![
            vec![(0, 0), (1, 2)],
            vec![(0, 0), (-1, 2)],
            vec![(0, 0), (2, 1)],
            vec![(0, 0), (2, -1)],
        ],
        vec![vec![(0, 0), (2, 2)], vec![(0, 0), (2, -2)]],
        vec![vec![(-1, 0), (0, -1), (0, 1), (1, 0)]],
    ];
    let l = s.nrows() as i64;
    shapes
        .iter()
        .map(|op| {
            let mut total = 0i64;
            for r in 0..l {
                for c in 0..l {
                    for shape in op {
                        total += shape
                            .iter()
                            .map(|(dr, dc)| {
                                i64::from(
                                    s[[
                                        ((r + dr).rem_euclid(l)) as usize,
                                        ((c + dc).rem_euclid(l)) as usize,
                                    ]],
                                )
                            })
                            .product::<i64>();
                    }
                }
            }
            total as f64
        })
        .collect()
}

#[test]
fn lattice_sums_match_naive_sums_and_known_configurations() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for l in [5, 6, 8, 16] {
        for _ in 0..5 {
            let s = random_config(l, &mut rng);
            assert_eq!(
                lattice_sums(s.view()).unwrap().to_vec(),
                naive_sums(&s),
                "L = {l}"
            );
            let flipped = s.mapv(|v| -v);
            assert_eq!(
                lattice_sums(flipped.view()).unwrap(),
                lattice_sums(s.view()).unwrap(),
                "even operators"
            );
        }
    }
    let n = 64.0;
    let up = Array2::<i8>::ones((8, 8));
    assert_eq!(
        lattice_sums(up.view()).unwrap(),
        [2.0 * n, 2.0 * n, n, 2.0 * n, 4.0 * n, 2.0 * n, n]
    );
    let checker = Array2::from_shape_fn((8, 8), |(r, c)| if (r + c) % 2 == 0 { 1i8 } else { -1 });
    assert_eq!(
        lattice_sums(checker.view()).unwrap(),
        [-2.0 * n, 2.0 * n, n, 2.0 * n, -4.0 * n, 2.0 * n, n]
    );
    assert_eq!(EvenOperator::ALL.len(), 7);
}

#[test]
fn majority_rule_takes_the_block_majority_and_breaks_ties_fairly() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let rule = MajorityRule::new(2).unwrap();
    let (mut ties, mut ups) = (0usize, 0usize);
    for _ in 0..400 {
        let s = random_config(8, &mut rng);
        let c = rule.coarse_grain(s.view(), &mut rng).unwrap();
        assert_eq!(c.dim(), (4, 4));
        for r in 0..4 {
            for k in 0..4 {
                let sum: i32 = [(0, 0), (0, 1), (1, 0), (1, 1)]
                    .iter()
                    .map(|(dr, dc)| i32::from(s[[2 * r + dr, 2 * k + dc]]))
                    .sum();
                match sum {
                    0 => {
                        ties += 1;
                        ups += usize::from(c[[r, k]] == 1);
                    }
                    _ => assert_eq!(i32::from(c[[r, k]]), sum.signum()),
                }
            }
        }
    }
    // Ties: Binomial(ties, 1/2); reject beyond 3.9 standard deviations (p < 1e-4).
    let sd = (ties as f64 / 4.0).sqrt();
    assert!(
        ties > 1500 && (ups as f64 - ties as f64 / 2.0).abs() < 3.9 * sd,
        "{ups} of {ties}"
    );
    // 3 x 3 blocks never tie; bad inputs are named.
    let big = MajorityRule::new(3).unwrap();
    assert_eq!(
        big.coarse_grain(random_config(9, &mut rng).view(), &mut rng)
            .unwrap()
            .dim(),
        (3, 3)
    );
    assert!(MajorityRule::new(1).is_err());
    assert!(rule
        .coarse_grain(random_config(5, &mut rng).view(), &mut rng)
        .is_err());
    let mut bad = random_config(4, &mut rng);
    bad[[1, 2]] = 0;
    assert!(rule
        .coarse_grain(bad.view(), &mut rng)
        .unwrap_err()
        .to_string()
        .contains("(1, 2)"));
}

/// Lattice sums of one sample: (fine, coarse).
type FineCoarse = (Vec<f64>, Vec<f64>);

#[test]
fn correlations_match_a_two_pass_computation_and_merge_exactly() {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let n_ops = 3;
    let samples: Vec<FineCoarse> = (0..500)
        .map(|_| {
            let z: Vec<f64> = (0..4).map(|_| rng.random::<f64>()).collect();
            let fine = vec![100.0 + z[0] + z[1], 50.0 + z[1] - z[2], 7.0 + z[3]];
            let coarse = vec![
                80.0 + 0.5 * z[0] + z[2],
                20.0 + z[1] * z[3],
                3.0 + z[3] - z[0],
            ];
            (fine, coarse)
        })
        .collect();
    let mut all = Correlations::new(n_ops).unwrap();
    let (mut first, mut second) = (
        Correlations::new(n_ops).unwrap(),
        Correlations::new(n_ops).unwrap(),
    );
    for (i, (f, c)) in samples.iter().enumerate() {
        all.push(f, c).unwrap();
        if i < 200 { &mut first } else { &mut second }
            .push(f, c)
            .unwrap();
    }
    first.merge(&second).unwrap();
    let m = samples.len() as f64;
    let mean = |g: &dyn Fn(&FineCoarse) -> f64| samples.iter().map(g).sum::<f64>() / m;
    let (a, b) = all.matrices(n_ops).unwrap();
    let (a2, b2) = first.matrices(n_ops).unwrap();
    for i in 0..n_ops {
        for j in 0..n_ops {
            let mc = mean(&|s| s.1[i]);
            let want_a = mean(&|s| (s.1[i] - mc) * (s.1[j] - mean(&|t| t.1[j])));
            let want_b = mean(&|s| (s.1[i] - mc) * (s.0[j] - mean(&|t| t.0[j])));
            for (got, want) in [(a[i * n_ops + j], want_a), (b[i * n_ops + j], want_b)] {
                assert!((got - want).abs() < 1e-12, "{got} vs {want}");
            }
            assert!((a2[i * n_ops + j] - a[i * n_ops + j]).abs() < 1e-12);
            assert!((b2[i * n_ops + j] - b[i * n_ops + j]).abs() < 1e-12);
        }
    }
    // Eigenvalues of T = A^{-1} B (2 operators) against the 2 x 2 closed form.
    let (a, b) = all.matrices(2).unwrap();
    let det_a = a[0] * a[3] - a[1] * a[2];
    let t = [
        (a[3] * b[0] - a[1] * b[2]) / det_a,
        (a[3] * b[1] - a[1] * b[3]) / det_a,
        (-a[2] * b[0] + a[0] * b[2]) / det_a,
        (-a[2] * b[1] + a[0] * b[3]) / det_a,
    ];
    let (tr, det) = (t[0] + t[3], t[0] * t[3] - t[1] * t[2]);
    let disc = tr * tr / 4.0 - det;
    let eig = all.rg_eigenvalues(2).unwrap();
    if disc >= 0.0 {
        assert!((eig[0].re - (tr / 2.0 + disc.sqrt())).abs() < 1e-10);
        assert!((eig[1].re - (tr / 2.0 - disc.sqrt())).abs() < 1e-10);
    } else {
        assert!(
            (eig[0].re - tr / 2.0).abs() < 1e-10
                && (eig[0].im.abs() - (-disc).sqrt()).abs() < 1e-10
        );
    }
    assert!(all.matrices(0).is_err() && all.matrices(4).is_err());
    assert!(Correlations::new(2).unwrap().matrices(1).is_err());
    assert!(all.push(&[1.0], &[1.0, 2.0, 3.0]).is_err());
}

/// A coarse-graining that returns the wrong size: `measure` must say so.
struct Broken;
impl CoarseGrain for Broken {
    fn name(&self) -> String {
        "broken".into()
    }
    fn scale_factor(&self) -> usize {
        2
    }
    fn coarse_grain(
        &self,
        fine: ndarray::ArrayView2<'_, i8>,
        _rng: &mut dyn rand::RngCore,
    ) -> tnlearn::Result<Array2<i8>> {
        Ok(fine.to_owned())
    }
}

#[test]
fn mcrg_on_a_small_lattice_is_reproducible_and_checks_its_inputs() {
    let majority = MajorityRule::new(2).unwrap();
    let list: Vec<&dyn CoarseGrain> = vec![&majority];
    let options = McrgOptions::new()
        .l(16)
        .samples(20_000)
        .runs(4)
        .couplings(3)
        .burn_in(200);
    // The runs go to rayon's pool: one thread and three threads give the same numbers.
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| measure(&list, &options, &|_| {}))
            .unwrap()
    };
    let r = on(3);
    let again = on(1);
    assert_eq!(
        r, again,
        "results depend on the seed only, not on the threads"
    );
    let res = &r[0];
    assert_eq!(
        (res.samples, res.y_t.len(), res.eigenvalues.len()),
        (20_000, 3, 3)
    );
    // One majority step 16 -> 8: y_t near (below) 1, the error bar a few 0.01 at most.
    for (y, e) in res.y_t.iter().zip(&res.y_t_error) {
        assert!(
            *y > 0.8 && *y < 1.1 && *e > 0.0 && *e < 0.05,
            "y_t = {y} +- {e}"
        );
    }
    assert!(measure(&list, &options.runs(1), &|_| {}).is_err());
    assert!(measure(&list, &options.couplings(8), &|_| {}).is_err());
    assert!(measure(&[], &options, &|_| {}).is_err());
    let broken: Vec<&dyn CoarseGrain> = vec![&Broken];
    let err = measure(&broken, &options, &|_| {}).unwrap_err().to_string();
    assert!(err.contains("broken"), "{err}");
}

#[test]
fn lattice_tables_and_snake_order_are_consistent() {
    for lattice in [
        Lattice::ring(2).unwrap(),
        Lattice::ring(9).unwrap(),
        Lattice::square(2).unwrap(),
        Lattice::square(5).unwrap(),
    ] {
        let z = lattice.coordination();
        let table = lattice.neighbors();
        let bonds = lattice.bonds();
        assert_eq!(bonds.len() * 2, table.len());
        // Every bond (i, j) appears once in i's list and once in j's (with multiplicity).
        for i in 0..lattice.num_sites() {
            let mine: Vec<usize> = table[z * i..z * (i + 1)]
                .iter()
                .map(|&j| j as usize)
                .collect();
            let mut expected: Vec<usize> = bonds
                .iter()
                .flat_map(|&(a, b)| [(a, b), (b, a)])
                .filter(|&(a, _)| a == i)
                .map(|(_, b)| b)
                .collect();
            let mut got = mine.clone();
            got.sort();
            expected.sort();
            assert_eq!(got, expected, "{lattice:?} site {i}");
        }
    }
    let l = 6;
    let order = tnlearn::ising::snake_order(l, l).unwrap();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(sorted, (0..l * l).collect::<Vec<_>>(), "a permutation");
    for w in order.windows(2) {
        let (a, b) = ((w[0] / l, w[0] % l), (w[1] / l, w[1] % l));
        assert_eq!(
            a.0.abs_diff(b.0) + a.1.abs_diff(b.1),
            1,
            "{a:?} -> {b:?} not neighbours"
        );
    }
    let torus = Lattice::square(3).unwrap();
    assert!(torus.energy(&[1; 8]).is_err() && torus.energy(&[1, 1, 1, 1, 0, 1, 1, 1, 1]).is_err());
}
