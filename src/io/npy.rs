//! NumPy `.npy` arrays and `.npz` archive members of binary data.
//!
//! Accepted arrays are 2-D, `n_samples x n_sites`, C or Fortran order, of any integer
//! type (`int8` .. `int64`, `uint8` .. `uint64`, either byte order), `bool`, or
//! `float32`/`float64`; every value must be exactly 0 or 1 ([`read_binary`]) or a
//! whole number in `0..num_states` ([`read_states`], up to 256 states). Reading goes through
//! the [`ndarray-npy`](https://docs.rs/ndarray-npy) crate.
//!
//! ```no_run
//! use tnlearn::io::npy;
//!
//! // 1000 x 784 int8 in {0, 1}
//! let train = npy::read_binary("rand1k_thr50_train.npy")?.with_image_shape((28, 28))?;
//! // member `data` of an .npz archive
//! let cap = npy::read_npz_binary("mnist28_thr127.5_100perclass.npz", "data")?;
//! # Ok::<(), tnlearn::Error>(())
//! ```

use std::fmt::Display;
use std::io::{Cursor, Read};
use std::path::Path;

use ndarray::{Array2, ArrayView2};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement, WriteNpyExt};

use super::{format_error, read_exact_then_end, read_file};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// The six magic bytes that start every `.npy` file.
const NPY_MAGIC: &[u8; 6] = b"\x93NUMPY";
/// The four bytes that start a zip archive (an `.npz` file).
const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// Reads a 2-D `.npy` array of 0/1 values as a binary [`Dataset`] (no labels, no
/// image shape: add them with [`Dataset::with_labels`] and
/// [`Dataset::with_image_shape`]).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] naming the file if it
/// is not a `.npy` file, is truncated or has trailing bytes, has an unsupported dtype,
/// is not 2-D, or holds a value other than 0 or 1 (the message names the sample and
/// site).
pub fn read_binary(path: impl AsRef<Path>) -> Result<Dataset> {
    read_states(path, 2)
}

/// Reads a 2-D `.npy` array of integer values in `0..num_states` (integer, bool or
/// float dtypes, as [`read_binary`]; floats must be whole numbers) as a [`Dataset`]
/// with `num_states` states per site, e.g. grey levels quantised to 4 or 16 values.
///
/// ```no_run
/// // 10 x 64 image patches with 4 grey levels, stored as int64 in 0..4
/// let data = tnlearn::io::npy::read_states("patches.npy", 4)?;
/// assert_eq!(data.num_states(), 4);
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] if `num_states` is outside `2..=256`; otherwise as
/// [`read_binary`], with a value outside `0..num_states` named by sample and site.
pub fn read_states(path: impl AsRef<Path>, num_states: usize) -> Result<Dataset> {
    check_states(num_states)?;
    let path = path.as_ref();
    let bytes = read_file(path)?;
    parse_states(path, &bytes, "", num_states)
}

/// Reads the member `name` (with or without the `.npy` suffix) of an `.npz` archive
/// (compressed or not) as a binary [`Dataset`], with the same rules as [`read_binary`].
///
/// # Errors
/// As [`read_binary`]; [`Error::Format`] listing the archive's members if `name` is
/// not one of them.
pub fn read_npz_binary(path: impl AsRef<Path>, name: &str) -> Result<Dataset> {
    read_npz_states(path, name, 2)
}

/// Reads the member `name` of an `.npz` archive as a [`Dataset`] with `num_states`
/// states per site, with the rules of [`read_states`].
///
/// # Errors
/// As [`read_npz_binary`] and [`read_states`].
pub fn read_npz_states(path: impl AsRef<Path>, name: &str, num_states: usize) -> Result<Dataset> {
    check_states(num_states)?;
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let mut zip = open_npz(path, &bytes)?;
    let (data, context) = npz_member(&mut zip, path, name, Some(2))?;
    parse_states(path, &data, &context, num_states)
}

/// The bytes of the `.npy` member `name` (with or without the suffix) of an open
/// `.npz` archive, and a context string naming the member for messages. Inflated
/// in steps, never trusting a size before the stream delivers it: the fixed
/// prefix, the header it announces, then exactly the data bytes the header's shape
/// and dtype imply (an error if the member holds more or less), so the result is
/// a complete `.npy` file whose header matches its data. `ndim`: the number of
/// dimensions the array must have (`None`: any).
pub(crate) fn npz_member<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    path: &Path,
    name: &str,
    ndim: Option<usize>,
) -> Result<(Vec<u8>, String)> {
    let member = name.strip_suffix(".npy").unwrap_or(name);
    let context = format!(" (member {member:?})");
    let file_name = [format!("{member}.npy"), member.to_string()]
        .into_iter()
        .find(|n| zip.index_for_name(n).is_some());
    let Some(file_name) = file_name else {
        return Err(format_error(
            path,
            format!(
                "no array named {member:?} in the archive; it holds {:?}",
                member_names(zip)
            ),
        ));
    };
    let mut file = zip
        .by_name(&file_name)
        .map_err(|e| format_error(path, format!("corrupt zip archive{context}: {e}")))?;
    // Inflate in steps and never trust a size before the stream delivers it: the
    // fixed prefix, the header it announces, then exactly the data bytes the header's
    // shape and dtype imply (error if the member holds more or less).
    let declared = file.size();
    let mut data = Vec::new();
    (&mut file)
        .take(NPY_PREFIX as u64)
        .read_to_end(&mut data)
        .map_err(|e| format_error(path, format!("corrupt zip member{context}: {e}")))?;
    let header_end = npy_header_end(path, &data, declared, &context)?;
    let header_bytes = read_header_rest(
        &mut file,
        header_end.saturating_sub(data.len()),
        path,
        &context,
    )?;
    data.extend_from_slice(&header_bytes);
    let (_, data_len, _) = npy_data_len(path, &data, &context, ndim)?;
    let total = (header_end as u64).checked_add(data_len);
    if total != Some(declared) {
        return Err(format_error(
            path,
            format!(
                "zip member{context} declares {declared} uncompressed bytes, but its .npy \
                 header (bytes 0..{header_end}) implies {}",
                total.map_or("more than 2^64".to_string(), |t| t.to_string())
            ),
        ));
    }
    // The fixed-size prefix read may already hold the first data bytes.
    let have = (data.len() - header_end) as u64;
    let body = read_exact_then_end(
        &mut file,
        data_len.saturating_sub(have),
        path,
        &format!("the array data{context}"),
        data.len() as u64,
    )?;
    data.extend_from_slice(&body);
    Ok((data, context))
}

/// `num_states` must be in `2..=256` (data values are `u8`).
fn check_states(num_states: usize) -> Result<()> {
    if !(2..=256).contains(&num_states) {
        return Err(Error::invalid_argument(
            "num_states",
            format!("must be in 2..=256 (values are stored as u8), got {num_states}"),
        ));
    }
    Ok(())
}

/// The names of the arrays in an `.npz` archive (without the `.npy` suffix).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] if it is not a zip
/// archive.
pub fn npz_names(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    Ok(member_names(&open_npz(path, &bytes)?))
}

/// Writes the samples of `data` as a 2-D `uint8` `.npy` array (`n_samples x n_sites`,
/// C order). Labels and image shape are not stored.
///
/// # Errors
/// [`Error::Io`] naming the path if the file cannot be written.
pub fn write_samples(path: impl AsRef<Path>, data: &Dataset) -> Result<()> {
    let path = path.as_ref();
    let io_err = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io_err)?;
    let mut writer = std::io::BufWriter::new(file);
    data.samples()
        .write_npy(&mut writer)
        .map_err(|e| io_err(std::io::Error::other(e)))?;
    std::io::Write::flush(&mut writer).map_err(io_err)
}

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn open_npz<'a>(path: &Path, bytes: &'a [u8]) -> Result<Zip<'a>> {
    open_zip(path, Cursor::new(bytes))
}

/// Opens a zip archive (an `.npz` file) held in memory; the magic is checked
/// first, so another file type gets a message that says so.
pub(crate) fn open_zip<B: AsRef<[u8]>>(
    path: &Path,
    bytes: Cursor<B>,
) -> Result<zip::ZipArchive<Cursor<B>>> {
    let head = bytes.get_ref().as_ref();
    if !head.starts_with(ZIP_MAGIC) {
        return Err(format_error(
            path,
            format!(
                "bytes 0..4 are {:02x?}, not a zip archive (an .npz file starts with \"PK\\3\\4\")",
                &head[..head.len().min(4)]
            ),
        ));
    }
    zip::ZipArchive::new(bytes)
        .map_err(|e| format_error(path, format!("corrupt or truncated zip archive: {e}")))
}

fn member_names<R: Read + std::io::Seek>(zip: &zip::ZipArchive<R>) -> Vec<String> {
    zip.file_names()
        .map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string())
        .collect()
}

/// Checks the magic and the header (so a hostile shape cannot make us allocate more
/// than the file holds), then reads the array with the first matching element type.
fn parse_states(path: &Path, bytes: &[u8], context: &str, num_states: usize) -> Result<Dataset> {
    if !bytes.starts_with(NPY_MAGIC) {
        return Err(format_error(
            path,
            format!(
                "bytes 0..6{context} are {:02x?}, not the .npy magic \"\\x93NUMPY\"",
                &bytes[..bytes.len().min(6)]
            ),
        ));
    }
    npy_header_end(path, bytes, bytes.len() as u64, context)?;
    let (data_offset, needed, shape) = npy_data_len(path, bytes, context, Some(2))?;
    let available = (bytes.len() - data_offset) as u64;
    if needed > available {
        return Err(format_error(
            path,
            format!(
                "truncated: shape {shape}{context} needs {needed} bytes of array data \
                 from byte {data_offset}, the file has {available}"
            ),
        ));
    }
    read_any(bytes, path, context, data_offset, num_states)
}

/// Bytes before the header text: magic (6), version (2), header length (2 or 4; 4
/// read here, of which version 1 uses 2).
const NPY_PREFIX: usize = 12;

/// Checks the `.npy` prefix of `bytes` (magic, version) and returns the offset where
/// the array data starts (end of the header), after checking that the header length
/// fits in `limit` bytes of file. Needs `bytes.len() >= 10`.
fn npy_header_end(path: &Path, bytes: &[u8], limit: u64, context: &str) -> Result<usize> {
    if bytes.len() < 10 || !bytes.starts_with(NPY_MAGIC) {
        return Err(format_error(
            path,
            format!(
                "bytes 0..6{context} are {:02x?}, not the .npy magic \"\\x93NUMPY\" \
                 followed by a version and a header length ({} bytes in all)",
                &bytes[..bytes.len().min(6)],
                bytes.len()
            ),
        ));
    }
    let (prefix, len) = match bytes[6] {
        1 => (10, u64::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
        2 | 3 if bytes.len() >= 12 => (
            12,
            u64::from(u32::from_le_bytes([
                bytes[8], bytes[9], bytes[10], bytes[11],
            ])),
        ),
        2 | 3 => {
            return Err(format_error(
                path,
                format!("truncated .npy header{context}: {} bytes", bytes.len()),
            ))
        }
        v => {
            return Err(format_error(
                path,
                format!(
                    "unsupported .npy format version {v}.{} at byte 6{context}",
                    bytes[7]
                ),
            ))
        }
    };
    let end = prefix + len;
    if end > limit {
        return Err(format_error(
            path,
            format!(
                "truncated: the .npy header length at byte 8{context} is {len} bytes, but \
                 the file has {limit} bytes in all"
            ),
        ));
    }
    usize::try_from(end)
        .map_err(|_| format_error(path, format!("header length {len}{context} too large")))
}

/// Parses the header of a `.npy` whose header bytes are all present; returns the data
/// offset and the number of data bytes its shape and dtype imply.
fn npy_data_len(
    path: &Path,
    bytes: &[u8],
    context: &str,
    ndim: Option<usize>,
) -> Result<(usize, u64, String)> {
    let mut rest = bytes;
    let header = Header::from_reader(&mut rest)
        .map_err(|e| format_error(path, format!("bad .npy header{context}: {e}")))?;
    let data_offset = bytes.len() - rest.len();
    if ndim.is_some_and(|n| header.shape.len() != n) {
        return Err(format_error(
            path,
            format!(
                "the array{context} has {} dimensions (shape {:?}), expected 2 \
                 (n_samples x n_sites)",
                header.shape.len(),
                header.shape
            ),
        ));
    }
    let descr = header.type_descriptor.to_string();
    let item = descr
        .trim_matches(|c| c == '\'' || c == '"')
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse::<u64>()
        .unwrap_or(1)
        .max(1);
    let needed = header
        .shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
        .and_then(|n| n.checked_mul(item))
        .filter(|&n| n <= isize::MAX as u64)
        // ndarray also needs the product of the non-zero axes to be addressable,
        // even when another axis is 0.
        .filter(|_| {
            header
                .shape
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul((d as u64).max(1)))
                .and_then(|n| n.checked_mul(item))
                .is_some_and(|n| n <= isize::MAX as u64)
        })
        .ok_or_else(|| {
            format_error(
                path,
                format!(
                    "truncated: shape {:?} of dtype {descr}{context} (header before byte \
                     {data_offset}) needs more bytes than can be addressed",
                    header.shape
                ),
            )
        })?;
    Ok((
        data_offset,
        needed,
        format!("{:?} of dtype {descr}", header.shape),
    ))
}

/// Reads exactly `n` more header bytes of a zip member.
fn read_header_rest(file: &mut impl Read, n: usize, path: &Path, context: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    file.take(n as u64).read_to_end(&mut out).map_err(|e| {
        format_error(
            path,
            format!("corrupt zip member{context} in the .npy header: {e}"),
        )
    })?;
    if out.len() != n {
        return Err(format_error(
            path,
            format!(
                "truncated zip member{context}: the .npy header needs {n} more bytes, \
                 the member has {}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// The outcome of trying one element type.
enum Attempt<T> {
    Ok(Array2<T>),
    WrongType(String),
    Fatal(String),
}

fn describe_npy_error(e: ReadNpyError, data_offset: usize, len: usize) -> String {
    let at = format!(" (array data from byte {data_offset}; {len} bytes in all)");
    match e {
        ReadNpyError::WrongNdim(expected, found) => format!(
            "the array has {found} dimensions, expected {} (n_samples x n_sites)",
            expected.unwrap_or(2)
        ),
        ReadNpyError::MissingData => {
            format!("truncated: less array data than the header's shape requires{at}")
        }
        ReadNpyError::ExtraBytes(n) => format!("{n} unexpected bytes after the array data{at}"),
        ReadNpyError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            format!("truncated: {e}{at}")
        }
        ReadNpyError::ParseHeader(e) => format!("bad .npy header: {e}"),
        other => format!("{other}{at}"),
    }
}

fn attempt<T: ReadableElement>(bytes: &[u8], data_offset: usize) -> Attempt<T> {
    match Array2::<T>::read_npy(bytes) {
        Ok(a) => Attempt::Ok(a),
        Err(ReadNpyError::WrongDescriptor(d)) => Attempt::WrongType(d.to_string()),
        Err(e) => Attempt::Fatal(describe_npy_error(e, data_offset, bytes.len())),
    }
}

/// An element type whose values `0..num_states` become states.
trait State: ReadableElement + Display + Copy {
    /// The value as a state `< num_states`, if it is one.
    fn state(self, num_states: usize) -> Option<u8>;
}

macro_rules! int_state {
    ($($t:ty),*) => {$(
        impl State for $t {
            fn state(self, num_states: usize) -> Option<u8> {
                usize::try_from(self)
                    .ok()
                    .filter(|&v| v < num_states)
                    .and_then(|v| u8::try_from(v).ok())
            }
        }
    )*};
}
int_state!(i8, u8, i16, u16, i32, u32, i64, u64);

impl State for bool {
    fn state(self, _num_states: usize) -> Option<u8> {
        Some(u8::from(self))
    }
}

macro_rules! float_state {
    ($($t:ty),*) => {$(
        impl State for $t {
            fn state(self, num_states: usize) -> Option<u8> {
                // Whole numbers in range only (NaN fails every comparison).
                let v = f64::from(self);
                (v >= 0.0 && v < num_states as f64 && v.fract() == 0.0).then(|| v as u8)
            }
        }
    )*};
}
float_state!(f32, f64);

fn to_states<T: State>(
    a: ArrayView2<'_, T>,
    path: &Path,
    context: &str,
    num_states: usize,
) -> Result<Dataset> {
    let mut out = Array2::<u8>::zeros(a.raw_dim());
    for ((i, j), &v) in a.indexed_iter() {
        match v.state(num_states) {
            Some(b) => out[(i, j)] = b,
            None => {
                return Err(format_error(
                    path,
                    if num_states == 2 {
                        format!("value {v} at sample {i}, site {j}{context} is not 0 or 1")
                    } else {
                        format!(
                            "value {v} at sample {i}, site {j}{context} is not a state in \
                             0..{num_states}"
                        )
                    },
                ))
            }
        }
    }
    Dataset::new(out, num_states)
}

/// Tries every supported element type in turn (the first whose descriptor matches
/// reads the data) and converts to bits.
fn read_any(
    bytes: &[u8],
    path: &Path,
    context: &str,
    data_offset: usize,
    num_states: usize,
) -> Result<Dataset> {
    macro_rules! try_types {
        ($($t:ty),*) => {{
            let mut descr = Vec::new();
            $(
                match attempt::<$t>(bytes, data_offset) {
                    Attempt::Ok(a) => return to_states(a.view(), path, context, num_states),
                    Attempt::Fatal(reason) => {
                        return Err(format_error(path, format!("{reason}{context}")))
                    }
                    Attempt::WrongType(d) => descr.push(d),
                }
            )*
            descr.pop().unwrap_or_default()
        }};
    }
    let descr = try_types!(i8, u8, bool, i16, u16, i32, u32, i64, u64, f32, f64);
    Err(format_error(
        path,
        format!(
            "unsupported dtype {descr}{context}: expected an integer, bool or float \
             array of 0/1 values"
        ),
    ))
}
