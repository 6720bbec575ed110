//! The crate-wide error type.
//!
//! Every public function that takes user input returns [`Result<_, Error>`](Result).
//! Messages name the culprit (which index, which axis, which shape, which file) so a
//! user can act on them.

use std::path::PathBuf;

/// Convenience alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in tnlearn.
///
/// ```
/// use tnlearn::{einsum, Error, Tensor};
///
/// let a = Tensor::<f64>::zeros(&[2, 3]);
/// let b = Tensor::<f64>::zeros(&[4, 5]);
/// match einsum("ij,jk->ik", &[&a, &b]) {
///     Err(Error::IndexSizeMismatch { index, first, second, .. }) => {
///         assert_eq!((index, first, second), ('j', 3, 4));
///     }
///     other => panic!("expected a size mismatch, got {other:?}"),
/// }
/// // Every error has a message that names the culprit.
/// let e = einsum("ij,jk->iz", &[&a, &a]).unwrap_err();
/// assert!(e.to_string().contains("'z'"), "{e}");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two shapes that had to agree do not.
    #[error("shape mismatch in {context}: expected {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// What was being done (e.g. `"Tensor::add"`).
        context: String,
        /// The shape that was required.
        expected: Vec<usize>,
        /// The shape that was given.
        found: Vec<usize>,
    },

    /// A contraction index has different sizes in two places.
    #[error(
        "index '{index}' has size {first} in {first_place} but size {second} in {second_place}"
    )]
    IndexSizeMismatch {
        /// The index label (einsum letter, or `'#'` plus position for `contract`).
        index: char,
        /// Size at the first occurrence.
        first: usize,
        /// Where the first occurrence is (e.g. `"operand 0, axis 1"`).
        first_place: String,
        /// Size at the conflicting occurrence.
        second: usize,
        /// Where the conflicting occurrence is.
        second_place: String,
    },

    /// An einsum specification that cannot be parsed or is inconsistent.
    #[error(
        "invalid einsum spec {spec:?}: {reason} (character {character:?} at position {position})"
    )]
    InvalidSpec {
        /// The specification as given.
        spec: String,
        /// Byte position of the offending character.
        position: usize,
        /// The offending character.
        character: char,
        /// What is wrong with it.
        reason: String,
    },

    /// An axis number outside `0..order`, or repeated where it must be unique.
    #[error("invalid axis {axis} in {context} (tensor of order {order}): {reason}")]
    InvalidAxis {
        /// What was being done.
        context: String,
        /// The offending axis.
        axis: usize,
        /// The order (number of axes) of the tensor.
        order: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A NaN or infinite value where finite numbers are required.
    #[error("non-finite value {value} in {context} at flat position {position}")]
    NonFinite {
        /// What was being checked.
        context: String,
        /// Row-major flat position of the first offending entry.
        position: usize,
        /// The value found (printed).
        value: String,
    },

    /// An argument outside its allowed range (e.g. `max_bond = 0`).
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The parameter name.
        name: String,
        /// What is wrong and what is allowed.
        reason: String,
    },

    /// A numerical routine failed to converge even after its fallbacks.
    #[error("{routine} did not converge: {detail}")]
    NoConvergence {
        /// The routine (e.g. `"svd"`).
        routine: String,
        /// What was tried.
        detail: String,
    },

    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file whose contents are not what was expected.
    #[error("bad file {path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong (with a line or byte offset where there is one).
        reason: String,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid_argument(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::ShapeMismatch`].
    pub fn shape_mismatch(
        context: impl Into<String>,
        expected: impl Into<Vec<usize>>,
        found: impl Into<Vec<usize>>,
    ) -> Self {
        Error::ShapeMismatch {
            context: context.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}
