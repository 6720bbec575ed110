//! Conversions between [`Tensor`] and ndarray arrays of fixed rank.
//!
//! `Array<T, D>` for `D` = [`Ix0`] .. [`Ix6`] converts into a [`Tensor`] with
//! `From` (the buffer moves when the array is row-major contiguous), and back with
//! `TryFrom`, which fails with [`Error::ShapeMismatch`] naming both orders when
//! the tensor's order is not the array's. [`ArrayD`](ndarray::ArrayD) converts both
//! ways with `From` (see [`Tensor::into_array`]).
//!
//! ```
//! use ndarray::{array, Array2};
//! use tnlearn::Tensor;
//!
//! let t = Tensor::from(array![[1.0, 2.0], [3.0, 4.0]]);
//! assert_eq!(t.shape(), &[2, 2]);
//! let back = Array2::try_from(t.clone())?;
//! assert_eq!(back[[1, 0]], 3.0);
//! // A matrix is not a vector: the error names both orders.
//! let e = ndarray::Array1::try_from(t).unwrap_err();
//! assert!(e.to_string().contains("order 2"));
//! # Ok::<(), tnlearn::Error>(())
//! ```

use ndarray::{Array, Dimension, Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6};

use crate::error::Error;
use crate::scalar::Scalar;

use super::Tensor;

/// `t` as an array of the fixed rank `D` (standard layout; the buffer moves).
fn to_fixed<T: Scalar, D: Dimension>(t: Tensor<T>) -> Result<Array<T, D>, Error> {
    let want = D::NDIM.unwrap_or(0);
    let shape = t.shape().to_vec();
    t.into_array().into_dimensionality::<D>().map_err(|_| {
        Error::shape_mismatch(
            format!(
                "Tensor -> Array of order {want}: the tensor has order {} (shape {shape:?})",
                shape.len()
            ),
            vec![want],
            vec![shape.len()],
        )
    })
}

macro_rules! fixed_rank_conversions {
    ($($dim:ty),*) => {$(
        impl<T: Scalar> From<Array<T, $dim>> for Tensor<T> {
            /// Moves the buffer when the array is in standard (row-major, contiguous)
            /// layout; copies into that layout otherwise.
            fn from(array: Array<T, $dim>) -> Self {
                Tensor::from(array.into_dyn())
            }
        }

        impl<T: Scalar> TryFrom<Tensor<T>> for Array<T, $dim> {
            type Error = Error;
            /// The tensor's data as an array of this rank (no copy); errors with
            /// [`Error::ShapeMismatch`] when the tensor has another order.
            fn try_from(t: Tensor<T>) -> Result<Self, Error> {
                to_fixed(t)
            }
        }
    )*};
}

fixed_rank_conversions!(Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6);

impl From<std::convert::Infallible> for Error {
    /// Never called: lets APIs that take `TryInto<...>` accept values that convert
    /// infallibly (e.g. an `Array3` where an `Array3` is stored).
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}
