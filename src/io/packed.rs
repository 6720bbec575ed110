//! tnlearn's bit-packed binary data format, `TNLBITS` version 1: a train and a test
//! set of binary images with labels, one bit per pixel, with a CRC-32. It is the
//! format of the shipped MNIST subset (`data/mnist_binary_10k.bin`, see
//! `data/README.md`).
//!
//! All integers are little-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic: ASCII `TNLBITS` then a zero byte (`54 4E 4C 42 49 54 53 00`) |
//! | 8 | 4 | format version, `u32` = 1 |
//! | 12 | 4 | image rows, `u32` (>= 1) |
//! | 16 | 4 | image columns, `u32` (>= 1) |
//! | 20 | 4 | `n_train`, `u32` |
//! | 24 | 4 | `n_test`, `u32` |
//! | 28 | 4 | flags, `u32`: bit 0 = labels present; other bits 0 |
//! | 32 | `n_train + n_test` if labelled, else 0 | labels, one `u8` per image, train images first |
//! | L | `(n_train + n_test) * ceil(rows * cols / 8)` | packed images, train first |
//! | end - 4 | 4 | CRC-32 (IEEE, as zlib's `crc32`) of every byte before it, `u32` |
//!
//! Each image takes `B = ceil(rows * cols / 8)` bytes; pixel `p = r * cols + c`
//! (row-major) of image `i` is bit `7 - p % 8` (most significant bit first, as
//! NumPy's `packbits`) of byte `L + i * B + p / 8`. Padding bits at the end of an
//! image are zero.

use std::path::Path;

use super::read_file;
use crate::data::Dataset;
use crate::error::{Error, Result};

pub use crate::data::packed::{encode_packed, parse_packed, MAGIC, VERSION};

/// Reads a `TNLBITS` file into `(train, test)` binary data sets with their image
/// shape and (if stored) labels.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] naming the byte offset
/// if the magic, version, flags, sizes, padding bits or checksum are wrong.
pub fn read_packed(path: impl AsRef<Path>) -> Result<(Dataset, Dataset)> {
    let path = path.as_ref();
    parse_packed(&read_file(path)?, path)
}

/// Writes `(train, test)` as a `TNLBITS` file (see [`encode_packed`]).
///
/// # Errors
/// As [`encode_packed`]; [`Error::Io`] naming the path if writing fails.
pub fn write_packed(path: impl AsRef<Path>, train: &Dataset, test: &Dataset) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_packed(train, test)?;
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
