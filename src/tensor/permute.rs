//! Axis permutation into a fresh row-major buffer.
//!
//! Axes are first simplified (size-1 axes dropped, axes adjacent in both layouts
//! merged). If the innermost destination axis is contiguous in the source, rows are
//! copied with `copy_from_slice`; otherwise the innermost destination axis and the
//! source's unit-stride axis are transposed tile by tile (`TILE x TILE` blocks), so
//! both reads and writes stay within a few cache lines per tile.

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::scalar::Scalar;

const TILE: usize = 32;

/// Permutations of at most this many elements are planned as a gather table (one
/// source offset per destination element): tensors with many short axes (e.g. all
/// of size 2) otherwise spend most of their time in the index arithmetic.
pub(crate) const GATHER_MAX: usize = 1 << 13;

/// A planned axis permutation of a row-major tensor of a fixed shape.
#[derive(Clone, Debug)]
pub(crate) struct Permutation {
    shape: Vec<usize>,
    perm: Vec<usize>,
    /// `dst[i] = src[gather[i]]`, for small tensors.
    gather: Option<Box<[u32]>>,
}

impl Permutation {
    /// Plans `result axis i = axis perm[i]` of a row-major tensor of `shape`
    /// (`perm` a valid permutation).
    pub(crate) fn new(shape: &[usize], perm: &[usize]) -> Self {
        let len = crate::tensor::alloc::saturating_len(shape.iter().copied());
        let gather = (len <= GATHER_MAX).then(|| {
            let src: Vec<u32> = (0..len as u32).collect();
            let mut dst = vec![0u32; len];
            permute_into(&src, shape, perm, &mut dst);
            dst.into_boxed_slice()
        });
        Permutation {
            shape: shape.to_vec(),
            perm: perm.to_vec(),
            gather,
        }
    }

    /// Number of elements of the tensor.
    pub(crate) fn len(&self) -> usize {
        crate::tensor::alloc::saturating_len(self.shape.iter().copied())
    }

    /// A fresh row-major buffer holding `src` (row-major, the planned shape)
    /// permuted.
    pub(crate) fn apply<T: Scalar>(&self, src: &[T]) -> crate::error::Result<Vec<T>> {
        match &self.gather {
            Some(g) => {
                let mut dst =
                    crate::tensor::alloc::try_vec_with_capacity(g.len(), "permuted copy")?;
                dst.extend(g.iter().map(|&i| src[i as usize]));
                Ok(dst)
            }
            None => {
                // Initialised (zeroed pages), then overwritten: keeps this safe.
                let mut dst =
                    crate::tensor::alloc::try_zeroed_vec::<T>(src.len(), "permuted copy")?;
                permute_into(src, &self.shape, &self.perm, &mut dst);
                Ok(dst)
            }
        }
    }
}

/// Copies `view` with its axes permuted (`result axis i = view axis axes[i]`) into
/// standard layout. `axes` must already be a valid permutation.
pub(crate) fn permuted_copy<T: Scalar>(view: &ArrayViewD<'_, T>, axes: &[usize]) -> ArrayD<T> {
    let shape: Vec<usize> = axes.iter().map(|&a| view.shape()[a]).collect();
    match view.as_slice() {
        Some(src) => {
            let mut dst = vec![T::zero(); src.len()];
            permute_into(src, view.shape(), axes, &mut dst);
            ArrayD::from_shape_vec(IxDyn(&shape), dst).expect("element count matches")
        }
        None => view
            .clone()
            .permuted_axes(axes.to_vec())
            .as_standard_layout()
            .into_owned(),
    }
}

/// Writes `src` (row-major with `shape`) permuted by `perm` into `dst` (row-major with
/// shape `shape[perm[i]]`). `perm` must be a permutation of `0..shape.len()` and
/// both buffers must hold `prod(shape)` elements.
pub(crate) fn permute_into<T: Copy>(src: &[T], shape: &[usize], perm: &[usize], dst: &mut [T]) {
    let len = crate::tensor::alloc::saturating_len(shape.iter().copied());
    assert!(
        src.len() == len && dst.len() == len,
        "permute_into: buffer sizes"
    );
    if len == 0 {
        return;
    }
    // Source strides, then destination-ordered (size, source stride), simplified.
    let mut sstr = vec![0usize; shape.len()];
    let mut s = 1usize;
    for (st, &n) in sstr.iter_mut().zip(shape).rev() {
        *st = s;
        s *= n;
    }
    let mut dims: Vec<(usize, usize)> = Vec::with_capacity(shape.len());
    for &p in perm {
        let (n, st) = (shape[p], sstr[p]);
        if n == 1 {
            continue;
        }
        if let Some(last) = dims.last_mut() {
            if last.1 == st * n {
                last.0 *= n;
                last.1 = st;
                continue;
            }
        }
        dims.push((n, st));
    }
    if dims.len() <= 1 {
        // Identity up to size-1 axes.
        dst.copy_from_slice(src);
        return;
    }
    let nd = dims.len();
    // Destination strides of the simplified dims.
    let mut dstr = vec![0usize; nd];
    let mut s = 1usize;
    for (st, d) in dstr.iter_mut().zip(&dims).rev() {
        *st = s;
        s *= d.0;
    }
    let (inner_n, inner_s) = dims[nd - 1];
    if inner_s == 1 {
        // Contiguous rows: odometer over the outer dims.
        let outer = &dims[..nd - 1];
        let mut idx = vec![0usize; outer.len()];
        let mut so = 0usize;
        let mut d_off = 0usize;
        loop {
            dst[d_off..d_off + inner_n].copy_from_slice(&src[so..so + inner_n]);
            d_off += inner_n;
            let mut ax = outer.len();
            loop {
                if ax == 0 {
                    return;
                }
                ax -= 1;
                idx[ax] += 1;
                so += outer[ax].1;
                if idx[ax] < outer[ax].0 {
                    break;
                }
                so -= outer[ax].1 * outer[ax].0;
                idx[ax] = 0;
            }
        }
    }
    // Blocked 2-D transpose between the source's unit-stride axis `p` and the
    // destination's innermost axis, odometer over the rest.
    let p = dims
        .iter()
        .position(|d| d.1 == 1)
        .expect("row-major source has a unit-stride axis");
    let (pn, pd) = (dims[p].0, dstr[p]);
    let rest: Vec<(usize, usize, usize)> = (0..nd - 1)
        .filter(|&i| i != p)
        .map(|i| (dims[i].0, dims[i].1, dstr[i]))
        .collect();
    let mut idx = vec![0usize; rest.len()];
    let (mut so, mut d_off) = (0usize, 0usize);
    loop {
        for i0 in (0..pn).step_by(TILE) {
            let i1 = (i0 + TILE).min(pn);
            for j0 in (0..inner_n).step_by(TILE) {
                let j1 = (j0 + TILE).min(inner_n);
                for i in i0..i1 {
                    let drow = d_off + i * pd;
                    let srow = so + i;
                    for j in j0..j1 {
                        // Indices are within bounds: every (rest, i, j) maps to an
                        // element of both row-major buffers.
                        dst[drow + j] = src[srow + j * inner_s];
                    }
                }
            }
        }
        let mut ax = rest.len();
        loop {
            if ax == 0 {
                return;
            }
            ax -= 1;
            idx[ax] += 1;
            so += rest[ax].1;
            d_off += rest[ax].2;
            if idx[ax] < rest[ax].0 {
                break;
            }
            so -= rest[ax].1 * rest[ax].0;
            d_off -= rest[ax].2 * rest[ax].0;
            idx[ax] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Naive reference: destination multi-index -> source offset.
    fn naive(src: &[f64], shape: &[usize], perm: &[usize]) -> Vec<f64> {
        let dshape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
        let len: usize = shape.iter().product();
        let mut out = Vec::with_capacity(len);
        let mut idx = vec![0usize; shape.len()];
        for _ in 0..len {
            let mut off = 0;
            for (ax, &n) in shape.iter().enumerate() {
                let d = perm.iter().position(|&p| p == ax).unwrap();
                off = off * n + idx[d];
            }
            out.push(src[off]);
            for d in (0..dshape.len()).rev() {
                idx[d] += 1;
                if idx[d] < dshape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        out
    }

    #[test]
    fn planned_permutations_match_naive_on_both_paths() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for case in 0..300 {
            let order = rng.random_range(1..=6);
            // Small shapes (gather table) and a few above GATHER_MAX (blocked copy).
            let hi = if case % 10 == 0 { 24 } else { 5 };
            let shape: Vec<usize> = (0..order).map(|_| rng.random_range(1..=hi)).collect();
            let mut perm: Vec<usize> = (0..order).collect();
            for i in (1..order).rev() {
                perm.swap(i, rng.random_range(0..=i));
            }
            let len: usize = shape.iter().product();
            let src: Vec<f64> = (0..len).map(|i| i as f64).collect();
            let p = Permutation::new(&shape, &perm);
            assert_eq!(p.len(), len);
            assert_eq!(p.gather.is_some(), len <= GATHER_MAX);
            let got = p.apply(&src).unwrap();
            assert_eq!(got, naive(&src, &shape, &perm), "{shape:?} {perm:?}");
        }
    }
}
