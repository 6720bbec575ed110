//! IDX files: the format of MNIST, Fashion-MNIST and EMNIST.
//!
//! An IDX file is a 4-byte big-endian magic number `0x0000TTNN` (`TT` the element
//! type, `0x08` = unsigned byte; `NN` the number of dimensions), then `NN` big-endian
//! `u32` dimension sizes, then the elements in row-major order. Image files have magic
//! `0x00000803` (dimensions: images, rows, columns), label files `0x00000801`
//! (dimension: items). Files may be gzip-compressed (as distributed, `*.gz`): gzip is
//! recognised by its magic bytes `1f 8b`, not by the file name. Byte offsets in error
//! messages of compressed files count in the decompressed stream.
//!
//! ```no_run
//! use tnlearn::io::idx;
//!
//! // Pixel = 1 iff grey / 255 > 0.5, i.e. grey >= 128.
//! let train = idx::read_labeled_images(
//!     "train-images-idx3-ubyte.gz",
//!     "train-labels-idx1-ubyte.gz",
//!     0.5,
//! )?;
//! assert_eq!(train.image_shape(), Some((28, 28)));
//! # Ok::<(), tnlearn::Error>(())
//! ```

use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use super::{format_error, is_gzip, read_exact_then_end, read_file};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// Magic number of an IDX file of unsigned-byte images (3 dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (1 dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Grey-level images as stored in an IDX file: `n_images x (rows * cols)` bytes in
/// `0..=255`, row-major within each image, and the image shape `(rows, cols)`.
///
/// ```
/// use tnlearn::io::idx::{read_grey_images, GreyImages};
///
/// let path = std::env::temp_dir().join("tnlearn_doc_grey.idx");
/// // An IDX image file: magic 0x00000803, 1 image of 2 x 2 pixels, then the bytes.
/// let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2];
/// bytes.extend([0, 255, 128, 7]);
/// std::fs::write(&path, bytes).unwrap();
/// let (images, shape): GreyImages = read_grey_images(&path)?;
/// assert_eq!((images.dim(), shape), ((1, 4), (2, 2)));
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub type GreyImages = (Array2<u8>, (usize, usize));

/// Reads an IDX image file (magic `0x00000803`, plain or gzip) without thresholding.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] if it is not an IDX file
/// of unsigned-byte images, or is truncated or has trailing bytes (the message names
/// the byte offset and image).
pub fn read_grey_images(path: impl AsRef<Path>) -> Result<GreyImages> {
    let path = path.as_ref();
    let (bytes, gz) = load(path, IMAGES_MAGIC)?;
    let dims = parse_header(path, &bytes, IMAGES_MAGIC, gz)?;
    let (n, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows == 0 || cols == 0 {
        return Err(format_error(
            path,
            format!("image shape {rows} x {cols} (bytes 8..16) has a zero side"),
        ));
    }
    let data = body(path, &bytes, &dims, gz, "image")?;
    let pixels = rows
        .checked_mul(cols)
        .filter(|&p| isize::try_from(p).is_ok())
        .ok_or_else(|| {
            format_error(
                path,
                format!("image shape {rows} x {cols} (bytes 8..16) is too large to address"),
            )
        })?;
    let grey = Array2::from_shape_vec((n, pixels), data.to_vec()).map_err(|e| {
        format_error(
            path,
            format!("dimensions {dims:?} (from byte 4) do not make an array: {e}"),
        )
    })?;
    Ok((grey, (rows, cols)))
}

/// Reads an IDX image file (plain or gzip) and thresholds it into a binary
/// [`Dataset`] with its image shape.
///
/// The rule: pixel = 1 iff `grey as f64 / 255.0 > threshold`, strictly greater, with
/// `grey` the stored byte in `0..=255`. So `threshold = 0.5` keeps `grey >= 128`
/// (the same as `grey > 127.5`), and `threshold = 50.0 / 255.0` keeps `grey >= 51`
/// (the "thr50" data sets of Han et al. 2018).
///
/// # Errors
/// [`Error::InvalidArgument`] if `threshold` is not finite; otherwise as
/// [`read_grey_images`].
pub fn read_images(path: impl AsRef<Path>, threshold: f64) -> Result<Dataset> {
    check_threshold(threshold)?;
    let (grey, shape) = read_grey_images(path)?;
    binarize(grey, shape, threshold)
}

/// Reads an IDX label file (magic `0x00000801`, plain or gzip): one byte per item.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] if it is not an IDX
/// label file, or is truncated or has trailing bytes.
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let (bytes, gz) = load(path, LABELS_MAGIC)?;
    let dims = parse_header(path, &bytes, LABELS_MAGIC, gz)?;
    Ok(body(path, &bytes, &dims, gz, "label")?.to_vec())
}

/// Reads an image file and its label file and returns the thresholded images with
/// their labels attached (threshold rule as in [`read_images`]).
///
/// # Errors
/// As [`read_images`] and [`read_labels`]; [`Error::Format`] naming the label file if
/// the two files hold different numbers of items.
pub fn read_labeled_images(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    threshold: f64,
) -> Result<Dataset> {
    let data = read_images(images.as_ref(), threshold)?;
    let label_vec = read_labels(labels.as_ref())?;
    if label_vec.len() != data.len() {
        return Err(format_error(
            labels.as_ref(),
            format!(
                "holds {} labels, but the image file {} holds {} images",
                label_vec.len(),
                images.as_ref().display(),
                data.len()
            ),
        ));
    }
    data.with_labels(label_vec)
}

fn check_threshold(threshold: f64) -> Result<()> {
    if !threshold.is_finite() {
        return Err(Error::invalid_argument(
            "threshold",
            format!("must be a finite grey level (fraction of 255), got {threshold}"),
        ));
    }
    Ok(())
}

/// Thresholds grey bytes (`pixel = 1 iff grey / 255 > threshold`).
fn binarize(grey: Array2<u8>, shape: (usize, usize), threshold: f64) -> Result<Dataset> {
    let table: Vec<u8> = (0..=255u8)
        .map(|g| u8::from(f64::from(g) / 255.0 > threshold))
        .collect();
    let bits = grey.mapv_into(|g| table[usize::from(g)]);
    Dataset::binary(bits)?.with_image_shape(shape)
}

/// The bytes of an IDX file, decompressed if gzip, and whether it was gzip.
///
/// A gzip stream is inflated in three steps so that a small file cannot make us
/// inflate (or allocate) more than its header declares: the 4-byte magic, then the
/// dimension sizes, then exactly the number of data bytes they imply, with an error if
/// the stream holds more or less.
fn load(path: &Path, magic: u32) -> Result<(Vec<u8>, bool)> {
    let raw = read_file(path)?;
    if !is_gzip(&raw) {
        return Ok((raw, false));
    }
    let mut z = flate2::read::MultiGzDecoder::new(raw.as_slice());
    let mut bytes = read_prefix(&mut z, 4, path)?;
    // A wrong magic number is reported by `parse_header` with its diagnosis.
    let ndim = (magic & 0xff) as usize;
    if bytes.len() < 4 || bytes[..4] != magic.to_be_bytes() {
        parse_header(path, &bytes, magic, true)?;
        // parse_header rejects a short stream or a wrong magic number; this is a
        // fallback that cannot be reached.
        return Err(format_error(path, "bad IDX magic number at byte 0"));
    }
    bytes.extend(read_prefix(&mut z, 4 * ndim, path)?);
    let dims = parse_header(path, &bytes, magic, true)?;
    let total = dims
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
        .ok_or_else(|| {
            format_error(
                path,
                format!("dimensions {dims:?} (from byte 4) overflow a 64-bit byte count"),
            )
        })?;
    let header_len = bytes.len() as u64;
    let data = read_exact_then_end(&mut z, total, path, "the IDX data", header_len)?;
    bytes.extend_from_slice(&data);
    Ok((bytes, true))
}

/// Up to `n` bytes from the start of a decompressed stream (fewer if it ends early:
/// `parse_header` then reports the truncation).
fn read_prefix(z: &mut impl std::io::Read, n: usize, path: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    std::io::Read::take(z, n as u64)
        .read_to_end(&mut out)
        .map_err(|e| {
            format_error(
                path,
                format!(
                    "gzip stream is corrupt in the IDX header (offset {}): {e}",
                    out.len()
                ),
            )
        })?;
    Ok(out)
}

/// Checks the magic number and reads the dimension sizes.
fn parse_header(path: &Path, bytes: &[u8], magic: u32, gz: bool) -> Result<Vec<usize>> {
    let where_ = if gz {
        " of the decompressed stream"
    } else {
        ""
    };
    let expected_ndim = (magic & 0xff) as usize;
    let kind = if magic == IMAGES_MAGIC {
        "image"
    } else {
        "label"
    };
    if bytes.len() < 4 {
        return Err(format_error(
            path,
            format!(
                "{} bytes long{where_}: too short for the 4-byte IDX magic number",
                bytes.len()
            ),
        ));
    }
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if found != magic {
        let hint = if bytes[0] != 0 || bytes[1] != 0 {
            "not an IDX file (its first two bytes must be zero)".to_string()
        } else if bytes[2] != 0x08 {
            format!(
                "element type 0x{:02x} at byte 2; only 0x08 (unsigned byte) is supported",
                bytes[2]
            )
        } else if found == IMAGES_MAGIC || found == LABELS_MAGIC {
            let other = if found == IMAGES_MAGIC {
                "an image"
            } else {
                "a label"
            };
            let wanted = if magic == IMAGES_MAGIC {
                "an image"
            } else {
                "a label"
            };
            format!("this is {other} file, not {wanted} file")
        } else {
            format!(
                "{} dimensions at byte 3, a {kind} file has {expected_ndim}",
                bytes[3]
            )
        };
        return Err(format_error(
            path,
            format!("magic number 0x{found:08x} at byte 0, expected 0x{magic:08x}: {hint}"),
        ));
    }
    let header_len = 4 + 4 * expected_ndim;
    if bytes.len() < header_len {
        return Err(format_error(
            path,
            format!(
                "truncated header{where_}: a {kind} file's header is {header_len} bytes, \
                 the file has {}",
                bytes.len()
            ),
        ));
    }
    Ok((0..expected_ndim)
        .map(|k| {
            let o = 4 + 4 * k;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect())
}

/// The element bytes after the header, checked to be exactly as many as the
/// dimensions say.
fn body<'a>(
    path: &Path,
    bytes: &'a [u8],
    dims: &[usize],
    gz: bool,
    item: &str,
) -> Result<&'a [u8]> {
    let where_ = if gz { " (decompressed)" } else { "" };
    let header_len = 4 + 4 * dims.len();
    let per_item = dims[1..].iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let total = per_item.and_then(|p| p.checked_mul(dims[0]));
    let (Some(per_item), Some(total)) = (per_item, total) else {
        return Err(format_error(
            path,
            format!("dimensions {dims:?} (from byte 4) overflow the address space"),
        ));
    };
    let available = bytes.len() - header_len;
    if available < total {
        return Err(format_error(
            path,
            format!(
                "truncated: dimensions {dims:?} need {total} data bytes from offset \
                 {header_len}, but the file{where_} ends at offset {} (cut short in {item} {} of {}, counting from 0)",
                bytes.len(),
                available / per_item.max(1),
                dims[0]
            ),
        ));
    }
    if available > total {
        return Err(format_error(
            path,
            format!(
                "{} unexpected bytes after the last {item}, from offset {}{where_} \
                 (dimensions {dims:?})",
                available - total,
                header_len + total
            ),
        ));
    }
    Ok(&bytes[header_len..])
}
