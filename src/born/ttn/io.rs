//! Saving and loading TTN Born machines: [`TtnBornMachine::save`],
//! [`TtnBornMachine::load`]. The format is documented on
//! [`TtnBornMachine::save`]; it follows the MPS format (`TNLBORN`) with its own
//! magic.

use std::path::Path;

use super::TtnBornMachine;
use crate::born::checks::check_num_states;
use crate::born::options::BornOptions;
use crate::error::Result;
use crate::io::container::{self, Writer};
use crate::io::format_error;
use crate::ttn::{Child, Tree, Ttn};

pub(crate) const MAGIC: &[u8; 8] = b"TNLTTN\0\0";
const VERSION: u32 = 1;

impl TtnBornMachine {
    /// Writes the model (options, tree, tensors, canonical centre) to `path` in the
    /// versioned, checksummed `TNLTTN` format below.
    ///
    /// # File format `TNLTTN`, version 1 (all integers little-endian)
    ///
    /// | bytes | content |
    /// |---|---|
    /// | 8 | magic `b"TNLTTN\0\0"` |
    /// | 4 | format version `u32` = 1 |
    /// | 8 | payload length `u64` (bytes between this field and the checksum) |
    /// | payload | see below |
    /// | 4 | CRC-32 (IEEE) of every byte before it |
    ///
    /// Payload: `num_sites u64, num_nodes u64, num_states u64, center u64`; the
    /// options as in the MPS format (`max_bond u64, min_bond u64, cutoff f64, mode u8
    /// (0 relative, 1 absolute, 2 discarded weight), learning_rate f64,
    /// steps_per_bond u64, batch_size u64 (0 = full batch), sweeps u64, seed u64,
    /// initial_bond u64, step rule u8 (0 plain, 1 normalised), step-rule exponent
    /// f64, checkpoint_every u64 (0 = automatic; stored for the options, unused by
    /// the TTN)`); the tree: for each node its left then right child as
    /// `kind u8 (0 node, 1 site), index u64`; then for each node `D_parent u64,
    /// D_left u64, D_right u64` and its `D_parent D_left D_right` values `f64`,
    /// row-major. Values are stored bit-exactly: a loaded model is identical to the
    /// saved one.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the path if writing fails.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let tree = self.tree();
        let mut w = Writer::new();
        w.usize(self.num_sites());
        w.usize(tree.num_nodes());
        w.usize(self.num_states());
        w.usize(self.center());
        self.options.write_bytes(&mut w);
        for ch in tree.all_children() {
            for c in ch {
                let (kind, index) = match *c {
                    Child::Node(u) => (0, u),
                    Child::Site(s) => (1, s),
                };
                w.u8(kind);
                w.usize(index);
            }
        }
        for t in self.tensors() {
            w.array3(t);
        }
        w.finish(path, MAGIC, VERSION)
    }

    /// Reads a model written by [`TtnBornMachine::save`], restoring it exactly.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the file cannot be read; [`Error::Format`](crate::Error::Format) naming the file
    /// and the problem for a foreign file (wrong magic; an MPS model file is named
    /// as such), an unknown version, a truncated file or trailing bytes, a checksum
    /// mismatch (corruption), or inconsistent contents (an invalid tree, shapes that
    /// do not fit the tree, invalid options, non-finite values, a centre out of
    /// range). Never panics on bad input.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let fmt = |reason: String| format_error(path, reason);
        if std::fs::read(path).is_ok_and(|b| b.starts_with(crate::born::mps::MAGIC)) {
            return Err(fmt(
                "this is an MPS Born machine file (magic \"TNLBORN\"): load it with \
                 MpsBornMachine::load"
                    .into(),
            ));
        }
        let file = container::open(
            path,
            MAGIC,
            VERSION..=VERSION,
            "not a tnlearn TTN Born machine file (missing magic \"TNLTTN\")",
        )?;
        let mut r = file.reader();
        let nsites = r.usize("num_sites")?;
        let nnodes = r.usize("num_nodes")?;
        let d = r.usize("num_states")?;
        let center = r.usize("center")?;
        let options = BornOptions::read_bytes(&mut r, true)?;
        check_num_states(d).map_err(|e| fmt(e.to_string()))?;
        if nsites < 3 || nnodes.checked_add(1) != Some(nsites) {
            return Err(fmt(format!(
                "num_sites = {nsites}, num_nodes = {nnodes}: a tree has num_nodes = \
                 num_sites - 1 and a TTN Born machine at least 3 sites"
            )));
        }
        if center >= nnodes {
            return Err(fmt(format!(
                "centre {center} out of range for {nnodes} nodes"
            )));
        }
        // Each node needs 18 tree bytes and 24 shape bytes: bounds nnodes first.
        if nnodes > r.remaining() / 42 {
            return Err(fmt(format!(
                "truncated: {nnodes} nodes announced, too few bytes for them"
            )));
        }
        let mut children = Vec::with_capacity(nnodes);
        for v in 0..nnodes {
            let mut ch = [Child::Site(0); 2];
            for (side, slot) in ch.iter_mut().enumerate() {
                let kind = r.take(1, "child kind")?[0];
                let at = r.pos();
                let idx = r.usize("child index")?;
                *slot = match kind {
                    0 => Child::Node(idx),
                    1 => Child::Site(idx),
                    k => {
                        return Err(fmt(format!(
                            "node {v}, child {side}: unknown kind {k} at offset {}",
                            at - 1
                        )))
                    }
                };
            }
            children.push(ch);
        }
        let tree = Tree::new(children).map_err(|e| fmt(format!("invalid tree: {e}")))?;
        let mut tensors = Vec::with_capacity(nnodes);
        for v in 0..nnodes {
            let a = r.usize("node D_parent")?;
            let b = r.usize("node D_left")?;
            let c = r.usize("node D_right")?;
            if a == 0 || b == 0 || c == 0 {
                return Err(fmt(format!(
                    "node {v} has shape ({a}, {b}, {c}): every bond must be at least 1"
                )));
            }
            tensors.push(r.finite_array3((a, b, c), &format!("node {v}"))?);
        }
        if r.remaining() != 0 {
            return Err(fmt(format!(
                "{} unexpected bytes after the last node",
                r.remaining()
            )));
        }
        let mut ttn = Ttn::from_tensors(tree, d, tensors)
            .map_err(|e| fmt(format!("node tensors do not fit the tree: {e}")))?;
        if ttn.tensors.iter().any(|t| t.is_empty()) {
            return Err(fmt("a node tensor has a zero dimension".into()));
        }
        ttn.check_canonical(center, crate::mps::CANONICAL_TOL)
            .map_err(|e| fmt(format!("{e}")))?;
        ttn.center = Some(center);
        Ok(TtnBornMachine { ttn, options })
    }
}
