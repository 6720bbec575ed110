//! A CORA model that numpy opens: [`Cora::export_npz`] / [`Cora::import_npz`].
//!
//! # Layout (format version 1)
//! One uncompressed `.npz` archive (numpy: `np.load(path)`), all arrays C-order
//! `float64` of shape `(outputs, inputs)`, column-stochastic (`M[:, i]` is the
//! distribution of the output given input `i`; a block or group of sites is one
//! row-major index, first site slowest):
//!
//! | member | shape | content |
//! |---|---|---|
//! | `meta` | `uint8`, 1-D | a JSON document (`json.loads(bytes(z["meta"]))`), below |
//! | `top` | `(chi_J^(sites of Gamma_J), 1)` | the top distribution `e` over the sites of `Gamma_J`, row-major |
//! | `refine_L{j}_{m:05}` | `(chi_{j-1}^b, chi_j)` | refine map `m` of level `j = 1..=J`: `R(y_block | h_c)` |
//! | `box_L{j}_{m:05}` | `(chi_{j-1}^g, chi_{j-1}^g)` | box map `m` of level `j`: `B(z_group | y_group)` |
//! | `prior_L{j}_{m:05}` | `(chi_j, 1)` | coarse-graining prior `m` of level `j` (not part of `mu`) |
//!
//! `meta` holds `model` (`"cora"`), `format_version` (1), `architecture` (`scheme`
//! `"chain"`, `"square_2x2"` or `"square_3x3"`; `rows`, `cols`, `levels`, `chi` as
//! given, `num_states`, `boundary` `"open"` or `"periodic"`, `boxes`, `sharing`
//! `"per_level"` or `"per_position"`) and, spelled out so that a reader needs no
//! geometry code, `chi_per_level` (`chi_0 = num_states, ..., chi_J`), `dims` (rows
//! and columns of every `Gamma_j`) and `levels_detail`: per level `j = 1..=J` the
//! `blocks` (for every site `c` of `Gamma_j`, the sites of `Gamma_{j-1}` it emits,
//! row-major), `refine_index` (the refine map of every `c`), `groups` (the sites of
//! every box group, empty without boxes) and `box_index` (the box map of every
//! group). CORA has no training options stored in the model (EM options are
//! arguments of the fit methods), so there is no `options` member.
//!
//! The generative process (Beny's `mu`): draw the top sites from `top`; for `j = J,
//! ..., 1` emit every block from its refine map given its coarse site, then replace
//! every group by a draw of its box map. `examples/python/cora_npz.py` computes
//! exact marginals from the archive with numpy alone.
//!
//! `import_npz` verifies what exactness depends on: a valid architecture, the
//! spelled-out geometry equal to the architecture's, every map of the right shape,
//! finite, non-negative and column-stochastic within
//! [`STOCHASTIC_TOLERANCE`](super::STOCHASTIC_TOLERANCE).

use std::path::Path;

use ndarray::{ArrayD, Ix2};
use serde_json::{json, Value};

use super::geometry::{Architecture, BlockScheme, Boundary, Geometry, MapSharing};
use super::model::{top_entries, Cora};
use super::params::StochasticMap;
use crate::error::Result;
use crate::io::npz::{json_str, json_usize, NpzIn, NpzOut};
use crate::tensor::PlanCache;

/// The `format_version` written and the newest one read.
const FORMAT_VERSION: usize = 1;
const MODEL: &str = "cora";

fn map_name(kind: &str, level: usize, m: usize) -> String {
    format!("{kind}_L{level}_{m:05}")
}

fn scheme_name(s: BlockScheme) -> &'static str {
    match s {
        BlockScheme::Chain => "chain",
        BlockScheme::Square2x2 => "square_2x2",
        BlockScheme::Square3x3 => "square_3x3",
    }
}

fn boundary_name(b: Boundary) -> &'static str {
    match b {
        Boundary::Open => "open",
        Boundary::Periodic => "periodic",
    }
}

fn sharing_name(s: MapSharing) -> &'static str {
    match s {
        MapSharing::PerLevel => "per_level",
        MapSharing::PerPosition => "per_position",
    }
}

/// The spelled-out geometry of `meta` (what a reader without tnlearn needs).
fn geometry_json(g: &Geometry) -> Value {
    let big_j = g.levels();
    let levels: Vec<Value> = (1..=big_j)
        .map(|j| {
            let sites = g.num_sites(j);
            let groups = g.num_groups(j);
            json!({
                "level": j,
                "blocks": (0..sites).map(|c| g.children(j, c)).collect::<Vec<_>>(),
                "refine_index": (0..sites).map(|c| g.refine_index(j, c)).collect::<Vec<_>>(),
                "groups": (0..groups).map(|k| g.group_sites(j, k)).collect::<Vec<_>>(),
                "box_index": (0..groups).map(|k| g.box_index(j, k)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "chi_per_level": (0..=big_j).map(|j| g.chi(j)).collect::<Vec<_>>(),
        "dims": (0..=big_j).map(|j| [g.dims(j).0, g.dims(j).1]).collect::<Vec<_>>(),
        "levels_detail": levels,
    })
}

/// A map's values as an `outputs x inputs` array view.
fn as_array(m: &StochasticMap) -> ndarray::ArrayView2<'_, f64> {
    ndarray::ArrayView2::from_shape((m.outputs(), m.inputs()), m.values())
        .expect("a map's values are outputs x inputs")
}

/// The 2-D member `name` as a stochastic map of shape `(outputs, inputs)`.
fn read_map(npz: &mut NpzIn, name: &str, outputs: usize, inputs: usize) -> Result<StochasticMap> {
    if !npz.has(name) {
        return Err(npz.error(format!("member {name:?} is missing")));
    }
    let a: ArrayD<f64> = npz.f64s(name)?;
    let shape = a.shape().to_vec();
    let a = a
        .into_dimensionality::<Ix2>()
        .ok()
        .filter(|a| a.dim() == (outputs, inputs))
        .ok_or_else(|| {
            npz.error(format!(
                "member {name:?} has shape {shape:?}, the architecture needs [{outputs}, {inputs}]"
            ))
        })?;
    let values = a.as_standard_layout().iter().copied().collect();
    StochasticMap::new(outputs, inputs, values)
        .map_err(|e| npz.error(format!("member {name:?}: {e}")))
}

/// The architecture in `meta`, validated by [`Geometry::new`].
fn read_architecture(npz: &NpzIn, meta: &Value) -> Result<Geometry> {
    let Some(a) = meta.get("architecture").filter(|a| a.is_object()) else {
        return Err(npz.error("meta: \"architecture\" is missing or not an object"));
    };
    let scheme = match json_str(npz, a, "scheme")? {
        "chain" => BlockScheme::Chain,
        "square_2x2" => BlockScheme::Square2x2,
        "square_3x3" => BlockScheme::Square3x3,
        s => return Err(npz.error(format!("meta: unknown block scheme {s:?}"))),
    };
    let boundary = match json_str(npz, a, "boundary")? {
        "open" => Boundary::Open,
        "periodic" => Boundary::Periodic,
        s => return Err(npz.error(format!("meta: unknown boundary {s:?}"))),
    };
    let sharing = match json_str(npz, a, "sharing")? {
        "per_level" => MapSharing::PerLevel,
        "per_position" => MapSharing::PerPosition,
        s => return Err(npz.error(format!("meta: unknown map sharing {s:?}"))),
    };
    let Some(boxes) = a.get("boxes").and_then(Value::as_bool) else {
        return Err(npz.error("meta: \"boxes\" is missing or not a boolean"));
    };
    let levels = json_usize(npz, a, "levels")?;
    let chi_list = a.get("chi").and_then(Value::as_array);
    let chi = chi_list
        .filter(|c| c.len() <= levels.max(1))
        .and_then(|c| {
            c.iter()
                .map(|v| v.as_u64().and_then(|v| usize::try_from(v).ok()))
                .collect::<Option<Vec<usize>>>()
        })
        .ok_or_else(|| {
            npz.error(format!(
                "meta: \"chi\" must be a list of at most {} unsigned integers",
                levels.max(1)
            ))
        })?;
    let arch = Architecture {
        scheme,
        rows: json_usize(npz, a, "rows")?,
        cols: json_usize(npz, a, "cols")?,
        levels,
        chi,
        num_states: json_usize(npz, a, "num_states")?,
        boundary,
        boxes,
        sharing,
    };
    Geometry::new(arch).map_err(|e| npz.error(format!("meta: invalid architecture: {e}")))
}

impl Cora {
    /// Writes the model to an `.npz` archive that numpy reads without tnlearn
    /// (layout in `docs/cora.md`, "Export to numpy": `meta` JSON with the
    /// architecture and the spelled-out blocks and groups, one float64 array per
    /// stochastic map); [`Cora::import_npz`] reads it back exactly.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tnlearn::cora::{Architecture, Cora};
    ///
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    /// let model = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
    /// let path = std::env::temp_dir().join("tnlearn_doc_cora_export.npz");
    /// model.export_npz(&path)?;
    /// let back = Cora::import_npz(&path)?;
    /// assert_eq!(back.marginal(&[2, 3])?, model.marginal(&[2, 3])?);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the path if writing fails.
    pub fn export_npz(&self, path: impl AsRef<Path>) -> Result<()> {
        let a = self.architecture();
        let mut meta = json!({
            "model": MODEL,
            "format_version": FORMAT_VERSION,
            "architecture": {
                "scheme": scheme_name(a.scheme),
                "rows": a.rows,
                "cols": a.cols,
                "levels": a.levels,
                "chi": a.chi,
                "num_states": a.num_states,
                "boundary": boundary_name(a.boundary),
                "boxes": a.boxes,
                "sharing": sharing_name(a.sharing),
            },
        });
        if let (Some(m), Value::Object(extra)) =
            (meta.as_object_mut(), geometry_json(self.geometry()))
        {
            m.extend(extra);
        }
        let mut out = NpzOut::create(path.as_ref())?;
        out.json("meta", &meta)?;
        out.f64s("top", &as_array(&self.top))?;
        for j in 1..=self.levels() {
            for (kind, list) in [
                ("refine", &self.refine[j - 1]),
                ("box", &self.boxes[j - 1]),
                ("prior", &self.priors[j - 1]),
            ] {
                for (m, map) in list.iter().enumerate() {
                    out.f64s(&map_name(kind, j, m), &as_array(map))?;
                }
            }
        }
        out.finish()
    }

    /// Reads a model written by [`Cora::export_npz`] (or by numpy in the same
    /// layout), verifying what exactness depends on.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the file cannot be read;
    /// [`Error::Format`](crate::Error::Format) naming the file and the problem: not a
    /// zip archive, `meta` that is not CORA's JSON, an invalid architecture,
    /// spelled-out blocks or groups that differ from the architecture's, a missing
    /// or extra map, a map of another shape, or one that is not column-stochastic
    /// (negative, non-finite, columns not summing to 1). Never panics on bad input.
    pub fn import_npz(path: impl AsRef<Path>) -> Result<Self> {
        let mut npz = NpzIn::open(path.as_ref())?;
        let meta = npz.json("meta")?;
        let found = json_str(&npz, &meta, "model")?;
        if found != MODEL {
            return Err(npz.error(format!(
                "meta: this archive holds a {found:?}, not a {MODEL:?}"
            )));
        }
        let version = json_usize(&npz, &meta, "format_version")?;
        if version == 0 || version > FORMAT_VERSION {
            return Err(npz.error(format!(
                "meta: format_version {version} is not supported (this tnlearn reads 1..={FORMAT_VERSION})"
            )));
        }
        let geometry = read_architecture(&npz, &meta)?;
        // The spelled-out geometry is what numpy readers use: it must be the
        // architecture's, or the two would describe different models.
        let spelled = geometry_json(&geometry);
        for key in ["chi_per_level", "dims", "levels_detail"] {
            if meta.get(key) != spelled.get(key) {
                return Err(npz.error(format!(
                    "meta: {key:?} is missing or differs from the architecture's"
                )));
            }
        }
        let top_len = top_entries(&geometry)
            .map_err(|e| npz.error(format!("meta: invalid architecture: {e}")))?;
        let top = read_map(&mut npz, "top", top_len, 1)?;
        let big_j = geometry.levels();
        let (mut refine, mut boxes, mut priors) = (Vec::new(), Vec::new(), Vec::new());
        for j in 1..=big_j {
            let (fine, coarse) = (geometry.chi(j - 1), geometry.chi(j));
            // Geometry::new bounds every map's entries (MAX_MAP_ENTRIES): no overflow.
            let rows = fine.pow(geometry.block_size() as u32);
            let g = fine.pow(geometry.group_size() as u32);
            for (kind, count, (o, i), dest) in [
                (
                    "refine",
                    geometry.num_refine_maps(j),
                    (rows, coarse),
                    &mut refine,
                ),
                ("box", geometry.num_box_maps(j), (g, g), &mut boxes),
                (
                    "prior",
                    geometry.num_refine_maps(j),
                    (coarse, 1),
                    &mut priors,
                ),
            ] {
                let maps = (0..count)
                    .map(|m| read_map(&mut npz, &map_name(kind, j, m), o, i))
                    .collect::<Result<Vec<_>>>()?;
                if npz.has(&map_name(kind, j, count)) {
                    return Err(npz.error(format!(
                        "member {:?} is beyond the {count} {kind} maps level {j} has",
                        map_name(kind, j, count)
                    )));
                }
                dest.push(maps);
            }
        }
        let model = Cora {
            geometry,
            refine,
            boxes,
            priors,
            top,
            plans: PlanCache::default(),
        };
        model.check_all().map_err(|e| npz.error(e.to_string()))?;
        Ok(model)
    }
}
