//! The `TNLBITS` codec: bytes to `(train, test)` data sets and back, without file
//! access. The file format is documented in [`crate::io::packed`], which reads and
//! writes files with it and re-exports [`parse_packed`] and [`encode_packed`].
//!
//! It lives here, not in `io`, so that the shipped data set ([`super::mnist`]) decodes
//! its embedded bytes without depending on `io`: the dependency between the two
//! modules goes one way only, `io -> data`.

use std::path::Path;

use ndarray::Array2;

use super::Dataset;
use crate::error::{Error, Result};

/// The 8 magic bytes that start a `TNLBITS` file.
pub const MAGIC: [u8; 8] = *b"TNLBITS\0";
/// The format version this crate reads and writes.
pub const VERSION: u32 = 1;
/// Flag bit: the file holds one label per image.
const FLAG_LABELS: u32 = 1;
const HEADER_LEN: usize = 32;

/// Parses the bytes of a `TNLBITS` file; `origin` names the file in error messages.
///
/// # Errors
/// As [`read_packed`](crate::io::packed::read_packed).
pub fn parse_packed(bytes: &[u8], origin: &Path) -> Result<(Dataset, Dataset)> {
    let err = |reason: String| Error::Format {
        path: origin.to_path_buf(),
        reason,
    };
    if bytes.len() < HEADER_LEN + 4 {
        return Err(err(format!(
            "{} bytes long: too short for the {HEADER_LEN}-byte header and the 4-byte checksum",
            bytes.len()
        )));
    }
    if bytes[..8] != MAGIC {
        return Err(err(format!(
            "bytes 0..8 are {:02x?}, not the magic \"TNLBITS\\0\"",
            &bytes[..8]
        )));
    }
    let u32_at =
        |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let version = u32_at(8);
    if version != VERSION {
        return Err(err(format!(
            "format version {version} at byte 8; this crate reads version {VERSION}"
        )));
    }
    let (rows, cols) = (u32_at(12) as usize, u32_at(16) as usize);
    let (n_train, n_test) = (u32_at(20) as usize, u32_at(24) as usize);
    let flags = u32_at(28);
    if rows == 0 || cols == 0 {
        return Err(err(format!(
            "image shape {rows} x {cols} at bytes 12..20 has a zero side"
        )));
    }
    if flags & !FLAG_LABELS != 0 {
        return Err(err(format!(
            "unknown flag bits 0x{:08x} at byte 28",
            flags & !FLAG_LABELS
        )));
    }
    let labelled = flags & FLAG_LABELS != 0;
    // All u32 products fit in u64; usize is 64-bit on every platform we build for,
    // but check anyway so a hostile header cannot overflow.
    let n = n_train.checked_add(n_test).ok_or_else(|| {
        err(format!(
            "n_train {n_train} + n_test {n_test} (bytes 20..28) overflows"
        ))
    })?;
    // A data set of `n x sites` bytes must be addressable even with n = 0.
    let sites = rows
        .checked_mul(cols)
        .filter(|&s| isize::try_from(s).is_ok())
        .ok_or_else(|| {
            err(format!(
                "image shape {rows} x {cols} (bytes 12..20) is too large to address"
            ))
        })?;
    let per_image = sites.div_ceil(8);
    let labels_len = if labelled { n } else { 0 };
    let expected = per_image
        .checked_mul(n)
        .and_then(|b| b.checked_add(HEADER_LEN + labels_len + 4))
        .ok_or_else(|| err("sizes in the header overflow".into()))?;
    if bytes.len() != expected {
        return Err(err(format!(
            "{} bytes long, but the header (bytes 12..32: {rows} x {cols} images, \
             {n_train} train + {n_test} test, labels {}) implies {expected} bytes{}",
            bytes.len(),
            if labelled { "present" } else { "absent" },
            if bytes.len() < expected {
                " (truncated)"
            } else {
                " (trailing bytes)"
            }
        )));
    }
    let body_end = bytes.len() - 4;
    let stored = u32_at(body_end);
    let computed = crc32fast::hash(&bytes[..body_end]);
    if stored != computed {
        return Err(err(format!(
            "CRC-32 mismatch: stored 0x{stored:08x} at byte {body_end}, computed \
             0x{computed:08x} over bytes 0..{body_end} (the file is corrupt)"
        )));
    }
    let labels = &bytes[HEADER_LEN..HEADER_LEN + labels_len];
    let packed_start = HEADER_LEN + labels_len;
    let mut samples = Array2::<u8>::zeros((n, sites));
    for (i, mut row) in samples.rows_mut().into_iter().enumerate() {
        let start = packed_start + i * per_image;
        let img = &bytes[start..start + per_image];
        for (p, v) in row.iter_mut().enumerate() {
            *v = (img[p / 8] >> (7 - p % 8)) & 1;
        }
        if sites % 8 != 0 {
            let pad_mask = 0xffu8 >> (sites % 8);
            if img[per_image - 1] & pad_mask != 0 {
                return Err(err(format!(
                    "image {i}: padding bits of byte {} are not zero",
                    start + per_image - 1
                )));
            }
        }
    }
    let split = |range: std::ops::Range<usize>| -> Result<Dataset> {
        let d = Dataset::binary(samples.slice(ndarray::s![range.clone(), ..]).to_owned())?
            .with_image_shape((rows, cols))?;
        if labelled {
            d.with_labels(labels[range].to_vec())
        } else {
            Ok(d)
        }
    };
    Ok((split(0..n_train)?, split(n_train..n)?))
}

/// Encodes `(train, test)` as a `TNLBITS` file in memory.
///
/// # Errors
/// [`Error::InvalidArgument`] if a set is not binary, the two sets differ in
/// `num_sites` or image shape, one has labels and the other not, or a count does not
/// fit in `u32`. Sets without an image shape are stored as `1 x num_sites` images.
pub fn encode_packed(train: &Dataset, test: &Dataset) -> Result<Vec<u8>> {
    for (name, d) in [("train", train), ("test", test)] {
        if d.num_states() != 2 {
            return Err(Error::invalid_argument(
                name,
                format!(
                    "TNLBITS stores binary data, this set has num_states = {}",
                    d.num_states()
                ),
            ));
        }
    }
    let shape_of = |d: &Dataset| d.image_shape().unwrap_or((1, d.num_sites()));
    let (rows, cols) = shape_of(train);
    if shape_of(test) != (rows, cols) || train.num_sites() != test.num_sites() {
        return Err(Error::invalid_argument(
            "test",
            format!(
                "image shape {:?} differs from the train set's {:?}",
                shape_of(test),
                (rows, cols)
            ),
        ));
    }
    if train.labels().is_some() != test.labels().is_some() {
        return Err(Error::invalid_argument(
            "test",
            "either both sets have labels or neither has",
        ));
    }
    let to_u32 = |name: &str, v: usize| {
        u32::try_from(v).map_err(|_| Error::invalid_argument(name, format!("{v} exceeds u32")))
    };
    let mut out = MAGIC.to_vec();
    for v in [
        VERSION,
        to_u32("rows", rows)?,
        to_u32("cols", cols)?,
        to_u32("train", train.len())?,
        to_u32("test", test.len())?,
        u32::from(train.labels().is_some()) * FLAG_LABELS,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for d in [train, test] {
        out.extend_from_slice(d.labels().unwrap_or(&[]));
    }
    let per_image = train.num_sites().div_ceil(8);
    for d in [train, test] {
        for row in d.samples().rows() {
            let mut img = vec![0u8; per_image];
            for (p, &v) in row.iter().enumerate() {
                img[p / 8] |= v << (7 - p % 8);
            }
            out.extend_from_slice(&img);
        }
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}
