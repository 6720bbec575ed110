//! Saving and loading models: [`MpsBornMachine::save`], [`MpsBornMachine::load`].
//!
//! The file format is documented on [`MpsBornMachine::save`].

use std::path::Path;

use super::MpsBornMachine;
use crate::born::checks::check_num_states;
use crate::born::options::BornOptions;
use crate::error::Result;
use crate::io::container::{self, Writer};
use crate::io::format_error;

pub(crate) const MAGIC: &[u8; 8] = b"TNLBORN\0";
const VERSION: u32 = 2;

impl MpsBornMachine {
    /// Writes the model (options, tensors, canonical centre, log scale) to `path` in
    /// the versioned, checksummed `TNLBORN` format below.
    ///
    /// # File format `TNLBORN`, version 2 (all integers little-endian)
    ///
    /// | bytes | content |
    /// |---|---|
    /// | 8 | magic `b"TNLBORN\0"` |
    /// | 4 | format version `u32` = 2 (version 1 files, which lack the last two option fields, are read too) |
    /// | 8 | payload length `u64` (bytes between this field and the checksum) |
    /// | payload | see below |
    /// | 4 | CRC-32 (IEEE) of every byte before it |
    ///
    /// Payload: `num_sites u64, num_states u64, center u64, log_scale f64`; options:
    /// `max_bond u64, min_bond u64, cutoff f64, mode u8 (0 relative, 1 absolute,
    /// 2 discarded weight), learning_rate f64, steps_per_bond u64, batch_size u64
    /// (0 = full batch), sweeps u64, seed u64, initial_bond u64, step rule u8 (0 plain,
    /// 1 normalised), step-rule exponent f64, checkpoint_every u64 (0 = automatic)`;
    /// then for each site
    /// `D_left u64, d u64, D_right u64` and `D_left d D_right` values `f64`, row-major.
    /// Values are stored bit-exactly, so a loaded model is identical to the saved one.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the path if writing fails.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut w = Writer::new();
        w.usize(self.num_sites());
        w.usize(self.num_states);
        w.usize(self.center());
        w.f64(0.0);
        self.options.write_bytes(&mut w);
        for a in self.tensors() {
            w.array3(a);
        }
        w.finish(path, MAGIC, VERSION)
    }

    /// Reads a model written by [`MpsBornMachine::save`], restoring it exactly.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the file cannot be read; [`Error::Format`](crate::Error::Format) naming the file
    /// and the problem for a foreign file (wrong magic), an unknown version, a
    /// truncated file or trailing bytes, a checksum mismatch (corruption), or
    /// inconsistent contents (bond dimensions that do not chain, invalid options,
    /// non-finite values, a centre out of range). Never panics on bad input.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let fmt = |reason: String| format_error(path, reason);
        let file = container::open(
            path,
            MAGIC,
            1..=VERSION,
            "not a tnlearn Born machine file (missing magic \"TNLBORN\\0\")",
        )?;
        let version = file.version;
        let mut r = file.reader();
        let nsites = r.usize("num_sites")?;
        let d = r.usize("num_states")?;
        let center = r.usize("center")?;
        let log_scale = r.f64("log_scale")?;
        let options = BornOptions::read_bytes(&mut r, version >= 2)?;
        check_num_states(d).map_err(|e| fmt(e.to_string()))?;
        if nsites < 2 {
            return Err(fmt(format!("num_sites = {nsites}, need at least 2")));
        }
        if center >= nsites {
            return Err(fmt(format!(
                "centre {center} out of range for {nsites} sites"
            )));
        }
        if log_scale != 0.0 {
            return Err(fmt(format!("log_scale = {log_scale}, expected 0")));
        }
        // Each site needs at least 24 header bytes: bounds nsites before allocating.
        if nsites > r.remaining() / 24 {
            return Err(fmt(format!(
                "truncated: {nsites} sites announced, too few bytes for their headers"
            )));
        }
        let mut tensors = Vec::with_capacity(nsites);
        let mut prev_right = 1usize;
        for k in 0..nsites {
            let dl = r.usize("site D_left")?;
            let dk = r.usize("site d")?;
            let dr = r.usize("site D_right")?;
            if dl != prev_right || dk != d || dr == 0 || (k + 1 == nsites && dr != 1) {
                return Err(fmt(format!(
                    "site {k} has shape ({dl}, {dk}, {dr}); expected ({prev_right}, {d}, {})",
                    if k + 1 == nsites {
                        "1".to_string()
                    } else {
                        "D >= 1".into()
                    }
                )));
            }
            tensors.push(r.finite_array3((dl, dk, dr), &format!("site {k}"))?);
            prev_right = dr;
        }
        if r.remaining() != 0 {
            return Err(fmt(format!(
                "{} unexpected bytes after the last site",
                r.remaining()
            )));
        }
        // Exact sampling needs the canonical form: verified, not trusted.
        let mut mps = crate::Mps::from_tensors(tensors)
            .and_then(|m| {
                m.check_canonical(center, crate::mps::CANONICAL_TOL)
                    .map(|()| m)
            })
            .map_err(|e| fmt(format!("{e}")))?;
        mps.center = Some(center);
        Ok(MpsBornMachine {
            mps,
            num_states: d,
            options,
        })
    }
}
