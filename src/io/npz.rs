//! `.npz` archives of named arrays for exporting models to Python
//! (`export_npz` / `import_npz` of the Born machines): a writer of float64
//! arrays and byte members, and a reader that checks every member before it
//! allocates for it (the member's `.npy` header must match the bytes it holds,
//! see [`npy`](super::npy)).
//!
//! Layout convention: numeric arrays are C-order `float64`; small structured
//! metadata is a JSON document stored as a 1-D `uint8` array (numpy:
//! `json.loads(bytes(npz["meta"]))`), so that numpy alone, without pickle, reads
//! the whole archive.

use std::fs::File;
use std::io::{BufWriter, Cursor};
use std::path::{Path, PathBuf};

use ndarray::{Array1, ArrayBase, ArrayD, Data, Dimension};
use ndarray_npy::ReadNpyExt;

use super::npy::{npz_member, open_zip};
use super::{format_error, read_file};
use crate::error::{Error, Result};

/// Writes named arrays to a new (uncompressed) `.npz` file.
pub(crate) struct NpzOut {
    path: PathBuf,
    npz: ndarray_npy::NpzWriter<BufWriter<File>>,
}

impl NpzOut {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(NpzOut {
            path: path.to_path_buf(),
            npz: ndarray_npy::NpzWriter::new(BufWriter::new(file)),
        })
    }

    fn io(&self, e: impl std::fmt::Display) -> Error {
        Error::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e.to_string()),
        }
    }

    /// A float64 array of any dimension, C order.
    pub fn f64s<S: Data<Elem = f64>, D: Dimension>(
        &mut self,
        name: &str,
        a: &ArrayBase<S, D>,
    ) -> Result<()> {
        let a = a.as_standard_layout();
        self.npz.add_array(name, &a).map_err(|e| self.io(e))
    }

    /// Bytes as a 1-D `uint8` array.
    pub fn bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let a = Array1::from(bytes.to_vec());
        self.npz.add_array(name, &a).map_err(|e| self.io(e))
    }

    /// A JSON document, as its UTF-8 bytes (see [`NpzOut::bytes`]).
    pub fn json(&mut self, name: &str, value: &serde_json::Value) -> Result<()> {
        self.bytes(name, value.to_string().as_bytes())
    }

    /// Writes the archive's directory and closes the file.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        self.npz.finish().map_err(|e| Error::Io {
            path,
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(())
    }
}

/// Reads named members of an `.npz` file, each checked before it is allocated.
pub(crate) struct NpzIn {
    path: PathBuf,
    zip: zip::ZipArchive<Cursor<Vec<u8>>>,
}

impl NpzIn {
    /// Opens `path` (an `.npz` archive).
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = read_file(path)?;
        Ok(NpzIn {
            path: path.to_path_buf(),
            zip: open_zip(path, Cursor::new(bytes))?,
        })
    }

    /// The file (for error messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An [`Error::Format`] naming the file.
    pub fn error(&self, reason: impl Into<String>) -> Error {
        format_error(&self.path, reason.into())
    }

    /// Whether the archive has a member `name` (with or without `.npy`).
    pub fn has(&self, name: &str) -> bool {
        self.zip.index_for_name(&format!("{name}.npy")).is_some()
            || self.zip.index_for_name(name).is_some()
    }

    /// The float64 array `name`, any dimension, in standard layout; a member of
    /// another dtype is an error naming it.
    pub fn f64s(&mut self, name: &str) -> Result<ArrayD<f64>> {
        let (data, context) = npz_member(&mut self.zip, &self.path, name, None)?;
        let a = ArrayD::<f64>::read_npy(&data[..]).map_err(|e| {
            self.error(format!(
                "member {name:?}{context}: expected a float64 array: {e}"
            ))
        })?;
        Ok(if a.is_standard_layout() {
            a
        } else {
            a.as_standard_layout().into_owned()
        })
    }

    /// The 1-D `uint8` member `name` as bytes.
    pub fn bytes(&mut self, name: &str) -> Result<Vec<u8>> {
        let (data, _) = npz_member(&mut self.zip, &self.path, name, None)?;
        let a = Array1::<u8>::read_npy(&data[..])
            .map_err(|e| self.error(format!("member {name:?}: expected a 1-D uint8 array: {e}")))?;
        Ok(a.to_vec())
    }

    /// The JSON document stored in the `uint8` member `name`.
    pub fn json(&mut self, name: &str) -> Result<serde_json::Value> {
        let bytes = self.bytes(name)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| self.error(format!("member {name:?} is not valid JSON: {e}")))
    }
}

/// Field `key` of a JSON object as a `usize`, or an error naming the file and key.
pub(crate) fn json_usize(npz: &NpzIn, meta: &serde_json::Value, key: &str) -> Result<usize> {
    meta.get(key)
        .and_then(serde_json::Value::as_u64)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| {
            npz.error(format!(
                "meta: {key:?} is missing or not an unsigned integer"
            ))
        })
}

/// Field `key` of a JSON object as a string, or an error naming the file and key.
pub(crate) fn json_str<'v>(npz: &NpzIn, meta: &'v serde_json::Value, key: &str) -> Result<&'v str> {
    meta.get(key)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| npz.error(format!("meta: {key:?} is missing or not a string")))
}
