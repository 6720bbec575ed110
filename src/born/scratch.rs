//! Reusable large `f64` buffers for the training loops.
//!
//! A two-node TTN update on `n` samples builds several `n x D^2` matrices (the
//! Khatri-Rao products of the messages, a scaled copy for the gradient): 82 MB
//! each at `n = 40 000`, `D = 16`. Buffers that large are above glibc's largest
//! `mmap` threshold (32 MB), so every allocation was a fresh mapping whose first
//! write page-faults on every page and every free unmapped it again: about 40 %
//! of the training time was system time. The pool keeps a few large buffers per
//! thread and hands them out again, so their pages stay mapped.
//!
//! The per-sample messages (`n x D`) go through the pool too: once the big
//! buffers stop being freed, glibc's dynamic `mmap` threshold no longer rises
//! and every message above 128 KiB would be a fresh mapping again.
//!
//! Only buffers of at least [`MIN_POOLED`] elements are kept (the allocator
//! recycles smaller ones well), at most [`MAX_KEPT`] per thread (the smallest is
//! dropped first); [`release`] frees them, e.g. at the end of a fit.

use std::cell::RefCell;

use ndarray::Array2;

/// Buffers shorter than this (elements; 128 KiB, glibc's initial `mmap`
/// threshold) are not kept.
pub(crate) const MIN_POOLED: usize = 1 << 14;
/// At most this many buffers are kept per thread. The pool only holds buffers
/// that were in use at the same time, so it never holds more than the peak
/// working set of the fit.
pub(crate) const MAX_KEPT: usize = 32;

thread_local! {
    static POOL: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

/// An empty pooled buffer with capacity `len..=2 len` (the smallest such; a much
/// larger buffer is left for a request of its size), if there is one.
fn take(len: usize) -> Option<Vec<f64>> {
    if len < MIN_POOLED {
        return None;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, v)| v.capacity() >= len && v.capacity() / 2 <= len)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        best.map(|i| {
            let mut v = pool.swap_remove(i);
            v.clear();
            v
        })
    })
}

/// A zero-filled vector of length `len`, reusing a pooled buffer when one fits
/// (see [`take`]).
pub(crate) fn zeroed(len: usize) -> Vec<f64> {
    match take(len) {
        Some(mut v) => {
            v.resize(len, 0.0);
            v
        }
        None => vec![0.0; len],
    }
}

/// A standard-layout copy of `a` in a pooled buffer when one fits (written once,
/// not zeroed first).
pub(crate) fn copy_of(a: &Array2<f64>) -> Array2<f64> {
    match take(a.len()) {
        Some(mut v) => {
            v.extend(a.iter().copied());
            Array2::from_shape_vec(a.dim(), v).expect("as many elements as `a`")
        }
        None => a.as_standard_layout().into_owned(),
    }
}

/// A zero-filled `rows x cols` matrix (standard layout) from [`zeroed`].
///
/// # Panics
/// If `rows * cols` overflows (the callers' sizes are products of message
/// dimensions already allocated).
pub(crate) fn zeros(rows: usize, cols: usize) -> Array2<f64> {
    let len = rows.checked_mul(cols).expect("matrix size overflows usize");
    Array2::from_shape_vec((rows, cols), zeroed(len)).expect("rows x cols elements")
}

/// Returns a buffer to this thread's pool (dropped if small, or if the pool is
/// full and it is the smallest).
pub(crate) fn recycle(v: Vec<f64>) {
    if v.capacity() < MIN_POOLED {
        return;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.push(v);
        if pool.len() > MAX_KEPT {
            let smallest = pool
                .iter()
                .enumerate()
                .min_by_key(|(_, v)| v.capacity())
                .map(|(i, _)| i)
                .expect("non-empty");
            pool.swap_remove(smallest);
        }
    });
}

/// Returns a matrix's buffer to the pool.
pub(crate) fn recycle_matrix(a: Array2<f64>) {
    recycle(a.into_raw_vec_and_offset().0);
}

/// Frees every buffer kept by this thread.
pub(crate) fn release() {
    POOL.with(|pool| pool.borrow_mut().clear());
}

/// Calls [`release`] when dropped: held by a fit, it frees the pool however the
/// fit ends (errors included).
pub(crate) struct ReleaseOnDrop;

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        release();
    }
}

/// Bytes kept by this thread's pool.
#[cfg(test)]
pub(crate) fn kept_bytes() -> usize {
    POOL.with(|pool| pool.borrow().iter().map(|v| v.capacity() * 8).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_zeroes_and_bounds_the_pool() {
        release();
        let mut a = zeroed(MIN_POOLED + 5);
        a.iter_mut().for_each(|x| *x = 7.0);
        let ptr = a.as_ptr();
        recycle(a);
        // A smaller request reuses the same buffer, zero-filled.
        let b = zeroed(MIN_POOLED + 1);
        assert_eq!(b.as_ptr(), ptr);
        assert_eq!(b.len(), MIN_POOLED + 1);
        assert!(b.iter().all(|&x| x == 0.0));
        recycle(b);
        // A larger request cannot, nor a much smaller one.
        let c = zeroed(2 * MIN_POOLED);
        assert_ne!(c.as_ptr(), ptr);
        let big = zeroed(4 * MIN_POOLED);
        let big_ptr = big.as_ptr();
        recycle(big);
        let small = zeroed(MIN_POOLED);
        assert_ne!(small.as_ptr(), big_ptr);
        let again = zeroed(3 * MIN_POOLED);
        assert_eq!(again.as_ptr(), big_ptr);
        assert!(c.iter().all(|&x| x == 0.0));
        // Small buffers are not kept; the pool holds at most MAX_KEPT.
        recycle(vec![1.0; 10]);
        for _ in 0..MAX_KEPT + 3 {
            recycle(vec![0.0; MIN_POOLED]);
        }
        recycle(c);
        assert!(kept_bytes() <= MAX_KEPT * 2 * MIN_POOLED * 8);
        POOL.with(|p| assert_eq!(p.borrow().len(), MAX_KEPT));
        // The largest buffers survive the bound.
        POOL.with(|p| assert!(p.borrow().iter().any(|v| v.capacity() >= 2 * MIN_POOLED)));
        // A copy equals its source, in a pooled buffer when one fits.
        let src = Array2::from_shape_fn((2, MIN_POOLED), |(i, j)| (i * 7 + j) as f64);
        let before = POOL.with(|p| p.borrow().len());
        let copy = copy_of(&src);
        assert_eq!(copy, src);
        assert_eq!(POOL.with(|p| p.borrow().len()), before - 1);
        recycle_matrix(copy);
        let m = zeros(3, MIN_POOLED);
        assert_eq!(m.dim(), (3, MIN_POOLED));
        recycle_matrix(m);
        release();
        assert_eq!(kept_bytes(), 0);
    }
}
