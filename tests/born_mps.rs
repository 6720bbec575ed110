//! MPS Born machine against independent references: enumeration with explicit
//! matrix products, finite differences, chi-square goodness of fit, a learning task
//! with a known optimum, file round trips and failure modes.

mod born_common;
use born_common::{
    bars_and_stripes, chi2, chi2_critical, conditional_samples_match_enumeration, configs,
    random_data,
};
use ndarray::{Array2, Array3, Array4};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tnlearn::born::{
    BornMachine, BornOptions, FitControl, HalfSweepReport, MpsBornMachine, StepRule,
};
use tnlearn::{Dataset, Error};

// ------------------------------------------------------------------ references

/// psi(x) by explicit vector-matrix products over the site tensors.
fn psi(tensors: &[Array3<f64>], x: &[u8]) -> f64 {
    let mut v = vec![1.0];
    for (a, &s) in tensors.iter().zip(x) {
        let (dl, _, dr) = a.dim();
        let mut w = vec![0.0; dr];
        for j in 0..dr {
            for i in 0..dl {
                w[j] += v[i] * a[[i, s as usize, j]];
            }
        }
        v = w;
    }
    v[0]
}

/// psi(x) with sites k, k+1 replaced by the merged tensor b.
fn psi_merged(tensors: &[Array3<f64>], k: usize, b: &Array4<f64>, x: &[u8]) -> f64 {
    let mut v = vec![1.0];
    let mut site = 0;
    while site < tensors.len() {
        if site == k {
            let (dl, _, _, dr) = b.dim();
            let mut w = vec![0.0; dr];
            for j in 0..dr {
                for i in 0..dl {
                    w[j] += v[i] * b[[i, x[k] as usize, x[k + 1] as usize, j]];
                }
            }
            v = w;
            site += 2;
        } else {
            let a = &tensors[site];
            let (dl, _, dr) = a.dim();
            let mut w = vec![0.0; dr];
            for j in 0..dr {
                for i in 0..dl {
                    w[j] += v[i] * a[[i, x[site] as usize, j]];
                }
            }
            v = w;
            site += 1;
        }
    }
    v[0]
}

/// p(x) for every configuration by enumeration.
fn enumerate_p(model: &MpsBornMachine) -> (Vec<Vec<u8>>, Vec<f64>) {
    let cs = configs(model.num_sites(), model.num_states());
    let amps: Vec<f64> = cs.iter().map(|x| psi(model.tensors(), x).powi(2)).collect();
    let z: f64 = amps.iter().sum();
    (cs, amps.iter().map(|a| a / z).collect())
}

fn random_model(n: usize, d: usize, bond: usize, seed: u64) -> MpsBornMachine {
    MpsBornMachine::new(
        n,
        d,
        BornOptions::new()
            .initial_bond(bond)
            .max_bond(bond.max(8))
            .seed(seed),
    )
    .unwrap()
}

// --------------------------------------------------------------- exactness

fn check_exact(n: usize, d: usize, bond: usize) {
    let model = random_model(n, d, bond, 11);
    let (cs, p) = enumerate_p(&model);
    let total: f64 = cs.iter().map(|x| model.log_prob(x).unwrap().exp()).sum();
    assert!((total - 1.0).abs() < 1e-10, "sum p = {total}");
    for (x, &px) in cs.iter().zip(&p) {
        let lp = model.log_prob(x).unwrap();
        assert!(
            (lp - px.ln()).abs() < 1e-10,
            "x = {x:?}: {lp} vs {}",
            px.ln()
        );
    }
    // NLL of a random data set.
    let mut rng = StdRng::seed_from_u64(5);
    let data = random_data(60, n, d, &mut rng);
    let index = |x: &[u8]| x.iter().fold(0usize, |acc, &v| acc * d + v as usize);
    let want = -data
        .samples()
        .rows()
        .into_iter()
        .map(|r| p[index(r.as_slice().unwrap())].ln())
        .sum::<f64>()
        / 60.0;
    let got = model.nll(&data).unwrap();
    assert!((got - want).abs() < 1e-10, "nll {got} vs {want}");
    let got_trait = BornMachine::nll(&model, &data).unwrap();
    assert_eq!(got, got_trait);
    // Marginal of three sites, out of order.
    let sites = [n - 2, 1, n / 2 - 1];
    let m = model.marginal(&sites).unwrap();
    assert_eq!(m.shape(), &[d, d, d]);
    let mut want = ndarray::ArrayD::<f64>::zeros(vec![d, d, d]);
    for (x, &px) in cs.iter().zip(&p) {
        want[[
            x[sites[0]] as usize,
            x[sites[1]] as usize,
            x[sites[2]] as usize,
        ]] += px;
    }
    let diff = (&m - &want).mapv(f64::abs).fold(0.0_f64, |a, &b| a.max(b));
    assert!(diff < 1e-10, "marginal differs by {diff}");
    // Single-site marginals of every site.
    for k in 0..n {
        let m = model.marginal(&[k]).unwrap();
        for s in 0..d {
            let w: f64 = cs
                .iter()
                .zip(&p)
                .filter(|(x, _)| x[k] as usize == s)
                .map(|(_, p)| p)
                .sum();
            assert!((m[[s]] - w).abs() < 1e-10);
        }
    }
}

#[test]
fn probabilities_nll_marginals_match_enumeration_d2() {
    check_exact(10, 2, 4);
}

#[test]
fn probabilities_nll_marginals_match_enumeration_d3() {
    check_exact(6, 3, 4);
}

#[test]
fn two_site_gradient_matches_finite_differences() {
    for (d, n, k) in [(2usize, 10usize, 4usize), (2, 10, 0), (2, 10, 8), (3, 6, 2)] {
        let mut model = random_model(n, d, 3, 3);
        let mut rng = StdRng::seed_from_u64(9);
        // Data drawn from the model itself, so no psi(x) is tiny (ln|psi| would be
        // too curved for finite differences there).
        let data = Dataset::new(model.sample(40, &mut rng).unwrap(), d).unwrap();
        let (b, g) = model.two_site_gradient(&data, k).unwrap();
        let tensors = model.tensors().to_vec();
        let cs = configs(n, d);
        let nll_of = |b: &Array4<f64>| {
            let z: f64 = cs
                .iter()
                .map(|x| psi_merged(&tensors, k, b, x).powi(2))
                .sum();
            let s: f64 = data
                .samples()
                .rows()
                .into_iter()
                .map(|r| psi_merged(&tensors, k, b, r.as_slice().unwrap()).abs().ln())
                .sum();
            z.ln() - 2.0 * s / data.len() as f64
        };
        // The hook's B reproduces the model's NLL.
        assert!((nll_of(&b) - model.nll(&data).unwrap()).abs() < 1e-10);
        let h = 1e-5;
        let mut worst: f64 = 0.0;
        let mut worst_at = None;
        for idx in ndarray::indices(b.dim()) {
            let mut bp = b.clone();
            bp[idx] += h;
            let mut bm = b.clone();
            bm[idx] -= h;
            let fd = (nll_of(&bp) - nll_of(&bm)) / (2.0 * h);
            let err = (fd - g[idx]).abs() / (1.0 + g[idx].abs());
            if err > worst {
                worst = err;
                worst_at = Some((idx, fd, g[idx]));
            }
        }
        // Central differences: O(h^2) truncation + O(eps / h) rounding.
        assert!(
            worst < 1e-6,
            "d = {d}, bond {k}: worst relative error {worst} at {worst_at:?}"
        );
    }
}

// ----------------------------------------------------------------- samplers

#[test]
fn unconditional_samples_pass_chi_square() {
    for (n, d) in [(8usize, 2usize), (5, 3)] {
        let model = random_model(n, d, 3, 21);
        let (_, p) = enumerate_p(&model);
        let mut rng = StdRng::seed_from_u64(2024);
        let draws = 100_000;
        let s = model.sample(draws, &mut rng).unwrap();
        let mut counts = vec![0usize; p.len()];
        for r in s.rows() {
            counts[r.iter().fold(0usize, |a, &v| a * d + v as usize)] += 1;
        }
        let (stat, dof) = chi2(&counts, &p, draws);
        let crit = chi2_critical(dof);
        assert!(stat < crit, "N={n} d={d}: chi2 {stat} > {crit} (dof {dof})");
        // Reproducible with the same seed.
        let again = model
            .sample(draws, &mut StdRng::seed_from_u64(2024))
            .unwrap();
        assert_eq!(s, again);
    }
}

#[test]
fn conditional_samples_pass_chi_square() {
    let n = 8;
    let model = random_model(n, 2, 3, 31);
    let (cs, p) = enumerate_p(&model);
    let masks: [&[usize]; 6] = [
        &[0, 1, 2],
        &[1, 4, 6],
        &[7],
        &[0, 3, 5, 7],
        &[],
        &[2, 3, 4, 5],
    ];
    let mut rng = StdRng::seed_from_u64(77);
    conditional_samples_match_enumeration(&model, &cs, &p, &masks, 100_000, &mut rng);
    // Every site observed: the sample is x itself.
    let x = vec![1u8, 0, 1, 1, 0, 0, 1, 0];
    let s = model
        .sample_conditional(&x, &[true; 8], 3, &mut rng)
        .unwrap();
    assert!(s.rows().into_iter().all(|r| r.to_vec() == x));
}

// ----------------------------------------------------------------- learning

#[test]
fn learns_bars_and_stripes_to_ln_30() {
    let data = Dataset::binary(bars_and_stripes(4)).unwrap();
    assert_eq!(data.len(), 30);
    let opts = BornOptions::new()
        .max_bond(16)
        .cutoff(1e-9)
        .learning_rate(0.1)
        .steps_per_bond(2)
        .sweeps(30)
        .seed(1);
    let mut model = MpsBornMachine::new(16, 2, opts).unwrap();
    let start = std::time::Instant::now();
    let floor = 30f64.ln();
    let reports = model
        .fit_with(&data, &mut |r: &HalfSweepReport, _m: &MpsBornMachine| {
            if r.train_nll < floor + 1e-3 {
                FitControl::Stop
            } else {
                FitControl::Continue
            }
        })
        .unwrap();
    let nll = model.nll(&data).unwrap();
    let last = reports.last().unwrap();
    eprintln!(
        "bars-and-stripes: NLL {nll:.5} (ln 30 = {floor:.5}) after {} half-sweeps, \
         max bond {}, {:.2} s",
        reports.len(),
        last.max_bond,
        start.elapsed().as_secs_f64()
    );
    assert!((nll - floor).abs() < 0.01, "NLL {nll}");
    assert!(
        (last.train_nll - nll).abs() < 1e-9,
        "report {} vs {nll}",
        last.train_nll
    );
    // Samples are (almost all) valid patterns.
    let set: std::collections::HashSet<Vec<u8>> = data
        .samples()
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    let s = model.sample(1000, &mut StdRng::seed_from_u64(3)).unwrap();
    let valid = s
        .rows()
        .into_iter()
        .filter(|r| set.contains(&r.to_vec()))
        .count();
    assert!(valid >= 980, "{valid} of 1000 samples are bars or stripes");
}

#[test]
fn learns_twenty_random_strings_to_ln_20() {
    // 20 distinct random 12-bit strings: the NLL floor is ln 20 (p = 1/20 each).
    let mut rng = StdRng::seed_from_u64(20);
    let mut set = std::collections::BTreeSet::new();
    while set.len() < 20 {
        set.insert(rng.random_range(0u32..1 << 12));
    }
    let rows: Vec<u8> = set
        .iter()
        .flat_map(|&v| (0..12).map(move |b| ((v >> (11 - b)) & 1) as u8))
        .collect();
    let data = Dataset::binary(Array2::from_shape_vec((20, 12), rows).unwrap()).unwrap();
    for rule in [
        StepRule::Plain,
        StepRule::Normalized {
            size_exponent: 0.25,
        },
    ] {
        let lr = match rule {
            StepRule::Plain => 0.1,
            StepRule::Normalized { .. } => 0.01,
        };
        let opts = BornOptions::new()
            .max_bond(20)
            .cutoff(1e-9)
            .learning_rate(lr)
            .step_rule(rule)
            .steps_per_bond(2)
            .sweeps(40)
            .seed(2);
        let mut model = MpsBornMachine::new(12, 2, opts).unwrap();
        let floor = 20f64.ln();
        model
            .fit_with(&data, &mut |r: &HalfSweepReport, _m: &MpsBornMachine| {
                if r.train_nll < floor + 1e-3 {
                    FitControl::Stop
                } else {
                    FitControl::Continue
                }
            })
            .unwrap();
        let nll = model.nll(&data).unwrap();
        eprintln!("20 strings, {rule:?}: NLL {nll:.5} (ln 20 = {floor:.5})");
        assert!((nll - floor).abs() < 0.01, "{rule:?}: NLL {nll}");
    }
}

#[test]
fn environment_checkpoints_do_not_change_training() {
    // Training with environments kept at every site, or only every 3rd / 5th site
    // (rebuilt in between), performs the same arithmetic: the same model.
    let mut rng = StdRng::seed_from_u64(11);
    let data = random_data(60, 17, 2, &mut rng);
    let run = |every: usize| {
        let opts = BornOptions::new()
            .max_bond(6)
            .learning_rate(0.05)
            .sweeps(2)
            .batch_size(Some(20))
            .checkpoint_every(Some(every))
            .seed(4);
        let mut m = MpsBornMachine::new(17, 2, opts).unwrap();
        let reports = m.fit(&data).unwrap();
        (m, reports)
    };
    let (full, rf) = run(1);
    for every in [3, 5] {
        let (ck, rc) = run(every);
        assert_eq!(full.bond_dims(), ck.bond_dims());
        for (a, b) in full.tensors().iter().zip(ck.tensors()) {
            let diff = (a - b).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(diff < 1e-12, "spacing {every}: tensors differ by {diff}");
        }
        for (a, b) in rf.iter().zip(&rc) {
            assert!((a.train_nll - b.train_nll).abs() < 1e-10);
            assert!(
                b.env_bytes < a.env_bytes,
                "spacing {every}: {} bytes vs {} with every environment",
                b.env_bytes,
                a.env_bytes
            );
        }
    }
    // The automatic spacing keeps everything when it fits.
    let o = BornOptions::new().max_bond(100);
    assert_eq!(o.checkpoint_spacing(1000, 784), 1);
    assert_eq!(o.checkpoint_spacing(60_000, 784), 28);
    assert!(BornOptions::new()
        .checkpoint_every(Some(0))
        .validate()
        .is_err());
    assert!(BornOptions::new()
        .step_rule(StepRule::Normalized {
            size_exponent: f64::NAN
        })
        .validate()
        .is_err());
}

#[test]
fn observer_can_stop_training() {
    let data = Dataset::binary(bars_and_stripes(3)).unwrap();
    let mut model = MpsBornMachine::new(9, 2, BornOptions::new().sweeps(10)).unwrap();
    let mut calls = 0;
    let reports = model
        .fit_with(&data, &mut |_r: &HalfSweepReport, _m: &MpsBornMachine| {
            calls += 1;
            if calls == 3 {
                FitControl::Stop
            } else {
                FitControl::Continue
            }
        })
        .unwrap();
    assert_eq!(reports.len(), 3);
    assert_eq!(model.center(), 0);
    // Minibatch training also runs and decreases the NLL.
    let before = model.nll(&data).unwrap();
    model
        .set_options(
            BornOptions::new()
                .batch_size(Some(5))
                .steps_per_bond(3)
                .sweeps(2),
        )
        .unwrap();
    model.fit(&data).unwrap();
    assert!(model.nll(&data).unwrap() < before);
}

// --------------------------------------------------------------- save / load

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tnlearn_born_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn save_load_round_trip_and_bad_files() {
    let data = Dataset::binary(bars_and_stripes(3)).unwrap();
    let mut model = MpsBornMachine::new(9, 2, BornOptions::new().sweeps(3).max_bond(6)).unwrap();
    model.fit(&data).unwrap();
    let path = temp_path("model.tnlborn");
    model.save(&path).unwrap();
    let loaded = MpsBornMachine::load(&path).unwrap();
    assert_eq!(loaded.options(), model.options());
    assert_eq!(loaded.center(), model.center());
    for x in configs(9, 2) {
        assert_eq!(
            model.log_prob(&x).unwrap().to_bits(),
            loaded.log_prob(&x).unwrap().to_bits()
        );
    }
    let a = model.sample(500, &mut StdRng::seed_from_u64(8)).unwrap();
    let b = loaded.sample(500, &mut StdRng::seed_from_u64(8)).unwrap();
    assert_eq!(a, b);

    let bytes = std::fs::read(&path).unwrap();
    let expect_format = |p: &std::path::Path, what: &str| match MpsBornMachine::load(p) {
        Err(Error::Format { path, reason }) => {
            assert_eq!(path, p);
            eprintln!("{what}: {reason}");
        }
        other => panic!("{what}: expected a format error, got {other:?}"),
    };
    // Truncated at several lengths.
    for cut in [0, 5, 12, 23, 40, bytes.len() / 2, bytes.len() - 1] {
        let p = temp_path(&format!("cut{cut}.tnlborn"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        expect_format(&p, &format!("truncated at {cut}"));
    }
    // Every flipped byte (sampled) is caught.
    for pos in (0..bytes.len()).step_by(7) {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x10;
        let p = temp_path("flipped.tnlborn");
        std::fs::write(&p, &bad).unwrap();
        expect_format(&p, &format!("flipped byte {pos}"));
    }
    // Consistent checksum but impossible contents (a hostile or buggy writer).
    let patch = |offset: usize, value: &[u8], what: &str| {
        let mut bad = bytes.clone();
        bad[offset..offset + value.len()].copy_from_slice(value);
        let end = bad.len() - 4;
        let crc = crc32fast::hash(&bad[..end]);
        bad[end..].copy_from_slice(&crc.to_le_bytes());
        let p = temp_path("patched.tnlborn");
        std::fs::write(&p, &bad).unwrap();
        expect_format(&p, what);
    };
    patch(20, &u64::MAX.to_le_bytes(), "num_sites = u64::MAX");
    patch(20, &1000u64.to_le_bytes(), "num_sites = 1000");
    patch(28, &300u64.to_le_bytes(), "num_states = 300");
    patch(36, &9u64.to_le_bytes(), "centre out of range");
    patch(77, &(-1.0f64).to_le_bytes(), "negative learning rate");
    patch(125, &[7], "unknown step rule");
    patch(158, &(1u64 << 40).to_le_bytes(), "huge bond");
    patch(166, &f64::NAN.to_le_bytes(), "NaN entry");
    patch(150, &3u64.to_le_bytes(), "wrong d at site 0");
    // A version-1 file (no step rule, no checkpoint spacing) still loads, with the
    // defaults for the missing fields and identical probabilities.
    let mut v1 = bytes.clone();
    v1.drain(125..142);
    v1[8..12].copy_from_slice(&1u32.to_le_bytes());
    let plen = (v1.len() - 24) as u64;
    v1[12..20].copy_from_slice(&plen.to_le_bytes());
    let end = v1.len() - 4;
    let crc = crc32fast::hash(&v1[..end]);
    v1[end..].copy_from_slice(&crc.to_le_bytes());
    let p = temp_path("v1.tnlborn");
    std::fs::write(&p, &v1).unwrap();
    let old = MpsBornMachine::load(&p).unwrap();
    assert_eq!(old.options().checkpoint_every, None);
    for x in configs(9, 2) {
        assert_eq!(
            model.log_prob(&x).unwrap().to_bits(),
            old.log_prob(&x).unwrap().to_bits()
        );
    }
    // A foreign file.
    let p = temp_path("foreign.txt");
    std::fs::write(&p, b"P5\n28 28\n255\nnot a model at all").unwrap();
    expect_format(&p, "foreign file");
    // A missing file is an I/O error naming the path.
    match MpsBornMachine::load(temp_path("missing.tnlborn")) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("missing.tnlborn")),
        other => panic!("expected Io error, got {other:?}"),
    }
}

// ------------------------------------------------------------ bad input

fn invalid_name(r: Result<MpsBornMachine, Error>) -> String {
    match r {
        Err(Error::InvalidArgument { name, .. }) => name,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn bad_options_and_data_are_errors_naming_the_culprit() {
    let o = BornOptions::new;
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().max_bond(0))),
        "max_bond"
    );
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().learning_rate(-0.1))),
        "learning_rate"
    );
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().learning_rate(f64::NAN))),
        "learning_rate"
    );
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().sweeps(0))),
        "sweeps"
    );
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().steps_per_bond(0))),
        "steps_per_bond"
    );
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().batch_size(Some(0)))),
        "batch_size"
    );
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().cutoff(f64::NAN))),
        "cutoff"
    );
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().max_bond(4).min_bond(5))),
        "min_bond"
    );
    assert_eq!(
        invalid_name(MpsBornMachine::new(5, 2, o().max_bond(4).initial_bond(5))),
        "initial_bond"
    );
    assert_eq!(invalid_name(MpsBornMachine::new(1, 2, o())), "num_sites");
    assert_eq!(invalid_name(MpsBornMachine::new(5, 1, o())), "num_states");

    let mut model = MpsBornMachine::new(4, 2, o()).unwrap();
    // A value >= d: the message names sample and site.
    let data = Dataset::new(ndarray::array![[0, 1, 0, 1], [0, 1, 2, 0]], 3).unwrap();
    match model.fit(&data) {
        Err(Error::InvalidArgument { name, reason }) => {
            assert_eq!(name, "train");
            assert!(reason.contains("sample 1, site 2"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(model.nll(&data).is_err());
    // Wrong number of sites.
    let data = Dataset::binary(ndarray::array![[0, 1, 0]]).unwrap();
    match model.fit(&data) {
        Err(Error::InvalidArgument { name, reason }) => {
            assert_eq!(name, "train");
            assert!(
                reason.contains("3 sites") && reason.contains("4 sites"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // log_prob / conditional / marginal input checks.
    assert!(matches!(
        model.log_prob(&[0, 1]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        model.log_prob(&[0, 1, 2, 0]),
        Err(Error::InvalidArgument { .. })
    ));
    let mut rng = StdRng::seed_from_u64(0);
    assert!(model
        .sample_conditional(&[0, 1, 0, 1], &[true; 3], 1, &mut rng)
        .is_err());
    assert!(model
        .sample_conditional(&[0, 5, 0, 1], &[false, true, false, false], 1, &mut rng)
        .is_err());
    assert!(model.marginal(&[4]).is_err());
    assert!(model.marginal(&[1, 1]).is_err());
    // A huge learning rate gives an error or a finite model, never NaN.
    let data = Dataset::binary(ndarray::array![[0, 1, 0, 1], [1, 1, 0, 0]]).unwrap();
    let mut model = MpsBornMachine::new(4, 2, o().learning_rate(1e300)).unwrap();
    let r = model.fit(&data);
    assert!(r.is_err() || model.nll(&data).unwrap().is_finite());
}

#[test]
fn zero_probability_samples_do_not_produce_nan() {
    // A product state |0000>: every other configuration has psi(x) = 0.
    let mps = tnlearn::Mps::<f64>::product_state(&[2; 4], &[0, 0, 0, 0]).unwrap();
    let mut model = MpsBornMachine::from_mps(&mps, BornOptions::new().sweeps(2)).unwrap();
    let data = Dataset::binary(ndarray::array![[0, 0, 0, 0], [1, 0, 1, 0]]).unwrap();
    assert_eq!(model.log_prob(&[1, 0, 1, 0]).unwrap(), f64::NEG_INFINITY);
    assert_eq!(model.nll(&data).unwrap(), f64::INFINITY);
    let reports = model.fit(&data).unwrap();
    assert!(reports.iter().all(|r| !r.train_nll.is_nan()));
    let nll = model.nll(&data).unwrap();
    assert!(!nll.is_nan());
    let mut rng = StdRng::seed_from_u64(1);
    // Conditioning on an impossible observation is an error.
    let r = model.sample_conditional(&[1, 1, 1, 1], &[true, true, false, false], 1, &mut rng);
    if model.log_prob(&[1, 1, 0, 0]).unwrap() == f64::NEG_INFINITY
        && model.log_prob(&[1, 1, 1, 1]).unwrap() == f64::NEG_INFINITY
    {
        assert!(r.is_err());
    }
}
