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
    let edit_meta = |f: &dyn Fn(&mut serde_json::Value)| {
        members(&good)
            .into_iter()
            .map(|(n, mm)| match (n.as_str(), mm) {
                ("meta", Member::Bytes(b)) => {
                    let mut v: serde_json::Value = serde_json::from_slice(&b).unwrap();
                    f(&mut v);
                    (n, Member::Bytes(v.to_string().into_bytes()))
                }
                (_, mm) => (n, mm),
            })
            .collect::<Vec<_>>()
    };
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
