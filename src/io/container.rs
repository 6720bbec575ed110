//! The one container layout of every tnlearn model file (TNLBORN, TNLTTN, TNLCORA):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic, naming the model kind |
//! | 4 | format version `u32` |
//! | 8 | payload length `u64` |
//! | payload | model-specific, little-endian |
//! | 4 | CRC-32 (IEEE) of every byte before it |
//!
//! [`write`] seals a payload; [`open`] checks magic, version, length and checksum and
//! hands back a [`Reader`] positioned at the payload, whose reads name the field and
//! the offset when the payload ends early.

use std::ops::RangeInclusive;
use std::path::Path;

use super::{format_error, read_file};
use crate::error::{Error, Result};

/// Bytes before the payload: magic, version, payload length.
pub(crate) const HEADER: usize = 20;

/// Writes `payload` to `path` in the container layout.
pub(crate) fn write(path: &Path, magic: &[u8; 8], version: u32, payload: &[u8]) -> Result<()> {
    let mut bytes = Vec::with_capacity(payload.len() + HEADER + 4);
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(payload);
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A file read by [`open`]: its format version and the checked bytes.
pub(crate) struct Container<'p> {
    /// The format version found (within the accepted range).
    pub version: u32,
    bytes: Vec<u8>,
    path: &'p Path,
}

impl<'p> Container<'p> {
    /// A reader over the payload (the bytes between header and checksum).
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            bytes: &self.bytes[..self.bytes.len() - 4],
            pos: HEADER,
            path: self.path,
        }
    }
}

/// Reads `path` and checks the container: the magic (`foreign` is the message for a
/// file with another one), a version in `versions`, the announced length (truncated
/// files, trailing bytes) and the CRC-32 (corruption). Errors are
/// [`Error::Format`] naming the file, or [`Error::Io`].
pub(crate) fn open<'p>(
    path: &'p Path,
    magic: &[u8; 8],
    versions: RangeInclusive<u32>,
    foreign: &str,
) -> Result<Container<'p>> {
    let bytes = read_file(path)?;
    let fmt = |reason: String| format_error(path, reason);
    if bytes.len() < magic.len() || &bytes[..magic.len()] != magic {
        return Err(fmt(foreign.to_string()));
    }
    if bytes.len() < HEADER + 4 {
        return Err(fmt(format!(
            "truncated: {} bytes, header and checksum need {}",
            bytes.len(),
            HEADER + 4
        )));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if !versions.contains(&version) {
        return Err(fmt(format!(
            "unsupported format version {version} (this build reads versions {} to {})",
            versions.start(),
            versions.end()
        )));
    }
    let plen = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let expected = plen as u128 + (HEADER + 4) as u128;
    if (bytes.len() as u128) < expected {
        return Err(fmt(format!(
            "truncated: header announces {expected} bytes, file has {}",
            bytes.len()
        )));
    }
    if (bytes.len() as u128) > expected {
        return Err(fmt(format!(
            "{} unexpected trailing bytes after the checksum",
            bytes.len() as u128 - expected
        )));
    }
    let body_end = bytes.len() - 4;
    let stored = u32::from_le_bytes(bytes[body_end..].try_into().expect("4 bytes"));
    let actual = crc32fast::hash(&bytes[..body_end]);
    if stored != actual {
        return Err(fmt(format!(
            "checksum mismatch (stored {stored:#010x}, computed {actual:#010x}): \
             the file is corrupted"
        )));
    }
    Ok(Container {
        version,
        bytes,
        path,
    })
}

/// Sequential little-endian reads from a payload; running out of bytes is an
/// [`Error::Format`] naming the field and the offset.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    /// A reader of `bytes` that names `path` in its errors (a payload stored
    /// elsewhere than in a container file, e.g. a member of an exported `.npz`).
    pub fn new(path: &'a Path, bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            pos: 0,
            path,
        }
    }
    /// The file being read (for error messages).
    pub fn path(&self) -> &'a Path {
        self.path
    }
    /// The offset of the next read.
    pub fn pos(&self) -> usize {
        self.pos
    }
    /// Bytes left in the payload.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.bytes.len() - self.pos < n {
            return Err(format_error(
                self.path,
                format!(
                    "truncated: {what} needs {n} bytes at offset {} but only {} remain",
                    self.pos,
                    self.bytes.len() - self.pos
                ),
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    /// One byte.
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    /// A `u64`.
    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8, what)?.try_into().expect("8 bytes"),
        ))
    }
    /// A `u64` that must fit a `usize`.
    pub fn usize(&mut self, what: &str) -> Result<usize> {
        let at = self.pos;
        let v = self.u64(what)?;
        usize::try_from(v).map_err(|_| {
            format_error(
                self.path,
                format!("{what} = {v} at offset {at} is too large"),
            )
        })
    }
    /// An `f64` (bit-exact).
    pub fn f64(&mut self, what: &str) -> Result<f64> {
        Ok(f64::from_bits(self.u64(what)?))
    }
    /// `count` finite `f64`s (bit-exact). The byte count is checked against what
    /// the payload holds before anything is allocated; a NaN or infinity is an
    /// error naming `what`, its position and its offset.
    pub fn finite_f64s(&mut self, count: usize, what: &str) -> Result<Vec<f64>> {
        let at = self.pos;
        let bytes = count
            .checked_mul(8)
            .filter(|&b| b <= self.remaining())
            .ok_or_else(|| {
                format_error(
                    self.path,
                    format!(
                        "truncated: {what} needs {count} values at offset {at} but only {} \
                         bytes remain",
                        self.remaining()
                    ),
                )
            })?;
        let raw = self.take(bytes, what)?;
        let values: Vec<f64> = raw
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8 bytes")))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(format_error(
                self.path,
                format!(
                    "{what} has a non-finite value {} at position {i} (offset {})",
                    values[i],
                    at + 8 * i
                ),
            ));
        }
        Ok(values)
    }
    /// A finite `f64` array of the given `shape` (row-major), read through
    /// [`finite_f64s`](Self::finite_f64s); an overflowing element count is an error
    /// naming `what` and the shape.
    pub fn finite_array3(
        &mut self,
        shape: (usize, usize, usize),
        what: &str,
    ) -> Result<ndarray::Array3<f64>> {
        let (a, b, c) = shape;
        let count = a
            .checked_mul(b)
            .and_then(|x| x.checked_mul(c))
            .ok_or_else(|| {
                format_error(self.path, format!("{what} of shape {shape:?} overflows"))
            })?;
        let values = self.finite_f64s(count, what)?;
        ndarray::Array3::from_shape_vec(shape, values)
            .map_err(|e| format_error(self.path, format!("{what} of shape {shape:?}: {e}")))
    }
}

/// Sequential little-endian writes of a payload, the mirror of [`Reader`];
/// [`Writer::finish`] writes the container (magic, version, length, CRC-32).
#[derive(Default)]
pub(crate) struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// An empty payload.
    pub fn new() -> Self {
        Writer::default()
    }
    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    /// A `u64`.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    /// A `usize`, stored as a `u64`.
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    /// An `f64` (bit-exact).
    pub fn f64(&mut self, v: f64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    /// `f64` values one after the other (bit-exact).
    pub fn f64s<'v>(&mut self, values: impl IntoIterator<Item = &'v f64>) {
        for &v in values {
            self.f64(v);
        }
    }
    /// A 3-tensor as its three dimensions (`u64`) then its values, row-major.
    pub fn array3(&mut self, a: &ndarray::Array3<f64>) {
        let (x, y, z) = a.dim();
        self.usize(x);
        self.usize(y);
        self.usize(z);
        self.f64s(a.iter());
    }
    /// The payload written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
    /// Writes the payload to `path` in the container layout ([`write`]).
    pub fn finish(self, path: &Path, magic: &[u8; 8], version: u32) -> Result<()> {
        write(path, magic, version, &self.bytes)
    }
}
