//! Checked sizes and fallible allocation for tensors.
//!
//! Every element count computed from user input goes through [`checked_len`] (a
//! checked product) and every buffer sized by user input is allocated with
//! [`try_zeroed_vec`] or [`try_vec_with_capacity`], so that a shape whose product
//! overflows, whose byte size does not fit in `isize` ([`MAX_TENSOR_BYTES`]) or that
//! the allocator refuses is an [`Error::InvalidArgument`] naming the shape, not a
//! wrapped size, a panic or an abort.

use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// Largest byte size of one tensor buffer: `isize::MAX` (what Rust allocations can
/// address). A request beyond it is refused before allocating; a request below it
/// that the allocator cannot satisfy is refused by the allocator (an `Err`, never an
/// abort).
pub const MAX_TENSOR_BYTES: usize = isize::MAX as usize;

/// The number of elements of `shape` (checked product), errors naming `context`
/// and the shape when the product of its non-zero sizes overflows `isize` (ndarray's
/// rule for any array, even an empty one) or when `elements * size_of::<T>()`
/// exceeds [`MAX_TENSOR_BYTES`].
pub(crate) fn checked_len<T>(shape: &[usize], context: &str) -> Result<usize> {
    let nonzero = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| too_large(context, shape, "the element count overflows"))?;
    let n = if shape.contains(&0) { 0 } else { nonzero };
    check_bytes::<T>(n, shape, context)?;
    Ok(n)
}

/// Product of `dims` saturating at `usize::MAX` (for sizes only used for choices,
/// never for allocation or indexing).
pub(crate) fn saturating_len(dims: impl IntoIterator<Item = usize> + Clone) -> usize {
    if dims.clone().into_iter().any(|d| d == 0) {
        return 0;
    }
    dims.into_iter().fold(1usize, |a, d| a.saturating_mul(d))
}

fn check_bytes<T>(n: usize, shape: &[usize], context: &str) -> Result<()> {
    match n.checked_mul(std::mem::size_of::<T>().max(1)) {
        Some(b) if b <= MAX_TENSOR_BYTES => Ok(()),
        _ => Err(too_large(
            context,
            shape,
            &format!(
                "{n} elements of {} bytes exceed the limit of {MAX_TENSOR_BYTES} bytes",
                std::mem::size_of::<T>()
            ),
        )),
    }
}

fn too_large(context: &str, shape: &[usize], why: &str) -> Error {
    Error::invalid_argument(
        "shape",
        format!("{context}: a tensor of shape {shape:?} is too large: {why}"),
    )
}

fn alloc_failed(context: &str, n: usize, bytes: usize) -> Error {
    Error::invalid_argument(
        "shape",
        format!(
            "{context}: cannot allocate {n} elements ({bytes} bytes): the allocator refused \
             the request"
        ),
    )
}

/// A vector of `n` zeros, allocated fallibly (zeroed pages: as fast as `vec![0; n]`).
pub(crate) fn try_zeroed_vec<T: Scalar>(n: usize, context: &str) -> Result<Vec<T>> {
    let size = std::mem::size_of::<T>();
    let bytes = n
        .checked_mul(size)
        .filter(|&b| b <= MAX_TENSOR_BYTES)
        .ok_or_else(|| too_large(context, &[n], "the byte size overflows"))?;
    if bytes == 0 {
        return Ok(vec![T::zero(); n]);
    }
    let layout = std::alloc::Layout::array::<T>(n).map_err(|_| alloc_failed(context, n, bytes))?;
    // SAFETY: `layout` has a non-zero size. `Scalar` is sealed to `f64` and
    // `Complex64`, whose zero is the all-zero bit pattern, so the zeroed buffer holds
    // `n` initialised values; the vector takes ownership of an allocation made with
    // the global allocator and this exact layout (capacity = length = n).
    unsafe {
        let p = std::alloc::alloc_zeroed(layout) as *mut T;
        if p.is_null() {
            return Err(alloc_failed(context, n, bytes));
        }
        advise_huge_pages(p as *const u8, bytes);
        Ok(Vec::from_raw_parts(p, n, n))
    }
}

/// Buffers of at least this many bytes are backed by transparent huge pages where
/// the system allows it (see [`advise_huge_pages`]); numpy uses the same threshold.
pub(crate) const HUGE_PAGE_MIN_BYTES: usize = 1 << 22;

/// Asks the kernel to back the 2 MiB-aligned interior of a fresh buffer of `bytes`
/// bytes at `p` with transparent huge pages (Linux `madvise(MADV_HUGEPAGE)`; a
/// no-op elsewhere, below [`HUGE_PAGE_MIN_BYTES`], or when the kernel declines).
///
/// A large fresh allocation is a new mapping whose pages are faulted in one by one
/// on first write; with 4 KiB pages, writing a 134 MB result cost 150-170 ms of
/// page faults on the development VM against 15 ms with huge pages (one fault per
/// 2 MiB). The advice changes no contents and no semantics, only the page size.
#[inline]
pub(crate) fn advise_huge_pages(p: *const u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        if bytes < HUGE_PAGE_MIN_BYTES {
            return;
        }
        const HUGE: usize = 1 << 21;
        let start = (p as usize).saturating_add(HUGE - 1) & !(HUGE - 1);
        let end = (p as usize).saturating_add(bytes) & !(HUGE - 1);
        if end > start {
            // SAFETY: [start, end) lies inside the caller's live allocation; madvise
            // with MADV_HUGEPAGE is advisory (it neither reads nor changes the
            // memory), and a failure (e.g. THP disabled) is harmless and ignored.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (p, bytes);
    }
}

/// An empty vector with room for `n` elements, reserved fallibly.
pub(crate) fn try_vec_with_capacity<T>(n: usize, context: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        alloc_failed(
            context,
            n,
            n.saturating_mul(std::mem::size_of::<T>().max(1)),
        )
    })?;
    advise_huge_pages(
        v.as_ptr() as *const u8,
        v.capacity().saturating_mul(std::mem::size_of::<T>()),
    );
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_len_refuses_overflow_and_huge_sizes() {
        assert_eq!(checked_len::<f64>(&[2, 3, 0], "t").unwrap(), 0);
        assert_eq!(checked_len::<f64>(&[1 << 20, 1 << 20, 0], "t").unwrap(), 0);
        assert!(checked_len::<f64>(&[1 << 40, 1 << 40, 0], "t").is_err());
        assert_eq!(saturating_len([1usize << 40, 1 << 40, 0]), 0);
        assert_eq!(saturating_len([1usize << 40, 1 << 40]), usize::MAX);
        assert_eq!(checked_len::<f64>(&[], "t").unwrap(), 1);
        assert!(checked_len::<f64>(&[1 << 32, 1 << 32], "t").is_err());
        assert!(checked_len::<f64>(&[1 << 62], "t").is_err());
        assert!(checked_len::<f64>(&[1 << 59], "t").is_ok());
    }

    #[test]
    fn try_zeroed_vec_is_zero_and_refuses_absurd() {
        let v = try_zeroed_vec::<f64>(1000, "t").unwrap();
        assert!(v.iter().all(|&x| x == 0.0) && v.len() == 1000);
        assert!(try_zeroed_vec::<f64>(usize::MAX / 4, "t").is_err());
        assert!(try_zeroed_vec::<num_complex::Complex64>(1 << 58, "t").is_err());
    }
}
