//! Reading and writing data files.
//!
//! - [`idx`]: IDX files, the format of MNIST and Fashion-MNIST (plain or gzip),
//!   thresholded into binary [`Dataset`](crate::data::Dataset)s.
//! - [`npy`]: NumPy `.npy` arrays and `.npz` members of 0/1 values.
//! - [`packed`]: tnlearn's own bit-packed binary format (`TNLBITS`), the format of the
//!   shipped MNIST subset.
//! - [`png`]: grids of grey images, for samples and inpaintings.
//!
//! Every reader returns [`Error::Io`] naming the path when the file cannot be read, and
//! [`Error::Format`] naming the path and the byte offset, record or member when its
//! contents are wrong. No reader panics on a bad file.

pub(crate) mod container;
pub mod idx;
pub mod npy;
pub mod packed;
pub mod png;

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Reads a whole file, mapping failures to [`Error::Io`] with the path.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Shorthand for an [`Error::Format`] on `path`.
pub(crate) fn format_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The two magic bytes that start every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` start like a gzip stream.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Decompresses `bytes` if they are gzip (all members), else returns them unchanged.
pub(crate) fn maybe_gunzip(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| {
            format_error(
                path,
                format!(
                    "gzip stream is corrupt or truncated after {} decompressed bytes: {e}",
                    out.len()
                ),
            )
        })?;
    Ok(out)
}
