//! Regression tests of issue 10 (hardening) for `cora` and `ising`: every input here
//! used to panic, overflow, allocate without bound or return a non-finite value.
//! Each test asserts a clean `Err` naming the input, or the right finite answer.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::cora::{Architecture, Boundary, Cora, MapSharing, StochasticMap};
use tnlearn::ising::mcrg::{check_configuration, lattice_sums, Correlations};
use tnlearn::ising::{exact, sampling, stats, Lattice, CRITICAL_TEMPERATURE};
use tnlearn::Error;

fn message(e: &Error) -> String {
    e.to_string()
}

// ---------------------------------------------------------------- CORA: sizes

#[test]
fn architecture_rejects_lattices_whose_sizes_overflow() {
    // 2^33 sites: the top-site count used to be truncated by `as u32` to 0, so the
    // top table "had" 2^0 = 1 entry and the architecture validated.
    let e = Architecture::chain(1 << 33)
        .levels(1)
        .validate()
        .unwrap_err();
    assert!(message(&e).contains("lattice"), "{e}");
    // rows * cols overflows usize.
    let e = Architecture::square_2x2(1 << 40, 1 << 40)
        .levels(40)
        .validate()
        .unwrap_err();
    assert!(message(&e).contains("lattice"), "{e}");
    // The largest sizes still fail cleanly.
    assert!(Architecture::square_3x3(usize::MAX, usize::MAX)
        .levels(usize::MAX)
        .validate()
        .is_err());
    assert!(Architecture::chain(usize::MAX).validate().is_err());
}

#[test]
fn too_many_levels_report_the_real_divisor_and_the_maximum() {
    // Used to say "divisible by 0 x 0" (2^100 wrapped), or overflow in a test build.
    let e = Architecture::square_2x2(2, 2)
        .levels(100)
        .validate()
        .unwrap_err();
    let m = message(&e);
    assert!(!m.contains("0 x 0"), "{m}");
    assert!(m.contains("2^100"), "{m}");
    assert!(m.contains("at most 1 levels"), "{m}");
    // A map too large because of the data states names num_states, not chi.
    let e = Architecture::square_3x3(9, 9)
        .num_states(256)
        .levels(1)
        .validate()
        .unwrap_err();
    assert!(message(&e).contains("num_states"), "{e}");
    let e = Architecture::square_3x3(9, 9)
        .chi_per_level(vec![256, 2])
        .levels(2)
        .validate()
        .unwrap_err();
    assert!(message(&e).contains("chi"), "{e}");
    let e = Architecture::chain(12).levels(3).validate().unwrap_err();
    assert!(message(&e).contains("divisible by 1 x 8"), "{e}");
}

#[test]
fn per_position_models_that_cannot_be_held_are_refused_before_allocation() {
    // 2^23 refine maps and 2^23 box maps of level 1 alone: over 2^28 entries.
    let arch = Architecture::chain(1 << 24)
        .levels(22)
        .sharing(MapSharing::PerPosition);
    let e = arch.validate().unwrap_err();
    assert!(message(&e).contains("sharing"), "{e}");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    assert!(Cora::random(arch, &mut rng).is_err());
    // The same lattice with shared maps is fine to describe.
    assert!(Architecture::chain(1 << 24).levels(22).validate().is_ok());
}

#[test]
fn geometry_accessors_have_checked_forms_and_windows_do_not_overflow() {
    let arch = Architecture::chain(16)
        .levels(3)
        .boundary(Boundary::Periodic);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let model = Cora::random(arch, &mut rng).unwrap();
    let geo = model.geometry();
    assert_eq!(geo.try_dims(3).unwrap(), (1, 2));
    assert!(message(&geo.try_dims(4).unwrap_err()).contains("level"));
    assert!(geo.try_num_sites(usize::MAX).is_err());
    assert!(geo.try_children(0, 0).is_err());
    assert!(geo.try_children(1, 8).is_err()); // Gamma_1 has 8 sites
    assert_eq!(geo.try_children(1, 7).unwrap(), geo.children(1, 7));
    assert!(geo.try_parent(0, 0).is_err());
    assert!(geo.try_parent(1, 16).is_err());
    assert_eq!(geo.try_parent(2, 5).unwrap(), geo.parent(2, 5));
    assert!(geo.try_group_sites(1, usize::MAX).is_err());
    assert!(geo.try_group_of(4, 0).is_err());
    assert!(geo.try_num_groups(0).is_err());
    // The panicking forms panic with the same message instead of returning a
    // wrong site (site 8 of Gamma_1 used to give children 16, 17 of a 16-site lattice).
    let r = catch_unwind(AssertUnwindSafe(|| geo.children(1, 8)));
    assert!(r.is_err());
    // `row + height` used to overflow.
    for at in [(0, usize::MAX), (usize::MAX, 0), (usize::MAX, usize::MAX)] {
        assert!(geo.window(0, at, (1, 2)).is_err(), "{at:?}");
    }
    assert!(geo.window(0, (0, 15), (1, 2)).is_ok()); // wraps on the ring
}

// ------------------------------------------------------- CORA: stochastic maps

#[test]
fn stochastic_map_constructors_reject_bad_sizes_and_values() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    // uniform(0, n) used to give 1/0 = inf entries; now every constructor checks.
    assert!(message(&StochasticMap::uniform(0, 3).unwrap_err()).contains("outputs"));
    assert!(message(&StochasticMap::uniform(3, 0).unwrap_err()).contains("inputs"));
    assert!(StochasticMap::random(0, 1, &mut rng).is_err());
    assert!(StochasticMap::random(1 << 40, 1 << 40, &mut rng).is_err());
    assert!(StochasticMap::random(usize::MAX, 2, &mut rng).is_err());
    assert!(StochasticMap::near_identity(0, 0.1, &mut rng).is_err());
    assert!(StochasticMap::near_uniform(2, 2, f64::NAN, &mut rng).is_err());
    assert!(StochasticMap::near_identity(2, 2.0, &mut rng).is_err());
    // outputs * inputs used to wrap: usize::MAX * 2 == usize::MAX - 1 mod 2^64.
    assert!(StochasticMap::new(usize::MAX, 2, vec![]).is_err());
    assert!(StochasticMap::new(2, 1, vec![f64::NAN, 1.0]).is_err());
    assert!(StochasticMap::new(2, 1, vec![f64::INFINITY, 0.0]).is_err());
    let m = StochasticMap::uniform(3, 2).unwrap();
    assert_eq!(m.try_get(2, 1).unwrap(), 1.0 / 3.0);
    assert!(m.try_get(3, 0).is_err());
    assert!(m.try_get(0, 2).is_err());
    // get(0, 5) on a 3 x 2 map used to return entry (2, 1) silently.
    assert!(catch_unwind(|| m.get(0, 5)).is_err());
    let r = StochasticMap::random(4, 3, &mut rng).unwrap();
    for i in 0..3 {
        let s: f64 = (0..4).map(|o| r.get(o, i)).sum();
        assert!((s - 1.0).abs() < 1e-12);
    }
}

#[test]
fn cora_sample_with_an_impossible_count_is_an_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let model = Cora::random(Architecture::chain(16).levels(2), &mut rng).unwrap();
    let e = model.sample(usize::MAX / 8, &mut rng).unwrap_err();
    assert!(message(&e).contains("samples of 16 sites"), "{e}");
    assert_eq!(model.sample(3, &mut rng).unwrap().dim(), (3, 16));
}

// ------------------------------------------------------------- CORA: loader

/// Offsets in a `TNLCORA` file of `chain(8).levels(2)` (one chi value): 20 header
/// bytes, 4 flag bytes, five u64 settings, one chi; then level 1's refine list.
const ROWS: usize = 24;
const COLS: usize = 32;
const FIRST_REFINE_COUNT: usize = 20 + 4 + 5 * 8 + 8;

fn saved_model(name: &str) -> (Vec<u8>, std::path::PathBuf) {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let model = Cora::random(Architecture::chain(8).levels(2), &mut rng).unwrap();
    let dir = std::env::temp_dir().join(format!("tnlearn-hardening-cora-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    model.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // The layout the offsets assume.
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    assert_eq!((u64_at(ROWS), u64_at(COLS)), (1, 8));
    assert_eq!(u64_at(FIRST_REFINE_COUNT), 1);
    assert_eq!(
        (
            u64_at(FIRST_REFINE_COUNT + 8),
            u64_at(FIRST_REFINE_COUNT + 16)
        ),
        (4, 2)
    );
    (bytes, path)
}

/// Writes `bytes` with the CRC recomputed, so that the payload parser is reached.
fn write_sealed(path: &std::path::Path, mut bytes: Vec<u8>) {
    let end = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn put_f64(bytes: &mut [u8], at: usize, v: f64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_f64(bytes: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

#[test]
fn cora_files_with_non_stochastic_or_non_finite_maps_fail_to_load() {
    let (good, path) = saved_model("maps.tnlcora");
    write_sealed(&path, good.clone());
    assert!(Cora::load(&path).is_ok(), "the unmodified file loads");
    // values[o * 2 + i] of the first refine map (4 x 2); column 0 is o * 2.
    let values = FIRST_REFINE_COUNT + 24;
    let v0 = get_f64(&good, values);
    // A column summing to 1.25.
    let mut bad = good.clone();
    put_f64(&mut bad, values, v0 + 0.25);
    write_sealed(&path, bad);
    let e = Cora::load(&path).unwrap_err();
    assert!(matches!(e, Error::Format { .. }), "{e}");
    assert!(message(&e).contains("refine map 0 of level 1"), "{e}");
    assert!(message(&e).contains("column 0"), "{e}");
    // Off by 1e-9: beyond the stated tolerance of 1e-12.
    let mut bad = good.clone();
    put_f64(&mut bad, values, v0 + 1e-9);
    write_sealed(&path, bad);
    assert!(Cora::load(&path).is_err());
    // A negative entry compensated elsewhere in the column (the sum stays 1).
    let mut bad = good.clone();
    let v2 = get_f64(&good, values + 16);
    put_f64(&mut bad, values, -0.5);
    put_f64(&mut bad, values + 16, v2 + v0 + 0.5);
    write_sealed(&path, bad);
    assert!(message(&Cora::load(&path).unwrap_err()).contains("negative or not finite"));
    // NaN and infinity.
    for v in [f64::NAN, f64::INFINITY] {
        let mut bad = good.clone();
        put_f64(&mut bad, values, v);
        write_sealed(&path, bad);
        assert!(Cora::load(&path).is_err(), "{v}");
    }
}

#[test]
fn cora_files_with_impossible_lattices_fail_to_load() {
    let (good, path) = saved_model("lattice.tnlcora");
    let cases: [(usize, u64, &str); 6] = [
        // A valid architecture whose top table (16 entries, not 4) is not in the file:
        // refused from the byte count before any map is read.
        (COLS, 16, "needs"),
        // Sizes the model cannot hold at all.
        (COLS, 1 << 33, "lattice"),
        (COLS, 1 << 40, "lattice"),
        (COLS, u64::MAX, "lattice"),
        (ROWS, 1 << 40, "rows"),
        // levels: 2^63 levels of a chain of 8.
        (ROWS + 16, 1 << 63, "levels"),
    ];
    for (at, v, word) in cases {
        let mut bad = good.clone();
        put_u64(&mut bad, at, v);
        write_sealed(&path, bad);
        let e = Cora::load(&path).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "{e}");
        assert!(message(&e).contains(word), "field at {at} = {v}: {e}");
        assert!(message(&e).contains("lattice.tnlcora"), "{e}");
    }
    // A map count and a map shape that disagree with the architecture.
    let mut bad = good.clone();
    put_u64(&mut bad, FIRST_REFINE_COUNT, 1 << 40);
    write_sealed(&path, bad);
    assert!(Cora::load(&path).is_err());
    let mut bad = good.clone();
    put_u64(&mut bad, FIRST_REFINE_COUNT + 8, 1 << 62);
    write_sealed(&path, bad);
    assert!(Cora::load(&path).is_err());
}

// ------------------------------------------------------------------- Ising

#[test]
fn check_configuration_and_lattice_sums_reject_bad_shapes_without_panicking() {
    let s = Array2::<i8>::ones((4, 4));
    // b = 0 used to divide by zero.
    assert!(message(&check_configuration(s.view(), 0).unwrap_err()).contains("block size"));
    // next_multiple_of(usize::MAX) used to overflow.
    assert!(check_configuration(s.view(), usize::MAX).is_err());
    assert_eq!(check_configuration(s.view(), 2).unwrap(), 4);
    // lattice_sums used to take `% 0` on an empty array and index out of bounds on
    // a non-square one.
    assert!(lattice_sums(Array2::<i8>::zeros((0, 0)).view()).is_err());
    assert!(lattice_sums(Array2::<i8>::ones((3, 4)).view()).is_err());
    assert!(lattice_sums(Array2::<i8>::zeros((4, 4)).view()).is_err());
    assert_eq!(lattice_sums(s.view()).unwrap()[0], 32.0);
}

#[test]
fn blocking_of_constant_and_extreme_series_is_finite() {
    // A constant series: both errors 0, tau used to be 0/0 = NaN.
    let b = stats::blocking(&[3.0; 256]).unwrap();
    assert_eq!((b.mean, b.std_error, b.naive_std_error), (3.0, 0.0, 0.0));
    assert_eq!(b.autocorrelation_time(), 0.5);
    // Values near f64::MAX used to overflow the sums; tiny ones to underflow the
    // squares. Scaling by a power of two gives exactly the scaled answer.
    let x: Vec<f64> = (0..256).map(|i| ((i * 37 % 11) as f64) - 5.0).collect();
    let reference = stats::blocking(&x).unwrap();
    for scale in [2f64.powi(1000), 2f64.powi(-1000)] {
        let y: Vec<f64> = x.iter().map(|v| v * scale).collect();
        let b = stats::blocking(&y).unwrap();
        assert!(b.std_error.is_finite() && b.std_error > 0.0, "{scale}");
        assert!((b.std_error / scale - reference.std_error).abs() <= 1e-12 * reference.std_error);
        assert!(
            (b.autocorrelation_time() - reference.autocorrelation_time()).abs() < 1e-12,
            "{scale}"
        );
    }
}

#[test]
fn correlations_reject_non_finite_values_and_too_few_samples() {
    assert!(Correlations::new(0).is_err());
    assert!(Correlations::new(usize::MAX).is_err());
    let mut c = Correlations::new(2).unwrap();
    assert!(message(&c.push(&[f64::NAN, 0.0], &[0.0, 0.0]).unwrap_err()).contains("fine"));
    assert!(c.push(&[0.0, 0.0], &[0.0, f64::INFINITY]).is_err());
    assert!(c.push(&[1e200, 0.0], &[0.0, 0.0]).is_err());
    assert_eq!(c.count(), 0, "a rejected sample is not accumulated");
    // Two samples, two operators: the 2 x 2 covariance is singular; this used to
    // return a NaN or infinite y_t.
    c.push(&[1.0, 2.0], &[1.0, 3.0]).unwrap();
    c.push(&[2.0, 1.0], &[2.0, 5.0]).unwrap();
    assert!(c.thermal_exponent(2, 2).is_err());
    // Collinear operators: A is exactly singular whatever the number of samples.
    let mut c = Correlations::new(2).unwrap();
    for i in 0..50 {
        let x = ((i * 7) % 13) as f64;
        c.push(&[x, 2.0 * x], &[x, 2.0 * x]).unwrap();
    }
    match c.thermal_exponent(2, 2) {
        Ok(y) => assert!(y.is_finite(), "{y}"),
        Err(e) => assert!(matches!(e, Error::NoConvergence { .. }), "{e}"),
    }
    // b < 2 made ln b zero or -inf.
    assert!(message(&c.thermal_exponent(1, 1).unwrap_err()).contains("scale factor"));
    assert!(c.thermal_exponent(1, 0).is_err());
    assert!(c.thermal_exponent(1, 2).unwrap().is_finite());
}

#[test]
fn ising_sizes_that_cannot_be_held_are_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let lattice = Lattice::square(4).unwrap();
    let options = sampling::SamplerOptions::new().burn_in(1_000_000_000);
    // The n x 16 bytes overflow: refused before the (huge) burn-in starts.
    let e = sampling::sample(
        &lattice,
        CRITICAL_TEMPERATURE,
        usize::MAX / 8,
        &options,
        &mut rng,
    )
    .unwrap_err();
    assert!(message(&e).contains("samples of 16 sites"), "{e}");
    // Kaufman's product used to loop l times and compute l * l unchecked.
    assert!(exact::square(1 << 40, CRITICAL_TEMPERATURE).is_err());
    assert!(exact::square(usize::MAX, CRITICAL_TEMPERATURE).is_err());
    assert!(tnlearn::ising::snake_order(usize::MAX, 2).is_err());
    assert_eq!(tnlearn::ising::snake_order(2, 2).unwrap(), vec![0, 1, 3, 2]);
    // Fallible tables agree with the infallible ones.
    assert_eq!(lattice.try_bonds().unwrap(), lattice.bonds());
    assert_eq!(lattice.try_neighbors().unwrap(), lattice.neighbors());
}

#[test]
fn exact_answers_are_finite_or_errors_at_extreme_temperatures() {
    let temperatures = [1e-6, 1e-3, 0.5, 1e3, 1e6, 1e7, 1e100, 1e300, f64::MAX];
    let finite = |t: &exact::Thermodynamics| {
        [
            t.log_z_per_site,
            t.energy_per_site,
            t.heat_capacity_per_site,
            t.entropy_per_site,
        ]
        .iter()
        .all(|v| v.is_finite())
    };
    let mut failures = Vec::new();
    for &temp in &temperatures {
        let results = [
            exact::chain(6, temp),
            exact::chain_limit(temp),
            exact::square(4, temp),
            exact::enumerate(&Lattice::square(3).unwrap(), temp).map(|e| e.thermodynamics),
        ];
        for (k, r) in results.iter().enumerate() {
            match r {
                Ok(t) if !finite(t) => failures.push(format!("function {k} at T = {temp}: {t:?}")),
                Err(e) if !message(e).contains("temperature") => failures.push(e.to_string()),
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn mcrg_options_bound_runs() {
    use tnlearn::ising::mcrg::{McrgOptions, MAX_RUNS};
    // 2 * runs used to overflow; runs were allocated unbounded.
    let e = McrgOptions::new()
        .runs(usize::MAX)
        .samples(usize::MAX)
        .validate()
        .unwrap_err();
    assert!(message(&e).contains("runs"), "{e}");
    assert!(McrgOptions::new()
        .runs(MAX_RUNS + 1)
        .samples(usize::MAX)
        .validate()
        .is_err());
    assert!(McrgOptions::new().validate().is_ok());
}

#[test]
fn cones_and_importance_weights_check_their_inputs() {
    use tnlearn::cora::Cone;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let model = Cora::random(Architecture::chain(8).levels(2), &mut rng).unwrap();
    let geo = model.geometry();
    // Levels beyond J used to index out of bounds.
    assert!(message(&Cone::compute(geo, 0, &[1], 3).unwrap_err()).contains("top"));
    assert!(message(&Cone::compute(geo, 5, &[1], 2).unwrap_err()).contains("base"));
    assert!(Cone::compute(geo, 0, &[1, 2], 2).is_ok());
    // k importance samples used to be allocated with vec![0.0; k].
    let data = tnlearn::data::Dataset::binary(model.sample(2, &mut rng).unwrap()).unwrap();
    let e = model
        .log_likelihood_bounds(&data, usize::MAX, &mut rng)
        .unwrap_err();
    assert!(message(&e).contains('k'), "{e}");
}

#[test]
fn windows_refuse_tables_that_cannot_be_held() {
    use tnlearn::cora::Geometry;
    // 2^28 data sites are fine to describe (nothing is allocated per site)...
    let geo = Geometry::new(Architecture::square_2x2(1 << 14, 1 << 14).levels(13)).unwrap();
    assert_eq!(geo.num_sites(0), 1 << 28);
    // ...but (2^13 + 1)^2 windows of 2^26 sites each used to be allocated.
    let e = geo.windows(0, (1 << 13, 1 << 13)).unwrap_err();
    assert!(message(&e).contains("patch"), "{e}");
    // 2^28 windows of one site: each window's own vector counts too.
    assert!(geo.windows(0, (1, 1)).is_err());
    let small = Geometry::new(Architecture::square_2x2(8, 8).levels(2)).unwrap();
    assert_eq!(small.windows(0, (2, 2)).unwrap().len(), 49);
}
