//! Models that numpy opens: `export_npz` / `import_npz` of [`MpsBornMachine`] and
//! [`TtnBornMachine`].
//!
//! # Layout (format version 1)
//! One uncompressed `.npz` archive (numpy: `np.load(path)`), all arrays C-order:
//!
//! | member | dtype, shape | content |
//! |---|---|---|
//! | `meta` | `uint8`, 1-D | a JSON document (`json.loads(bytes(z["meta"]))`): `model` (`"mps_born_machine"` or `"ttn_born_machine"`), `format_version` (1), `num_sites`, `num_states`, `center`, `options` (readable copy), and for the TTN `children`: per node `[[kind, index], [kind, index]]`, kind `"node"` or `"site"`, and `root` |
//! | `options` | `uint8`, 1-D | the training options in tnlearn's binary layout (what `import_npz` reads back; see `MpsBornMachine::save`) |
//! | `site_00000` ... | `float64`, `(D_left, d, D_right)` | MPS site tensors `A_k`, `psi(x) = A_0[x_0] ... A_{N-1}[x_{N-1}]` (boundary bonds 1) |
//! | `node_00000` ... | `float64`, `(D_parent, D_left, D_right)` | TTN node tensors; a child leg that is a site has dimension `d`; the root's parent leg is 1 |
//!
//! `p(x) = psi(x)^2 / Z` with `Z = ||T_center||_F^2` (the tensors are in canonical
//! form about `center`, so `Z` is the squared norm of the centre tensor; it is 1 up
//! to rounding). `examples/python/born_npz.py` computes `ln p(x)` from the archive
//! with numpy alone.
//!
//! `import_npz` verifies what exactness depends on, as `load` does: shapes, finite
//! values, the canonical form about `center` (within
//! [`CANONICAL_TOL`]), the tree.

use std::path::Path;

use ndarray::{Array3, ArrayD, Ix3};
use serde_json::{json, Value};

use super::checks::check_num_states;
use super::options::BornOptions;
use super::{MpsBornMachine, TtnBornMachine};
use crate::error::Result;
use crate::io::container::{Reader, Writer};
use crate::io::npz::{json_str, json_usize, NpzIn, NpzOut};
use crate::mps::{Mps, CANONICAL_TOL};
use crate::ttn::{Child, Tree, Ttn};

/// The `format_version` written and the newest one read.
const FORMAT_VERSION: usize = 1;
const MPS_MODEL: &str = "mps_born_machine";
const TTN_MODEL: &str = "ttn_born_machine";

fn site_name(k: usize) -> String {
    format!("site_{k:05}")
}

fn node_name(v: usize) -> String {
    format!("node_{v:05}")
}

/// The readable copy of the options in `meta`.
fn options_json(o: &BornOptions) -> Value {
    json!({
        "max_bond": o.truncation.max_bond,
        "min_bond": o.truncation.min_bond,
        "cutoff": o.truncation.cutoff,
        "mode": format!("{:?}", o.truncation.mode),
        "learning_rate": o.learning_rate,
        "steps_per_bond": o.steps_per_bond,
        "batch_size": o.batch_size,
        "sweeps": o.sweeps,
        "seed": o.seed,
        "initial_bond": o.initial_bond,
        "step_rule": format!("{:?}", o.step_rule),
        "checkpoint_every": o.checkpoint_every,
    })
}

/// Starts an archive: `meta` (with `extra` fields merged in) and `options`.
fn begin(path: &Path, model: &str, meta: Value, options: &BornOptions) -> Result<NpzOut> {
    let mut out = NpzOut::create(path)?;
    let mut m = json!({ "model": model, "format_version": FORMAT_VERSION });
    if let (Some(m), Value::Object(extra)) = (m.as_object_mut(), meta) {
        m.extend(extra);
        m.insert("options".into(), options_json(options));
    }
    out.json("meta", &m)?;
    let mut w = Writer::new();
    options.write_bytes(&mut w);
    out.bytes("options", &w.into_bytes())?;
    Ok(out)
}

/// Opens an archive written by [`begin`] for `model`: its `meta`, the options,
/// `num_states` and `center` (checked for range by the caller).
fn open(path: &Path, model: &str) -> Result<(NpzIn, Value, BornOptions)> {
    let mut npz = NpzIn::open(path)?;
    let meta = npz.json("meta")?;
    let found = json_str(&npz, &meta, "model")?;
    if found != model {
        return Err(npz.error(format!(
            "meta: this archive holds a {found:?}, not a {model:?}"
        )));
    }
    let version = json_usize(&npz, &meta, "format_version")?;
    if version == 0 || version > FORMAT_VERSION {
        return Err(npz.error(format!(
            "meta: format_version {version} is not supported (this tnlearn reads 1..={FORMAT_VERSION})"
        )));
    }
    let bytes = npz.bytes("options")?;
    let mut r = Reader::new(npz.path(), &bytes);
    let options = BornOptions::read_bytes(&mut r, true)?;
    if r.remaining() != 0 {
        return Err(npz.error(format!(
            "member \"options\": {} unexpected bytes after the options",
            r.remaining()
        )));
    }
    options
        .validate()
        .map_err(|e| npz.error(format!("member \"options\": {e}")))?;
    Ok((npz, meta, options))
}

/// The 3-tensor member `name` (any other dimension is an error naming it).
fn array3(npz: &mut NpzIn, name: &str) -> Result<Array3<f64>> {
    let a: ArrayD<f64> = npz.f64s(name)?;
    let shape = a.shape().to_vec();
    a.into_dimensionality::<Ix3>().map_err(|_| {
        npz.error(format!(
            "member {name:?} has shape {shape:?}, expected 3 dimensions"
        ))
    })
}

/// Members `name(0)`, `name(1)`, ... up to `count`, each checked to exist before
/// it is read (so a `count` from the metadata sizes nothing by itself).
fn tensors(npz: &mut NpzIn, count: usize, name: fn(usize) -> String) -> Result<Vec<Array3<f64>>> {
    let mut out = Vec::new();
    for k in 0..count {
        let n = name(k);
        if !npz.has(&n) {
            return Err(npz.error(format!(
                "member {n:?} is missing ({count} announced by meta)"
            )));
        }
        out.push(array3(npz, &n)?);
    }
    if npz.has(&name(count)) {
        return Err(npz.error(format!(
            "member {:?} is beyond the {count} announced by meta",
            name(count)
        )));
    }
    Ok(out)
}

impl MpsBornMachine {
    /// Writes the model to an `.npz` archive that numpy reads without tnlearn
    /// (layout in the [module documentation](self): `meta` JSON, `options`, one
    /// `site_NNNNN` float64 array per site); [`MpsBornMachine::import_npz`] reads it
    /// back exactly.
    ///
    /// ```
    /// use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine};
    ///
    /// let m = MpsBornMachine::new(6, 2, BornOptions::new().initial_bond(3))?;
    /// let path = std::env::temp_dir().join("tnlearn_doc_mps_export.npz");
    /// m.export_npz(&path)?;
    /// let back = MpsBornMachine::import_npz(&path)?;
    /// assert_eq!(back.tensors(), m.tensors());
    /// assert_eq!(back.log_prob(&[0, 1, 1, 0, 1, 0])?, m.log_prob(&[0, 1, 1, 0, 1, 0])?);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the path if writing fails.
    pub fn export_npz(&self, path: impl AsRef<Path>) -> Result<()> {
        let meta = json!({
            "num_sites": self.num_sites(),
            "num_states": self.num_states,
            "center": self.center(),
        });
        let mut out = begin(path.as_ref(), MPS_MODEL, meta, &self.options)?;
        for (k, a) in self.tensors().iter().enumerate() {
            out.f64s(&site_name(k), a)?;
        }
        out.finish()
    }

    /// Reads a model written by [`MpsBornMachine::export_npz`] (or by numpy in the
    /// same layout), verifying it as [`MpsBornMachine::load`] does.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the file cannot be read;
    /// [`Error::Format`](crate::Error::Format) naming the file and the problem: not
    /// a zip archive, a missing or extra member, `meta` that is not this model's
    /// JSON, an array of another dtype or dimension, bonds that do not chain,
    /// non-finite values, tensors not canonical about `center`.
    pub fn import_npz(path: impl AsRef<Path>) -> Result<Self> {
        let (mut npz, meta, options) = open(path.as_ref(), MPS_MODEL)?;
        let n = json_usize(&npz, &meta, "num_sites")?;
        let d = json_usize(&npz, &meta, "num_states")?;
        let center = json_usize(&npz, &meta, "center")?;
        check_num_states(d).map_err(|e| npz.error(format!("meta: {e}")))?;
        if n < 2 || center >= n {
            return Err(npz.error(format!(
                "meta: num_sites = {n}, center = {center}: need at least 2 sites and center < num_sites"
            )));
        }
        let sites = tensors(&mut npz, n, site_name)?;
        if let Some(k) = sites.iter().position(|a| a.dim().1 != d) {
            return Err(npz.error(format!(
                "site {k} has shape {:?}, but num_states = {d}",
                sites[k].shape()
            )));
        }
        let mut mps = Mps::from_tensors(sites).map_err(|e| npz.error(e.to_string()))?;
        mps.check_canonical(center, CANONICAL_TOL)
            .map_err(|e| npz.error(e.to_string()))?;
        mps.center = Some(center);
        Ok(MpsBornMachine {
            mps,
            num_states: d,
            options,
        })
    }
}

impl TtnBornMachine {
    /// Writes the model to an `.npz` archive that numpy reads without tnlearn
    /// (layout in the [module documentation](self): `meta` JSON with the tree,
    /// `options`, one `node_NNNNN` float64 array per node);
    /// [`TtnBornMachine::import_npz`] reads it back exactly.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the path if writing fails.
    pub fn export_npz(&self, path: impl AsRef<Path>) -> Result<()> {
        let tree = self.tree();
        let children: Vec<Value> = tree
            .all_children()
            .iter()
            .map(|ch| {
                Value::Array(
                    ch.iter()
                        .map(|c| match *c {
                            Child::Node(u) => json!(["node", u]),
                            Child::Site(s) => json!(["site", s]),
                        })
                        .collect(),
                )
            })
            .collect();
        let meta = json!({
            "num_sites": self.num_sites(),
            "num_states": self.num_states(),
            "center": self.center(),
            "root": tree.root(),
            "children": children,
        });
        let mut out = begin(path.as_ref(), TTN_MODEL, meta, &self.options)?;
        for (v, t) in self.tensors().iter().enumerate() {
            out.f64s(&node_name(v), t)?;
        }
        out.finish()
    }

    /// Reads a model written by [`TtnBornMachine::export_npz`], verifying it as
    /// [`TtnBornMachine::load`] does (the tree, the shapes, finite values, the
    /// canonical form about `center`).
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the file cannot be read;
    /// [`Error::Format`](crate::Error::Format) naming the file and the problem.
    pub fn import_npz(path: impl AsRef<Path>) -> Result<Self> {
        let (mut npz, meta, options) = open(path.as_ref(), TTN_MODEL)?;
        let d = json_usize(&npz, &meta, "num_states")?;
        let center = json_usize(&npz, &meta, "center")?;
        check_num_states(d).map_err(|e| npz.error(format!("meta: {e}")))?;
        let Some(list) = meta.get("children").and_then(Value::as_array) else {
            return Err(npz.error("meta: \"children\" is missing or not a list"));
        };
        let mut children = Vec::new();
        for (v, ch) in list.iter().enumerate() {
            let pair = ch.as_array().filter(|p| p.len() == 2);
            let parsed: Option<Vec<Child>> = pair.map(|p| {
                p.iter()
                    .filter_map(|c| {
                        let kind = c.get(0)?.as_str()?;
                        let idx = usize::try_from(c.get(1)?.as_u64()?).ok()?;
                        match kind {
                            "node" => Some(Child::Node(idx)),
                            "site" => Some(Child::Site(idx)),
                            _ => None,
                        }
                    })
                    .collect()
            });
            match parsed.as_deref() {
                Some(&[a, b]) => children.push([a, b]),
                _ => {
                    return Err(npz.error(format!(
                        "meta: children of node {v} must be two [\"node\"|\"site\", index] pairs, got {ch}"
                    )))
                }
            }
        }
        let tree = Tree::new(children).map_err(|e| npz.error(format!("invalid tree: {e}")))?;
        if tree.num_sites() < 3 {
            return Err(npz.error("a TTN Born machine needs at least 3 sites"));
        }
        let nodes = tree.num_nodes();
        if center >= nodes {
            return Err(npz.error(format!(
                "meta: center {center} out of range for {nodes} nodes"
            )));
        }
        let ts = tensors(&mut npz, nodes, node_name)?;
        let mut ttn = Ttn::from_tensors(tree, d, ts)
            .map_err(|e| npz.error(format!("node tensors do not fit the tree: {e}")))?;
        if let Some(v) = ttn.tensors.iter().position(|t| t.is_empty()) {
            return Err(npz.error(format!("node {v} has a dimension 0")));
        }
        ttn.check_canonical(center, CANONICAL_TOL)
            .map_err(|e| npz.error(e.to_string()))?;
        ttn.center = Some(center);
        Ok(TtnBornMachine { ttn, options })
    }
}
