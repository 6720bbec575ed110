//! `export_npz` / `import_npz`: exact round trips, archives that must be refused,
//! and the numpy-only reader `examples/python/born_npz.py` agreeing with tnlearn's
//! `log_prob`s to 1e-10 (run when python3 with numpy is present; CI sets
//! `TNL_REQUIRE_PYTHON=1` so that a missing numpy fails instead of skipping).

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{Array1, Array2, ArrayD};
use ndarray_npy::{NpzReader, NpzWriter, WriteNpyExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine, TtnBornMachine};
use tnlearn::{Dataset, Error};

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export_npz");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn random_data(n: usize, sites: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    Dataset::binary(Array2::from_shape_fn((n, sites), |_| {
        rng.random_range(0..2)
    }))
    .unwrap()
}

fn trained_mps() -> MpsBornMachine {
    let data = random_data(40, 10, 1);
    let mut m = MpsBornMachine::new(10, 2, BornOptions::new().max_bond(6).sweeps(2)).unwrap();
    m.fit(&data).unwrap();
    m
}

fn trained_ttn() -> TtnBornMachine {
    let data = random_data(40, 12, 2);
    let mut m =
        TtnBornMachine::for_image(3, 4, 2, BornOptions::new().max_bond(5).sweeps(2)).unwrap();
    m.fit(&data).unwrap();
    m
}

#[test]
fn mps_round_trip_is_exact() {
    let m = trained_mps();
    let p = tmp("mps.npz");
    m.export_npz(&p).unwrap();
    let back = MpsBornMachine::import_npz(&p).unwrap();
    assert_eq!(back.tensors(), m.tensors());
    assert_eq!(back.center(), m.center());
    assert_eq!(back.options(), m.options());
    let x = random_data(30, 10, 3);
    assert_eq!(
        back.log_probs(x.samples()).unwrap(),
        m.log_probs(x.samples()).unwrap()
    );
    // The other model's importer names what the archive holds.
    let e = TtnBornMachine::import_npz(&p).unwrap_err();
    assert!(e.to_string().contains("mps_born_machine"), "{e}");
}

#[test]
fn ttn_round_trip_is_exact() {
    let m = trained_ttn();
    let p = tmp("ttn.npz");
    m.export_npz(&p).unwrap();
    let back = TtnBornMachine::import_npz(&p).unwrap();
    assert_eq!(back.tensors(), m.tensors());
    assert_eq!(back.tree(), m.tree());
    assert_eq!(back.options(), m.options());
    let x = random_data(30, 12, 4);
    assert_eq!(
        back.log_probs(x.samples()).unwrap(),
        m.log_probs(x.samples()).unwrap()
    );
}

/// Every member of an archive: (name, bytes or float array).
enum Member {
    Bytes(Vec<u8>),
    Floats(ArrayD<f64>),
}

fn members(path: &Path) -> Vec<(String, Member)> {
    let mut r = NpzReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let names = r.names().unwrap();
    names
        .into_iter()
        .map(|n| {
            let name = n.trim_end_matches(".npy").to_string();
            if name == "meta" || name == "options" {
                let a: Array1<u8> = r.by_name(&n).unwrap();
                (name, Member::Bytes(a.to_vec()))
            } else {
                (name, Member::Floats(r.by_name(&n).unwrap()))
            }
        })
        .collect()
}

/// The members of the archive `good` with its JSON `meta` member edited by `f`.
fn with_meta(good: &Path, f: &dyn Fn(&mut serde_json::Value)) -> Vec<(String, Member)> {
    members(good)
        .into_iter()
        .map(|(n, mm)| match (n.as_str(), mm) {
            ("meta", Member::Bytes(b)) => {
                let mut v: serde_json::Value = serde_json::from_slice(&b).unwrap();
                f(&mut v);
                (n, Member::Bytes(v.to_string().into_bytes()))
            }
            (_, mm) => (n, mm),
        })
        .collect()
}

fn write_members(path: &Path, ms: &[(String, Member)]) {
    let mut w = NpzWriter::new(std::fs::File::create(path).unwrap());
    for (name, m) in ms {
        match m {
            Member::Bytes(b) => w
                .add_array(name.as_str(), &Array1::from(b.clone()))
                .unwrap(),
            Member::Floats(a) => w.add_array(name.as_str(), a).unwrap(),
        }
    }
    w.finish().unwrap();
}

fn refused(path: &Path, needle: &str) {
    let e = MpsBornMachine::import_npz(path).unwrap_err();
    assert!(matches!(e, Error::Format { .. }), "{e:?}");
    assert!(e.to_string().contains(needle), "{needle:?} not in: {e}");
}

#[test]
fn damaged_archives_are_refused_with_a_reason() {
    let m = trained_mps();
    let good = tmp("good.npz");
    m.export_npz(&good).unwrap();
    let ms = members(&good);

    // A site scaled by 2: no longer canonical about the centre.
    let mut bad: Vec<(String, Member)> = members(&good);
    for (name, mm) in bad.iter_mut() {
        if name == "site_00005" {
            if let Member::Floats(a) = mm {
                a.mapv_inplace(|v| 2.0 * v);
            }
        }
    }
    let p = tmp("scaled.npz");
    write_members(&p, &bad);
    refused(&p, "canonical");

    // A missing site.
    let p = tmp("missing.npz");
    let fewer: Vec<_> = members(&good)
        .into_iter()
        .filter(|(n, _)| n != "site_00009")
        .collect();
    write_members(&p, &fewer);
    refused(&p, "site_00009");

    // A NaN.
    let mut nan = members(&good);
    for (name, mm) in nan.iter_mut() {
        if name == "site_00002" {
            if let Member::Floats(a) = mm {
                a.as_slice_mut().unwrap()[0] = f64::NAN;
            }
        }
    }
    let p = tmp("nan.npz");
    write_members(&p, &nan);
    refused(&p, "NaN");

    // Meta that lies about the size, and meta that is not JSON.
    let edit_meta = |f: &dyn Fn(&mut serde_json::Value)| with_meta(&good, f);
    let p = tmp("huge.npz");
    write_members(
        &p,
        &edit_meta(&|v| v["num_sites"] = serde_json::json!(u64::MAX)),
    );
    refused(&p, "missing");
    let p = tmp("centre.npz");
    write_members(&p, &edit_meta(&|v| v["center"] = serde_json::json!(10)));
    refused(&p, "center");
    let p = tmp("version.npz");
    write_members(
        &p,
        &edit_meta(&|v| v["format_version"] = serde_json::json!(2)),
    );
    refused(&p, "format_version");
    let p = tmp("notjson.npz");
    let garbage: Vec<_> = ms
        .into_iter()
        .map(|(n, mm)| {
            if n == "meta" {
                (n, Member::Bytes(b"{oops".to_vec()))
            } else {
                (n, mm)
            }
        })
        .collect();
    write_members(&p, &garbage);
    refused(&p, "JSON");

    // Not an archive at all.
    let p = tmp("plain.npz");
    std::fs::write(&p, b"not a zip").unwrap();
    refused(&p, "not a zip archive");
}

fn python_numpy() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("TNL_REQUIRE_PYTHON").is_some() {
        panic!("TNL_REQUIRE_PYTHON is set but `python3 -c 'import numpy'` fails");
    }
    ok
}

/// Runs the numpy reader on `model` and samples `x` against `expected`.
fn run_script(model: &Path, x: &Array2<u8>, expected: &[f64], tag: &str) -> (bool, String) {
    let xs = tmp(&format!("{tag}_x.npy"));
    let es = tmp(&format!("{tag}_lp.npy"));
    x.write_npy(std::fs::File::create(&xs).unwrap()).unwrap();
    Array1::from(expected.to_vec())
        .write_npy(std::fs::File::create(&es).unwrap())
        .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python/born_npz.py");
    let out = Command::new("python3")
        .arg(script)
        .args([model, &xs, &es])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn numpy_alone_reproduces_log_probs() {
    if !python_numpy() {
        eprintln!(
            "skipped: python3 with numpy not found (set TNL_REQUIRE_PYTHON=1 to fail instead)"
        );
        return;
    }
    let mps = trained_mps();
    let ttn = trained_ttn();
    let (pm, pt) = (tmp("py_mps.npz"), tmp("py_ttn.npz"));
    mps.export_npz(&pm).unwrap();
    ttn.export_npz(&pt).unwrap();
    let mut rng = StdRng::seed_from_u64(9);
    let xm = mps.sample(20, &mut rng).unwrap();
    let xt = ttn.sample(20, &mut rng).unwrap();
    let lm = mps.log_probs(xm.view()).unwrap();
    let lt = ttn.log_probs(xt.view()).unwrap();
    let (ok, text) = run_script(&pm, &xm, &lm, "mps");
    assert!(ok, "MPS: {text}");
    let (ok, text) = run_script(&pt, &xt, &lt, "ttn");
    assert!(ok, "TTN: {text}");
    // The comparison can fail: values off by 1e-8 are refused.
    let off: Vec<f64> = lm.iter().map(|v| v + 1e-8).collect();
    let (ok, text) = run_script(&pm, &xm, &off, "mps_off");
    assert!(!ok, "a 1e-8 difference passed: {text}");
}

// ------------------------------------------------------------------ CORA

use tnlearn::cora::{Architecture, Boundary, Cora, MapSharing};

/// Small CORA models covering the geometry: a chain with boxes and maps per
/// position, a periodic 4x4 with boxes, a 3-state chain with maps per level.
fn coras() -> Vec<(&'static str, Cora)> {
    let mut rng = StdRng::seed_from_u64(12);
    vec![
        (
            "chain",
            Cora::random(
                Architecture::chain(8)
                    .levels(2)
                    .boxes(true)
                    .sharing(MapSharing::PerPosition),
                &mut rng,
            )
            .unwrap(),
        ),
        (
            "square",
            Cora::random(
                Architecture::square_2x2(4, 4)
                    .levels(1)
                    .boxes(true)
                    .boundary(Boundary::Periodic)
                    .sharing(MapSharing::PerPosition),
                &mut rng,
            )
            .unwrap(),
        ),
        (
            "states3",
            Cora::random(
                Architecture::chain(6)
                    .levels(1)
                    .num_states(3)
                    .sharing(MapSharing::PerLevel),
                &mut rng,
            )
            .unwrap(),
        ),
    ]
}

#[test]
fn cora_round_trip_is_exact() {
    for (tag, m) in coras() {
        let p = tmp(&format!("cora_{tag}.npz"));
        m.export_npz(&p).unwrap();
        let back = Cora::import_npz(&p).unwrap();
        assert_eq!(back.architecture(), m.architecture(), "{tag}");
        assert_eq!(back.top(), m.top(), "{tag}");
        for j in 1..=m.levels() {
            let g = m.geometry();
            for i in 0..g.num_refine_maps(j) {
                assert_eq!(back.refine_map(j, i).unwrap(), m.refine_map(j, i).unwrap());
                assert_eq!(back.prior(j, i).unwrap(), m.prior(j, i).unwrap());
            }
            for i in 0..g.num_box_maps(j) {
                assert_eq!(back.box_map(j, i).unwrap(), m.box_map(j, i).unwrap());
            }
        }
        let all: Vec<usize> = (0..m.num_sites()).collect();
        assert_eq!(back.marginal(&all).unwrap(), m.marginal(&all).unwrap());
    }
    // A Born machine's importer names what the archive holds, and vice versa.
    let p = tmp("cora_chain.npz");
    let e = MpsBornMachine::import_npz(&p).unwrap_err();
    assert!(e.to_string().contains("\"cora\""), "{e}");
    let mps = tmp("mps_for_cora.npz");
    trained_mps().export_npz(&mps).unwrap();
    let e = Cora::import_npz(&mps).unwrap_err();
    assert!(e.to_string().contains("mps_born_machine"), "{e}");
}

#[test]
fn damaged_cora_archives_are_refused_with_a_reason() {
    let (_, m) = coras().remove(0);
    let good = tmp("cora_good.npz");
    m.export_npz(&good).unwrap();
    let refused = |path: &Path, needle: &str| {
        let e = Cora::import_npz(path).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "{e:?}");
        assert!(e.to_string().contains(needle), "{needle:?} not in: {e}");
    };
    let edit = |name: &str, f: &dyn Fn(&mut ArrayD<f64>)| {
        members(&good)
            .into_iter()
            .map(|(n, mm)| match mm {
                Member::Floats(mut a) if n == name => {
                    f(&mut a);
                    (n, Member::Floats(a))
                }
                mm => (n, mm),
            })
            .collect::<Vec<_>>()
    };
    // A column that no longer sums to 1.
    let p = tmp("cora_unnormalised.npz");
    write_members(&p, &edit("refine_L1_00000", &|a| a[[0, 0]] += 0.5));
    refused(&p, "refine_L1_00000");
    // A negative entry and a NaN.
    let p = tmp("cora_negative.npz");
    write_members(&p, &edit("box_L1_00001", &|a| a[[1, 0]] = -0.1));
    refused(&p, "box_L1_00001");
    let p = tmp("cora_nan.npz");
    write_members(&p, &edit("top", &|a| a[[0, 0]] = f64::NAN));
    refused(&p, "top");
    // A map of another shape.
    let p = tmp("cora_shape.npz");
    let mut ms = members(&good);
    for (n, mm) in ms.iter_mut() {
        if n == "prior_L1_00000" {
            *mm = Member::Floats(ArrayD::from_elem(vec![3, 1], 1.0 / 3.0));
        }
    }
    write_members(&p, &ms);
    refused(&p, "shape");
    // A missing map and an extra one.
    let p = tmp("cora_missing.npz");
    let fewer: Vec<_> = members(&good)
        .into_iter()
        .filter(|(n, _)| n != "refine_L1_00003")
        .collect();
    write_members(&p, &fewer);
    refused(&p, "refine_L1_00003");
    let p = tmp("cora_extra.npz");
    let mut more = members(&good);
    let copy = more
        .iter()
        .find(|(n, _)| n == "refine_L1_00000")
        .map(|(_, mm)| match mm {
            Member::Floats(a) => a.clone(),
            Member::Bytes(_) => unreachable!(),
        })
        .unwrap();
    more.push(("refine_L1_99999".into(), Member::Floats(copy.clone())));
    more.push(("refine_L1_00004".into(), Member::Floats(copy)));
    write_members(&p, &more);
    refused(&p, "beyond");
    // Meta: a spelled-out block that disagrees, an impossible architecture.
    let edit_meta = |f: &dyn Fn(&mut serde_json::Value)| with_meta(&good, f);
    let p = tmp("cora_blocks.npz");
    write_members(
        &p,
        &edit_meta(&|v| v["levels_detail"][0]["blocks"][0][0] = serde_json::json!(7)),
    );
    refused(&p, "levels_detail");
    let p = tmp("cora_arch.npz");
    write_members(
        &p,
        &edit_meta(&|v| v["architecture"]["rows"] = serde_json::json!(u64::MAX)),
    );
    refused(&p, "architecture");
    let p = tmp("cora_scheme.npz");
    write_members(
        &p,
        &edit_meta(&|v| v["architecture"]["scheme"] = serde_json::json!("hexagonal")),
    );
    refused(&p, "hexagonal");
}

#[test]
fn numpy_alone_reproduces_cora_marginals() {
    if !python_numpy() {
        eprintln!(
            "skipped: python3 with numpy not found (set TNL_REQUIRE_PYTHON=1 to fail instead)"
        );
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python/cora_npz.py");
    let mut rng = StdRng::seed_from_u64(13);
    for (tag, m) in coras() {
        let p = tmp(&format!("py_cora_{tag}.npz"));
        m.export_npz(&p).unwrap();
        let x = m.sample(12, &mut rng).unwrap();
        let n = m.num_sites();
        // A few sites in a scrambled order, and all of them (ln p(x) itself).
        let regions = [vec![n - 1, 2, 0], (0..n).collect::<Vec<_>>()];
        for (r, region) in regions.iter().enumerate() {
            let expected: Vec<f64> = x
                .rows()
                .into_iter()
                .map(|row| m.log_marginal(row.as_slice().unwrap(), region).unwrap())
                .collect();
            let xs = tmp(&format!("py_cora_{tag}_{r}_x.npy"));
            let rs = tmp(&format!("py_cora_{tag}_{r}_region.npy"));
            let es = tmp(&format!("py_cora_{tag}_{r}_lp.npy"));
            x.write_npy(std::fs::File::create(&xs).unwrap()).unwrap();
            Array1::from(region.iter().map(|&s| s as u64).collect::<Vec<_>>())
                .write_npy(std::fs::File::create(&rs).unwrap())
                .unwrap();
            Array1::from(expected.clone())
                .write_npy(std::fs::File::create(&es).unwrap())
                .unwrap();
            let out = Command::new("python3")
                .arg(&script)
                .args([&p, &xs, &rs, &es])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{tag}, region {region:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            // The comparison can fail: values off by 1e-8 are refused.
            let off: Vec<f64> = expected.iter().map(|v| v + 1e-8).collect();
            Array1::from(off)
                .write_npy(std::fs::File::create(&es).unwrap())
                .unwrap();
            let out = Command::new("python3")
                .arg(&script)
                .args([&p, &xs, &rs, &es])
                .output()
                .unwrap();
            assert!(!out.status.success(), "{tag}: a 1e-8 difference passed");
        }
    }
}
