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
pub(crate) mod npz;
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

/// Reads exactly `n` bytes from `reader` (an inflating stream), growing the buffer
/// fallibly and in chunks so that a header announcing more data than the stream
/// holds costs no more memory than the stream actually delivers, and exhaustion is an
/// error instead of an abort. Then checks that the stream ends there. `what` and
/// `offset` (of the first byte, in the decompressed stream) name the data in errors.
pub(crate) fn read_exact_then_end(
    reader: &mut impl Read,
    n: u64,
    path: &Path,
    what: &str,
    offset: u64,
) -> Result<Vec<u8>> {
    const CHUNK: usize = 1 << 20;
    let mut out: Vec<u8> = Vec::new();
    let mut remaining = n;
    let mut buf = vec![0u8; CHUNK];
    while remaining > 0 {
        let want = usize::try_from(remaining.min(CHUNK as u64)).unwrap_or(CHUNK);
        let got = reader.read(&mut buf[..want]).map_err(|e| {
            format_error(
                path,
                format!(
                    "{what}: stream is corrupt after {} decompressed bytes (offset {}): {e}",
                    out.len(),
                    offset + out.len() as u64
                ),
            )
        })?;
        if got == 0 {
            return Err(format_error(
                path,
                format!(
                    "truncated: {what} needs {n} bytes from offset {offset} of the \
                     decompressed stream, but the stream ends after {} (offset {})",
                    out.len(),
                    offset + out.len() as u64
                ),
            ));
        }
        out.try_reserve(got).map_err(|_| {
            format_error(
                path,
                format!(
                    "{what}: cannot allocate memory for {n} bytes declared by the header \
                     (failed at {} bytes)",
                    out.len()
                ),
            )
        })?;
        out.extend_from_slice(&buf[..got]);
        remaining -= got as u64;
    }
    let mut one = [0u8; 1];
    let extra = loop {
        match reader.read(&mut one) {
            Ok(k) => break k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(format_error(
                    path,
                    format!(
                        "{what}: stream is corrupt after {} decompressed bytes (offset {}): {e}",
                        out.len(),
                        offset + out.len() as u64
                    ),
                ))
            }
        }
    };
    if extra != 0 {
        return Err(format_error(
            path,
            format!(
                "the decompressed stream holds more than the {n} bytes of {what} its header \
                 declares (unexpected data from offset {})",
                offset + n
            ),
        ));
    }
    Ok(out)
}
