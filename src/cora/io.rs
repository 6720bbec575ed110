//! Saving and loading models: [`Cora::save`], [`Cora::load`].

use std::path::Path;

use super::geometry::{Architecture, BlockScheme, Boundary, Geometry, MapSharing};
use super::model::{top_entries, Cora};
use super::params::StochasticMap;
use crate::error::Result;
use crate::io::container::{self, Reader, Writer};
use crate::io::format_error;
use crate::tensor::PlanCache;

const MAGIC: &[u8; 8] = b"TNLCORA\0";
const VERSION: u32 = 1;

/// CORA's extra read: a stochastic map of known shape.
trait ReadMap {
    fn map(&mut self, what: &str, outputs: usize, inputs: usize) -> Result<StochasticMap>;
}

impl ReadMap for Reader<'_> {
    fn map(&mut self, what: &str, outputs: usize, inputs: usize) -> Result<StochasticMap> {
        let at = self.pos();
        let (o, i) = (self.usize(what)?, self.usize(what)?);
        if (o, i) != (outputs, inputs) {
            return Err(format_error(
                self.path(),
                format!(
                    "{what} at offset {at} is {o} x {i}, the architecture needs {outputs} x {inputs}"
                ),
            ));
        }
        let count = o.checked_mul(i).ok_or_else(|| {
            format_error(
                self.path(),
                format!("{what} at offset {at}: {o} x {i} entries overflow"),
            )
        })?;
        let values = self.finite_f64s(count, what)?;
        StochasticMap::new(o, i, values)
            .map_err(|e| format_error(self.path(), format!("{what} at offset {at}: {e}")))
    }
}

fn put_map(w: &mut Writer, m: &StochasticMap) {
    w.usize(m.outputs());
    w.usize(m.inputs());
    w.f64s(m.values());
}

impl Cora {
    /// Writes the model to `path` in the versioned, checksummed `TNLCORA` format.
    ///
    /// # File format `TNLCORA`, version 1 (all integers little-endian)
    ///
    /// | bytes | content |
    /// |---|---|
    /// | 8 | magic `b"TNLCORA\0"` |
    /// | 4 | format version `u32` = 1 |
    /// | 8 | payload length `u64` |
    /// | payload | see below |
    /// | 4 | CRC-32 (IEEE) of every byte before it |
    ///
    /// Payload: `scheme u8 (0 chain, 1 square 2x2, 2 square 3x3), boundary u8 (0
    /// open, 1 periodic), boxes u8, sharing u8 (0 per level, 1 per position), rows
    /// u64, cols u64, levels u64, num_states u64, number of chi values u64, chi
    /// u64...`; then for every level `j = 1..=J`: its refine maps, box maps and
    /// coarse-graining priors, each list as `count u64` then per map `outputs u64,
    /// inputs u64` and the values `f64` row-major; finally the top distribution as
    /// one map. Values are stored bit-exactly: a loaded model is identical.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the path if writing fails.
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    ///
    /// let model = Cora::random(Architecture::chain(8).levels(2), &mut StdRng::seed_from_u64(6))?;
    /// let path = std::env::temp_dir().join("tnlearn_doc_cora.cora");
    /// model.save(&path)?;
    /// let back = Cora::load(&path)?;
    /// assert_eq!(back.top(), model.top()); // bit-exact
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let a = self.architecture();
        let mut w = Writer::new();
        for byte in [
            match a.scheme {
                BlockScheme::Chain => 0,
                BlockScheme::Square2x2 => 1,
                BlockScheme::Square3x3 => 2,
            },
            match a.boundary {
                Boundary::Open => 0,
                Boundary::Periodic => 1,
            },
            a.boxes as u8,
            match a.sharing {
                MapSharing::PerLevel => 0,
                MapSharing::PerPosition => 1,
            },
        ] {
            w.u8(byte);
        }
        for v in [a.rows, a.cols, a.levels, a.num_states, a.chi.len()] {
            w.usize(v);
        }
        for &c in &a.chi {
            w.usize(c);
        }
        for j in 0..self.levels() {
            for list in [&self.refine[j], &self.boxes[j], &self.priors[j]] {
                w.usize(list.len());
                for m in list {
                    put_map(&mut w, m);
                }
            }
        }
        put_map(&mut w, &self.top);
        w.finish(path, MAGIC, VERSION)
    }

    /// Reads a model written by [`Cora::save`], restoring it exactly.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the file cannot be read; [`Error::Format`](crate::Error::Format) naming the file and
    /// the problem for a foreign file (wrong magic), an unknown version, a truncated
    /// file or trailing bytes, a checksum mismatch, an invalid architecture, a map
    /// of the wrong shape or one that is not column-stochastic. Never panics on bad
    /// input.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let fmt = |reason: String| format_error(path, reason);
        let file = container::open(
            path,
            MAGIC,
            VERSION..=VERSION,
            "not a tnlearn CORA file (missing magic \"TNLCORA\\0\")",
        )?;
        let mut r = file.reader();
        let scheme = match r.u8("scheme")? {
            0 => BlockScheme::Chain,
            1 => BlockScheme::Square2x2,
            2 => BlockScheme::Square3x3,
            s => return Err(fmt(format!("unknown block scheme {s}"))),
        };
        let boundary = match r.u8("boundary")? {
            0 => Boundary::Open,
            1 => Boundary::Periodic,
            b => return Err(fmt(format!("unknown boundary {b}"))),
        };
        let boxes = match r.u8("boxes")? {
            0 => false,
            1 => true,
            b => return Err(fmt(format!("boxes flag {b} is neither 0 nor 1"))),
        };
        let sharing = match r.u8("sharing")? {
            0 => MapSharing::PerLevel,
            1 => MapSharing::PerPosition,
            s => return Err(fmt(format!("unknown map sharing {s}"))),
        };
        let rows = r.usize("rows")?;
        let cols = r.usize("cols")?;
        let levels = r.usize("levels")?;
        let num_states = r.usize("num_states")?;
        let nchi = r.usize("number of chi values")?;
        if nchi > levels.max(1) {
            return Err(fmt(format!("{nchi} chi values for {levels} levels")));
        }
        let chi = (0..nchi)
            .map(|_| r.usize("chi"))
            .collect::<Result<Vec<_>>>()?;
        let arch = Architecture {
            scheme,
            rows,
            cols,
            levels,
            chi,
            num_states,
            boundary,
            boxes,
            sharing,
        };
        let geometry =
            Geometry::new(arch).map_err(|e| fmt(format!("invalid architecture: {e}")))?;
        // What the architecture needs must be in the file before anything is allocated.
        let needed = payload_bytes_needed(&geometry);
        if needed > r.remaining() as u128 {
            return Err(fmt(format!(
                "the architecture ({rows} x {cols} sites, {levels} levels) needs {needed} bytes \
                 of maps, the file holds {} after the header (truncated file or corrupt header)",
                r.remaining()
            )));
        }
        let mut refine = Vec::with_capacity(levels);
        let mut box_maps = Vec::with_capacity(levels);
        let mut priors = Vec::with_capacity(levels);
        for j in 1..=levels {
            let (fine, coarse) = (geometry.chi(j - 1), geometry.chi(j));
            let rshape = (fine.pow(geometry.block_size() as u32), coarse);
            let g = fine.pow(geometry.group_size() as u32);
            let lists = [
                ("refine", geometry.num_refine_maps(j), rshape),
                ("box", geometry.num_box_maps(j), (g, g)),
                ("prior", geometry.num_refine_maps(j), (coarse, 1)),
            ];
            let mut read = Vec::with_capacity(3);
            for (what, count, (o, i)) in lists {
                let n = r.usize(&format!("number of {what} maps of level {j}"))?;
                if n != count {
                    return Err(fmt(format!(
                        "level {j} has {n} {what} maps, the architecture needs {count}"
                    )));
                }
                let maps = (0..n)
                    .map(|m| r.map(&format!("{what} map {m} of level {j}"), o, i))
                    .collect::<Result<Vec<_>>>()?;
                read.push(maps);
            }
            priors.push(read.pop().expect("3 lists"));
            box_maps.push(read.pop().expect("3 lists"));
            refine.push(read.pop().expect("3 lists"));
        }
        let top_len =
            top_entries(&geometry).map_err(|e| fmt(format!("invalid architecture: {e}")))?;
        let top = r.map("top distribution", top_len, 1)?;
        if r.remaining() != 0 {
            return Err(fmt(format!(
                "{} unread payload bytes after the top distribution",
                r.remaining()
            )));
        }
        let model = Cora {
            geometry,
            refine,
            boxes: box_maps,
            priors,
            top,
            plans: PlanCache::default(),
        };
        model.check_all()?;
        Ok(model)
    }
}

/// The payload bytes the maps of `geometry` take (counts, shapes and values of every
/// list of every level, and the top table), in saturating `u128` arithmetic.
fn payload_bytes_needed(geometry: &Geometry) -> u128 {
    let map = |o: u128, i: u128| 16u128.saturating_add(o.saturating_mul(i).saturating_mul(8));
    let mut total: u128 = 0;
    for j in 1..=geometry.levels() {
        let (fine, coarse) = (geometry.chi(j - 1) as u128, geometry.chi(j) as u128);
        let rows = fine.saturating_pow(geometry.block_size() as u32);
        let g = fine.saturating_pow(geometry.group_size() as u32);
        let nref = geometry.num_refine_maps(j) as u128;
        let nbox = geometry.num_box_maps(j) as u128;
        total = total
            .saturating_add(24)
            .saturating_add(nref.saturating_mul(map(rows, coarse)))
            .saturating_add(nbox.saturating_mul(map(g, g)))
            .saturating_add(nref.saturating_mul(map(coarse, 1)));
    }
    let top_sites = u32::try_from(geometry.num_sites(geometry.levels())).unwrap_or(u32::MAX);
    let top = (geometry.chi(geometry.levels()) as u128).saturating_pow(top_sites);
    total.saturating_add(map(top, 1))
}
