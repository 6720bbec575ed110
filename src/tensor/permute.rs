//! Axis permutation into a fresh row-major buffer.

use ndarray::{ArrayD, ArrayViewD};

use crate::scalar::Scalar;

/// Copies `view` with its axes permuted (`result axis i = view axis axes[i]`) into
/// standard layout. `axes` must already be a valid permutation.
pub(crate) fn permuted_copy<T: Scalar>(view: &ArrayViewD<'_, T>, axes: &[usize]) -> ArrayD<T> {
    view.clone()
        .permuted_axes(axes.to_vec())
        .as_standard_layout()
        .into_owned()
}
