//! Mutated model files: `TNLBORN` (MPS Born machine), `TNLTTN`, `TNLCORA`. The base
//! files are small models written by the library's own `save`; mutations are
//! resealed (payload length and CRC-32 of the container recomputed, see
//! `src/io/container.rs`) so that they reach the model parsers.

use std::path::Path;
use std::sync::OnceLock;

use ndarray::Array2;
use rand::Rng;
use tnlearn::cora::{Architecture, Boundary};
use tnlearn::ttn::Tree;
use tnlearn::{BornMachine, BornOptions, Cora, MpsBornMachine, TtnBornMachine};

use crate::common::{mutate, put, rng_for, special, Class, Field, Outcome};

/// Container header: magic (8), version (4), payload length (8).
const HEADER: usize = 20;

/// Largest number of configurations enumerated to check normalisation.
const MAX_ENUMERATE: usize = 4096;

pub const MPS_FILE: Class = Class {
    name: "tnlborn",
    run: run_mps,
    describe,
};
pub const TTN_FILE: Class = Class {
    name: "tnlttn",
    run: run_ttn,
    describe,
};
pub const CORA_FILE: Class = Class {
    name: "tnlcora",
    run: run_cora,
    describe,
};

fn describe(seed: u64, index: u64) -> String {
    format!(
        "model file seed {seed} input {index}: the mutated file is left in the scratch directory"
    )
}

/// Valid files saved by the library: a few models of each kind.
fn bases(kind: &str) -> &'static [Vec<u8>] {
    static MPS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    static TTN: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    static CORA: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let dir = crate::common::scratch_dir();
    let save = |name: &str, f: &dyn Fn(&Path)| {
        let p = dir.join(name);
        f(&p);
        std::fs::read(&p).expect("read back a saved model")
    };
    match kind {
        "mps" => MPS.get_or_init(|| {
            [(4, 2, 2), (6, 2, 3), (3, 3, 2), (8, 2, 4)]
                .iter()
                .map(|&(n, d, b)| {
                    let opts = BornOptions::new().initial_bond(b).seed(n as u64);
                    let m = MpsBornMachine::new(n, d, opts).expect("base MPS model");
                    save("base.tnlborn", &|p| m.save(p).expect("save MPS"))
                })
                .collect()
        }),
        "ttn" => TTN.get_or_init(|| {
            [(4, 2, 2), (6, 2, 3), (3, 3, 2), (8, 2, 2)]
                .iter()
                .map(|&(n, d, b)| {
                    let opts = BornOptions::new().initial_bond(b).seed(n as u64);
                    let tree = Tree::balanced(n).expect("base tree");
                    let m = TtnBornMachine::new(tree, d, opts).expect("base TTN model");
                    save("base.tnlttn", &|p| m.save(p).expect("save TTN"))
                })
                .collect()
        }),
        _ => CORA.get_or_init(|| {
            let archs = [
                Architecture::chain(8).levels(2).chi(2),
                Architecture::chain(4).levels(1).chi(3).num_states(3),
                Architecture::square_2x2(4, 4).levels(1).chi(2),
                Architecture::chain(8)
                    .levels(2)
                    .chi_per_level(vec![3, 2])
                    .boundary(Boundary::Periodic),
            ];
            archs
                .into_iter()
                .enumerate()
                .map(|(k, arch)| {
                    let mut rng = rng_for(k as u64, 0, 77);
                    let m = Cora::random(arch, &mut rng).expect("base CORA model");
                    save("base.tnlcora", &|p| m.save(p).expect("save CORA"))
                })
                .collect()
        }),
    }
}

/// A mutated copy of one of the base files of `kind`, written to `scratch`.
fn mutated_file(
    kind: &str,
    seed: u64,
    index: u64,
    scratch: &Path,
    salt: u64,
) -> std::path::PathBuf {
    let mut rng = rng_for(seed, index, salt);
    let all = bases(kind);
    let base = &all[rng.random_range(0..all.len())];
    let mut bytes = base.clone();
    let sealed = rng.random_bool(0.9);
    if sealed {
        // Mutate the payload, then reseal with the right length and CRC.
        let mut payload = bytes[HEADER..bytes.len() - 4].to_vec();
        let fields: Vec<(usize, Field)> = (0..payload.len().min(160) / 8)
            .map(|k| (8 * k, Field::U64Le))
            .chain((0..payload.len().min(64)).map(|k| (k, Field::U64Le)))
            .collect();
        if rng.random_bool(0.1) {
            // Only the last bytes: the tensors' values.
            let at = rng.random_range(0..payload.len().saturating_sub(8).max(1));
            put(
                &mut payload,
                at,
                Field::U64Le,
                crate::common::special_f64(&mut rng).to_bits(),
            );
        } else {
            mutate(&mut rng, &mut payload, &fields);
        }
        bytes.truncate(HEADER);
        let plen = if rng.random_bool(0.05) {
            special(&mut rng)
        } else {
            payload.len() as u64
        };
        bytes[12..20].copy_from_slice(&plen.to_le_bytes());
        if rng.random_bool(0.03) {
            put(&mut bytes, 8, Field::U32Le, special(&mut rng));
        }
        bytes.extend_from_slice(&payload);
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
    } else {
        let fields = [(8, Field::U32Le), (12, Field::U64Le)];
        mutate(&mut rng, &mut bytes, &fields);
    }
    let path = scratch.join(format!("fuzz-input-{kind}.model"));
    std::fs::write(&path, &bytes).expect("write the fuzz input");
    path
}

/// `sample(2)` of a loaded model must give 2 rows of `n` values `< d`.
fn check_two_samples(result: tnlearn::Result<Array2<u8>>, n: usize, d: usize) -> Outcome {
    match result {
        Ok(s) if s.dim() == (2, n) && s.iter().all(|&v| usize::from(v) < d) => Outcome::Ok,
        Ok(s) => Outcome::Invalid(format!(
            "sample(2) returned shape {:?} or values >= {d}",
            s.dim()
        )),
        Err(e) => Outcome::Invalid(format!("loaded, but sample(2) fails: {e}")),
    }
}

/// All configurations of `n` sites with `d` states, or `None` if more than
/// [`MAX_ENUMERATE`].
fn all_configs(n: usize, d: usize) -> Option<Array2<u8>> {
    let count = (0..n).try_fold(1usize, |a, _| {
        a.checked_mul(d).filter(|&c| c <= MAX_ENUMERATE)
    })?;
    Some(Array2::from_shape_fn((count, n), |(i, j)| {
        ((i / d.pow((n - 1 - j) as u32)) % d) as u8
    }))
}

/// Checks that a loaded Born machine is normalised (when small enough) and samples.
fn check_born<M: BornMachine>(
    m: &M,
    log_probs: impl Fn(&Array2<u8>) -> tnlearn::Result<Vec<f64>>,
    seed: u64,
) -> Outcome {
    let (n, d) = (m.num_sites(), m.num_states());
    if let Some(configs) = all_configs(n, d) {
        let lp = match log_probs(&configs) {
            Ok(v) => v,
            Err(e) => return Outcome::Invalid(format!("loaded, but log_probs fails: {e}")),
        };
        if let Some((i, v)) = lp
            .iter()
            .enumerate()
            .find(|(_, v)| v.is_nan() || **v > 1e-12)
        {
            return Outcome::Invalid(format!("log_prob of configuration {i} is {v}"));
        }
        let sum: f64 = lp.iter().map(|v| v.exp()).sum();
        if (sum - 1.0).abs() > 1e-10 {
            return Outcome::Invalid(format!("probabilities sum to {sum:.15}, not 1"));
        }
    }
    let mut rng = rng_for(seed, 0, 5);
    check_two_samples(m.sample(2, &mut rng), n, d)
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn run_mps(seed: u64, index: u64, scratch: &Path) -> Outcome {
    let path = mutated_file("mps", seed, index, scratch, 1);
    match MpsBornMachine::load(&path) {
        Ok(m) => check_born(&m, |c| m.log_probs(c.view()), seed ^ index),
        Err(e) => Outcome::from_error(&e, Some(&file_name(&path))),
    }
}

fn run_ttn(seed: u64, index: u64, scratch: &Path) -> Outcome {
    let path = mutated_file("ttn", seed, index, scratch, 2);
    match TtnBornMachine::load(&path) {
        Ok(m) => check_born(&m, |c| m.log_probs(c.view()), seed ^ index),
        Err(e) => Outcome::from_error(&e, Some(&file_name(&path))),
    }
}

fn run_cora(seed: u64, index: u64, scratch: &Path) -> Outcome {
    let path = mutated_file("cora", seed, index, scratch, 3);
    match Cora::load(&path) {
        Ok(m) => check_cora(&m, seed, index),
        Err(e) => Outcome::from_error(&e, Some(&file_name(&path))),
    }
}

/// Checks that a loaded CORA model is normalised (when small enough) and samples.
fn check_cora(m: &Cora, seed: u64, index: u64) -> Outcome {
    let (n, d) = (m.num_sites(), m.num_states());
    if all_configs(n, d).is_some() {
        let sites: Vec<usize> = (0..n).collect();
        match m.marginal(&sites) {
            Ok(p) => {
                let v = p.as_slice();
                if let Some(x) = v.iter().find(|x| x.is_nan() || **x < -1e-12) {
                    return Outcome::Invalid(format!("a probability is {x}"));
                }
                let sum: f64 = v.iter().sum();
                if (sum - 1.0).abs() > 1e-10 {
                    return Outcome::Invalid(format!("probabilities sum to {sum:.15}, not 1"));
                }
            }
            Err(e) => return Outcome::Invalid(format!("loaded, but the full marginal fails: {e}")),
        }
    }
    let mut rng = rng_for(seed, index, 6);
    check_two_samples(m.sample(2, &mut rng), n, d)
}

// ------------------------------------------------- exported .npz (import_npz)

pub const NPZ_MODEL: Class = Class {
    name: "npz-born",
    run: run_npz,
    describe,
};

/// One member of an exported archive.
#[derive(Clone)]
enum Member {
    Bytes(Vec<u8>),
    Floats(ndarray::ArrayD<f64>),
}

/// The named members of one archive.
type Members = Vec<(String, Member)>;

/// The members of the base archives (MPS and TTN models written by `export_npz`),
/// with a flag: `true` for a TTN.
fn npz_bases() -> &'static [(bool, Members)] {
    static BASES: OnceLock<Vec<(bool, Members)>> = OnceLock::new();
    BASES.get_or_init(|| {
        let dir = crate::common::scratch_dir();
        let mut out = Vec::new();
        for &(n, d, b) in &[(4, 2, 2), (5, 3, 3)] {
            let opts = BornOptions::new().initial_bond(b).seed(n as u64);
            let p = dir.join("base-mps.npz");
            MpsBornMachine::new(n, d, opts)
                .unwrap()
                .export_npz(&p)
                .unwrap();
            out.push((false, read_members(&p)));
            let p = dir.join("base-ttn.npz");
            let tree = Tree::balanced(n).unwrap();
            TtnBornMachine::new(tree, d, opts)
                .unwrap()
                .export_npz(&p)
                .unwrap();
            out.push((true, read_members(&p)));
        }
        out
    })
}

/// The members of an archive: `meta` and `options` as bytes, the rest as floats.
fn read_members(path: &Path) -> Members {
    let mut r = ndarray_npy::NpzReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let names = r.names().unwrap();
    names
        .into_iter()
        .map(|n| {
            let name = n.trim_end_matches(".npy").to_string();
            let m = if name == "meta" || name == "options" {
                let a: ndarray::Array1<u8> = r.by_name(&n).unwrap();
                Member::Bytes(a.to_vec())
            } else {
                Member::Floats(r.by_name(&n).unwrap())
            };
            (name, m)
        })
        .collect()
}

/// A JSON value chosen to break a field: huge, negative, fractional, wrong type.
fn bad_json<R: Rng>(rng: &mut R) -> serde_json::Value {
    use serde_json::json;
    match rng.random_range(0..8) {
        0 => json!(special(rng)),
        1 => json!(-1),
        2 => json!(1.5),
        3 => json!("x"),
        4 => json!(null),
        5 => json!([]),
        6 => json!(rng.random_range(0..12)),
        _ => json!(u64::MAX),
    }
}

fn run_npz(seed: u64, index: u64, scratch: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 8);
    let bases = npz_bases();
    let (is_ttn, base) = &bases[rng.random_range(0..bases.len())];
    let path = scratch.join("fuzz-input.npz");
    write_mutated_npz(base, &path, &mut rng);
    if *is_ttn {
        match TtnBornMachine::import_npz(&path) {
            Ok(m) => check_born(&m, |c| m.log_probs(c.view()), seed ^ index),
            Err(e) => Outcome::from_error(&e, Some(&file_name(&path))),
        }
    } else {
        match MpsBornMachine::import_npz(&path) {
            Ok(m) => check_born(&m, |c| m.log_probs(c.view()), seed ^ index),
            Err(e) => Outcome::from_error(&e, Some(&file_name(&path))),
        }
    }
}

/// Writes `base` with 1-3 mutations to `path` (15%: then bytes of the file
/// overwritten or the file truncated).
fn write_mutated_npz<R: Rng>(base: &Members, path: &Path, rng: &mut R) {
    let mut members = base.clone();
    let raw = rng.random_bool(0.15);
    for _ in 0..rng.random_range(1..4) {
        let k = rng.random_range(0..members.len());
        match rng.random_range(0..6) {
            // A metadata field (or a TTN child) replaced.
            0 | 1 => {
                if let Some((_, Member::Bytes(b))) = members.iter_mut().find(|(n, _)| n == "meta") {
                    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(b) {
                        let keys = [
                            "num_sites",
                            "num_states",
                            "center",
                            "root",
                            "format_version",
                            "model",
                        ];
                        let key = keys[rng.random_range(0..keys.len())];
                        if v.get("architecture").is_some() && rng.random_bool(0.5) {
                            // CORA: an architecture field, or one site of a block or group.
                            let fields = [
                                "rows",
                                "cols",
                                "levels",
                                "chi",
                                "num_states",
                                "scheme",
                                "boundary",
                                "boxes",
                                "sharing",
                            ];
                            if rng.random_bool(0.7) {
                                let f = fields[rng.random_range(0..fields.len())];
                                v["architecture"][f] = bad_json(rng);
                            } else {
                                let list = ["blocks", "groups", "refine_index", "box_index"]
                                    [rng.random_range(0..4)];
                                let levels = v["levels_detail"].as_array().map_or(0, |a| a.len());
                                if levels > 0 {
                                    let j = rng.random_range(0..levels);
                                    let entry = &mut v["levels_detail"][j][list];
                                    let len = entry.as_array().map_or(0, |a| a.len());
                                    if len > 0 {
                                        entry[rng.random_range(0..len)] = bad_json(rng);
                                    }
                                }
                            }
                        } else if rng.random_bool(0.3) && v.get("children").is_some() {
                            let c = &mut v["children"];
                            let len = c.as_array().map_or(0, |a| a.len());
                            if len > 0 {
                                let i = rng.random_range(0..len);
                                c[i][rng.random_range(0..2)][1] = bad_json(rng);
                            }
                        } else if rng.random_bool(0.2) {
                            v.as_object_mut().map(|o| o.remove(key));
                        } else {
                            v[key] = bad_json(rng);
                        }
                        *b = v.to_string().into_bytes();
                    } else {
                        b.truncate(b.len() / 2);
                    }
                }
            }
            // A value of a tensor.
            2 => {
                if let (_, Member::Floats(a)) = &mut members[k] {
                    if !a.is_empty() {
                        let i = rng.random_range(0..a.len());
                        a.as_slice_mut().unwrap()[i] = crate::common::special_f64(rng);
                    }
                }
            }
            // A tensor of another shape (fewer axes, or a bond one larger).
            3 => {
                if let (_, Member::Floats(a)) = &mut members[k] {
                    let mut shape = a.shape().to_vec();
                    if rng.random_bool(0.5) && shape.len() > 1 {
                        let last = shape.pop().unwrap();
                        shape[0] *= last;
                    } else if let Some(s) = shape.first_mut() {
                        *s += 1;
                    }
                    *a = ndarray::ArrayD::from_elem(shape, 0.5);
                }
            }
            // An options byte.
            4 => {
                if let Some((_, Member::Bytes(b))) =
                    members.iter_mut().find(|(n, _)| n == "options")
                {
                    if !b.is_empty() {
                        let i = rng.random_range(0..b.len());
                        b[i] = rng.random();
                    }
                }
            }
            // A member dropped.
            _ => {
                members.remove(k);
                if members.is_empty() {
                    break;
                }
            }
        }
    }
    {
        let mut w = ndarray_npy::NpzWriter::new(std::fs::File::create(path).unwrap());
        for (name, m) in &members {
            match m {
                Member::Bytes(b) => w.add_array(name.as_str(), &ndarray::Array1::from(b.clone())),
                Member::Floats(a) => w.add_array(name.as_str(), a),
            }
            .unwrap();
        }
        w.finish().unwrap();
    }
    if raw {
        let mut bytes = std::fs::read(path).unwrap();
        for _ in 0..rng.random_range(1..6) {
            let i = rng.random_range(0..bytes.len());
            bytes[i] = rng.random();
        }
        if rng.random_bool(0.2) {
            bytes.truncate(rng.random_range(0..bytes.len()));
        }
        std::fs::write(path, &bytes).unwrap();
    }
}

pub const NPZ_CORA: Class = Class {
    name: "npz-cora",
    run: run_npz_cora,
    describe,
};

/// The members of the base CORA archives (`Cora::export_npz`): a chain with boxes
/// and maps per position, a periodic 4x4 with boxes, a 3-state chain.
fn npz_cora_bases() -> &'static [Members] {
    static BASES: OnceLock<Vec<Members>> = OnceLock::new();
    BASES.get_or_init(|| {
        let dir = crate::common::scratch_dir();
        let mut rng = rng_for(0, 0, 9);
        let archs = [
            Architecture::chain(8)
                .levels(2)
                .boxes(true)
                .sharing(tnlearn::cora::MapSharing::PerPosition),
            Architecture::square_2x2(4, 4)
                .levels(2)
                .boxes(true)
                .boundary(Boundary::Periodic),
            Architecture::chain(6).levels(1).num_states(3),
        ];
        archs
            .into_iter()
            .map(|arch| {
                let p = dir.join("base-cora.npz");
                Cora::random(arch, &mut rng)
                    .unwrap()
                    .export_npz(&p)
                    .unwrap();
                read_members(&p)
            })
            .collect()
    })
}

fn run_npz_cora(seed: u64, index: u64, scratch: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 10);
    let bases = npz_cora_bases();
    let base = &bases[rng.random_range(0..bases.len())];
    let path = scratch.join("fuzz-input-cora.npz");
    write_mutated_npz(base, &path, &mut rng);
    match Cora::import_npz(&path) {
        Ok(m) => check_cora(&m, seed, index),
        Err(e) => Outcome::from_error(&e, Some(&file_name(&path))),
    }
}
