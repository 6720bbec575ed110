//! Pairwise contraction: [`contract`] (tensordot) and the pairwise step shared with
//! [`ContractionPlan`](crate::ContractionPlan).
//!
//! A pairwise step sees its operands as (batches of) matrices: `A[b][FA, K]` times
//! `B[b][K, FB]` gives `C[b][FA, FB]`, where `b` runs over batch indices (in both
//! operands and still needed), `K` are the contracted indices and `FA`, `FB` the free
//! ones. A group of axes is used in place (no copy) whenever its axes are adjacent
//! and contiguous in memory in the chosen order; the GEMM backend accepts any row and
//! column strides, so transposed layouts cost nothing. Only an operand whose groups
//! cannot be expressed as strides is copied (with a cache-blocked permutation).

use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::alloc::{checked_len, saturating_len, try_zeroed_vec};
use crate::tensor::permute::Permutation;
use crate::tensor::Tensor;

/// Row-major strides of `shape`.
pub(crate) fn row_major_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut s: isize = 1;
    for (st, &n) in strides.iter_mut().zip(shape).rev() {
        *st = s;
        s = s.wrapping_mul(n.max(1) as isize);
    }
    strides
}

/// Merges `axes` (outer to inner) of a layout into one `(size, stride)` dimension,
/// or `None` when they are not contiguous in that order. Size-1 axes are ignored; a
/// group holding a size-0 axis merges to `(0, 1)` (it addresses no memory).
fn merge_group(
    shape: &[usize],
    strides: &[isize],
    axes: impl DoubleEndedIterator<Item = usize> + Clone,
) -> Option<(usize, isize)> {
    if axes.clone().any(|ax| shape[ax] == 0) {
        return Some((0, 1));
    }
    let mut size = 1usize;
    let mut stride: isize = 1;
    let mut started = false;
    for ax in axes.rev() {
        let n = shape[ax];
        if n == 1 {
            continue;
        }
        if !started {
            size = n;
            stride = strides[ax];
            started = true;
        } else {
            if strides[ax] != stride.wrapping_mul(size as isize) {
                return None;
            }
            size = size.checked_mul(n)?;
        }
    }
    Some((size, stride))
}

/// One batch dimension of a pairwise step: its size and its strides in A, B, C.
#[derive(Clone, Debug)]
pub(crate) struct BatchDim {
    size: usize,
    sa: isize,
    sb: isize,
    sc: isize,
}

/// A fully resolved pairwise step: optional input permutations, the batch loop and
/// the GEMM dimensions and strides. Contains no labels: executing it needs no lookup.
#[derive(Clone, Debug)]
pub(crate) struct PairStep {
    a_shape: Vec<usize>,
    b_shape: Vec<usize>,
    perm_a: Option<Permutation>,
    perm_b: Option<Permutation>,
    batch: Vec<BatchDim>,
    m: usize,
    n: usize,
    k: usize,
    a_rs: isize,
    a_cs: isize,
    b_rs: isize,
    b_cs: isize,
    c_rs: isize,
    c_cs: isize,
    /// Labels of the result, in memory order.
    pub out_labels: Vec<usize>,
    /// Shape of the result.
    pub out_shape: Vec<usize>,
    out_len: usize,
    /// Index in `batch` of a batch dimension that is innermost (unit stride) in the
    /// result while the products' C matrices have no unit stride (batch-trailing
    /// layouts such as `ijb,jkb->ikb`): run as a batch-blocked product (see
    /// [`run_blocked`]).
    blocked: Option<usize>,
}

impl PairStep {
    /// Number of elements copied by input permutations when executing this step.
    pub(crate) fn copied_elements(&self) -> usize {
        let a = saturating_len(self.a_shape.iter().copied());
        let b = saturating_len(self.b_shape.iter().copied());
        let perms =
            (a * self.perm_a.is_some() as usize).saturating_add(b * self.perm_b.is_some() as usize);
        // The batch-blocked product copies A and B (when strided) into tiles and
        // the result out of them, each element once.
        let tiles = if self.blocked.is_some() {
            let ga = self.a_rs != 1 && self.a_cs != 1;
            let gb = self.b_rs != 1 && self.b_cs != 1;
            (a * ga as usize)
                .saturating_add(b * gb as usize)
                .saturating_add(self.out_len)
        } else {
            0
        };
        perms.saturating_add(tiles)
    }
}

/// Plans the pairwise contraction of `A` (axes labelled `a_labels`, all distinct)
/// with `B`. Labels shared by both are contracted unless `needed(label)` (then they
/// are batch indices). When `preferred_out` is given (a permutation of the result's
/// labels) and the GEMM can write that layout directly, the result uses it.
///
/// Errors when the result's element count overflows or exceeds
/// [`MAX_TENSOR_BYTES`](crate::tensor::MAX_TENSOR_BYTES) for `T`.
pub(crate) fn build_pair<T>(
    a_labels: &[usize],
    a_shape: &[usize],
    b_labels: &[usize],
    b_shape: &[usize],
    needed: impl Fn(usize) -> bool,
    preferred_out: Option<&[usize]>,
) -> Result<PairStep> {
    // Classify: (axis in A, axis in B) for batch and contracted labels.
    let mut bt: Vec<(usize, usize)> = Vec::new();
    let mut kk: Vec<(usize, usize)> = Vec::new();
    let mut fa: Vec<usize> = Vec::new();
    for (i, &l) in a_labels.iter().enumerate() {
        match b_labels.iter().position(|&x| x == l) {
            Some(j) if needed(l) => bt.push((i, j)),
            Some(j) => kk.push((i, j)),
            None => fa.push(i),
        }
    }
    let fb: Vec<usize> = (0..b_labels.len())
        .filter(|&j| !a_labels.contains(&b_labels[j]))
        .collect();
    let sa = row_major_strides(a_shape);
    let sb = row_major_strides(b_shape);
    let len_a = saturating_len(a_shape.iter().copied());
    let len_b = saturating_len(b_shape.iter().copied());
    let a_fa_ok = merge_group(a_shape, &sa, fa.iter().copied()).is_some();
    let b_fb_ok = merge_group(b_shape, &sb, fb.iter().copied()).is_some();

    // Order of the contracted labels: as in A, or as in B; pick fewer copied elements.
    let mut k_by_b = kk.clone();
    k_by_b.sort_by_key(|p| p.1);
    let copies = |order: &[(usize, usize)]| {
        let ca = !a_fa_ok || merge_group(a_shape, &sa, order.iter().map(|p| p.0)).is_none();
        let cb = !b_fb_ok || merge_group(b_shape, &sb, order.iter().map(|p| p.1)).is_none();
        (
            ca,
            cb,
            (len_a * ca as usize).saturating_add(len_b * cb as usize),
        )
    };
    let (ca1, cb1, cost1) = copies(&kk);
    let (ca2, cb2, cost2) = copies(&k_by_b);
    let (korder, copy_a, copy_b) = if cost2 < cost1 {
        (k_by_b, ca2, cb2)
    } else {
        (kk, ca1, cb1)
    };

    // Layout of A as used by the GEMM: original, or permuted to [batch, FA, K].
    let (perm_a, a_pos, a_layout_shape) = if copy_a {
        let perm: Vec<usize> = bt
            .iter()
            .map(|p| p.0)
            .chain(fa.iter().copied())
            .chain(korder.iter().map(|p| p.0))
            .collect();
        let mut pos = vec![0usize; a_shape.len()];
        for (new, &old) in perm.iter().enumerate() {
            pos[old] = new;
        }
        let shape: Vec<usize> = perm.iter().map(|&o| a_shape[o]).collect();
        (Some(perm), pos, shape)
    } else {
        (None, (0..a_shape.len()).collect(), a_shape.to_vec())
    };
    let (perm_b, b_pos, b_layout_shape) = if copy_b {
        let perm: Vec<usize> = bt
            .iter()
            .map(|p| p.1)
            .chain(korder.iter().map(|p| p.1))
            .chain(fb.iter().copied())
            .collect();
        let mut pos = vec![0usize; b_shape.len()];
        for (new, &old) in perm.iter().enumerate() {
            pos[old] = new;
        }
        let shape: Vec<usize> = perm.iter().map(|&o| b_shape[o]).collect();
        (Some(perm), pos, shape)
    } else {
        (None, (0..b_shape.len()).collect(), b_shape.to_vec())
    };
    let la = row_major_strides(&a_layout_shape);
    let lb = row_major_strides(&b_layout_shape);
    // After the optional copies both K groups are contiguous (a copied operand is
    // laid out as [batch, FA, K] / [batch, K, FB]); an uncopied one was checked.
    let internal = |what: &str| {
        Error::invalid_argument(
            "operands",
            format!(
                "internal planning error ({what}) for shapes {a_shape:?} and {b_shape:?}; \
                 please report"
            ),
        )
    };
    let (k, a_cs) = merge_group(&a_layout_shape, &la, korder.iter().map(|p| a_pos[p.0]))
        .ok_or_else(|| internal("K group of A not contiguous"))?;
    let (k2, b_rs) = merge_group(&b_layout_shape, &lb, korder.iter().map(|p| b_pos[p.1]))
        .ok_or_else(|| internal("K group of B not contiguous"))?;
    debug_assert_eq!(k, k2);

    // Result layout: the preferred one if the GEMM can write it, else [batch, FA, FB].
    let natural: Vec<usize> = bt
        .iter()
        .map(|p| a_labels[p.0])
        .chain(fa.iter().map(|&i| a_labels[i]))
        .chain(fb.iter().map(|&j| b_labels[j]))
        .collect();
    let label_size = |l: usize| -> usize {
        match a_labels.iter().position(|&x| x == l) {
            Some(i) => a_shape[i],
            None => b_shape[b_labels.iter().position(|&x| x == l).expect("label of B")],
        }
    };
    // A result layout works when the kept (not demoted to loops) FA axes merge in
    // A's layout and in C's, and likewise the kept FB axes in B's and C's.
    // `dfa` / `dfb`: bit q set = fa[q] / fb[q] is demoted to a loop.
    let try_layout = |labels: &[usize], dfa: u64, dfb: u64| -> Option<Resolved> {
        let shape: Vec<usize> = labels.iter().map(|&l| label_size(l)).collect();
        let strides = row_major_strides(&shape);
        let pos = |l: usize| {
            labels
                .iter()
                .position(|&x| x == l)
                .expect("candidate layouts hold every result label")
        };
        let fa_keep = || {
            (0..fa.len())
                .filter(move |q| dfa >> q & 1 == 0)
                .map(|q| fa[q])
        };
        let fb_keep = || {
            (0..fb.len())
                .filter(move |q| dfb >> q & 1 == 0)
                .map(|q| fb[q])
        };
        let (m, a_rs) = merge_group(&a_layout_shape, &la, fa_keep().map(|i| a_pos[i]))?;
        let (n, b_cs) = merge_group(&b_layout_shape, &lb, fb_keep().map(|j| b_pos[j]))?;
        let (_, c_rs) = merge_group(&shape, &strides, fa_keep().map(|i| pos(a_labels[i])))?;
        let (_, c_cs) = merge_group(&shape, &strides, fb_keep().map(|j| pos(b_labels[j])))?;
        Some(Resolved {
            labels: labels.to_vec(),
            shape,
            strides,
            m,
            n,
            a_rs,
            b_cs,
            c_rs,
            c_cs,
            dfa,
            dfb,
        })
    };
    let preferred =
        preferred_out.filter(|p| p.len() == natural.len() && natural.iter().all(|l| p.contains(l)));
    let mut chosen = preferred.and_then(|p| try_layout(p, 0, 0));
    if let (None, Some(p)) = (&chosen, preferred) {
        // Write the preferred layout directly by looping over some free axes, if
        // each remaining product is still large enough to run near GEMM speed:
        // cheaper than a GEMM into a scratch layout plus a full permutation copy.
        let nf = fa.len() + fb.len();
        if nf <= 12 {
            let mut best: Option<((usize, usize, usize), Resolved)> = None;
            for mask in 1u64..(1u64 << nf) {
                let dfa = mask & ((1u64 << fa.len()) - 1);
                let dfb = mask >> fa.len();
                if let Some(r) = try_layout(p, dfa, dfb) {
                    let loops = (0..fa.len())
                        .filter(|q| dfa >> q & 1 == 1)
                        .map(|q| a_shape[fa[q]])
                        .chain(
                            (0..fb.len())
                                .filter(|q| dfb >> q & 1 == 1)
                                .map(|q| b_shape[fb[q]]),
                        )
                        .fold(1usize, |x, y| x.saturating_mul(y));
                    // Prefer products whose matrices each have a unit stride (a
                    // GEMM writing or reading every element a cache line apart runs
                    // several times slower), then the fewest calls.
                    let no_unit = |rs: isize, cs: isize| (rs != 1 && cs != 1) as usize;
                    let key = (
                        no_unit(r.c_rs, r.c_cs),
                        no_unit(r.a_rs, a_cs) + no_unit(b_rs, r.b_cs),
                        loops,
                    );
                    if r.m.saturating_mul(r.n).saturating_mul(k) >= DIRECT_MIN
                        && best.as_ref().is_none_or(|b| key < b.0)
                    {
                        best = Some((key, r));
                    }
                }
            }
            chosen = best.map(|b| b.1);
        }
    }
    let r = match chosen {
        Some(r) => r,
        None => try_layout(&natural, 0, 0).ok_or_else(|| internal("natural layout"))?,
    };
    let pos_c = |l: usize| {
        r.labels
            .iter()
            .position(|&x| x == l)
            .expect("label of the result")
    };
    let batch: Vec<BatchDim> = bt
        .iter()
        .map(|&(i, j)| BatchDim {
            size: a_shape[i],
            sa: la[a_pos[i]],
            sb: lb[b_pos[j]],
            sc: r.strides[pos_c(a_labels[i])],
        })
        .chain(
            (0..fa.len())
                .filter(|q| r.dfa >> q & 1 == 1)
                .map(|q| BatchDim {
                    size: a_shape[fa[q]],
                    sa: la[a_pos[fa[q]]],
                    sb: 0,
                    sc: r.strides[pos_c(a_labels[fa[q]])],
                }),
        )
        .chain(
            (0..fb.len())
                .filter(|q| r.dfb >> q & 1 == 1)
                .map(|q| BatchDim {
                    size: b_shape[fb[q]],
                    sa: 0,
                    sb: lb[b_pos[fb[q]]],
                    sc: r.strides[pos_c(b_labels[fb[q]])],
                }),
        )
        .filter(|d| d.size != 1)
        .collect();
    let Resolved {
        labels: out_labels,
        shape: out_shape,
        m,
        n,
        a_rs,
        b_cs,
        c_rs,
        c_cs,
        ..
    } = r;
    let out_len = checked_len::<T>(&out_shape, "contraction result")?;
    let blocked = choose_blocked::<T>(&batch, m, n, k, c_rs, c_cs);
    Ok(PairStep {
        a_shape: a_shape.to_vec(),
        b_shape: b_shape.to_vec(),
        perm_a: perm_a.map(|p| Permutation::new(a_shape, &p)),
        perm_b: perm_b.map(|p| Permutation::new(b_shape, &p)),
        batch,
        m,
        n,
        k,
        a_rs,
        a_cs,
        b_rs,
        b_cs,
        c_rs,
        c_cs,
        out_labels,
        out_shape,
        out_len,
        blocked,
    })
}

/// Largest scratch (elements) the batch-blocked product may use for its tiles.
const BLOCKED_MAX_SCRATCH: usize = 1 << 22;

/// Number of batch entries gathered per block: one 64-byte cache line of `T`.
fn block_width<T>() -> usize {
    (64 / std::mem::size_of::<T>().max(1)).clamp(1, 8)
}

/// The batch dimension to block over (see [`PairStep`]'s `blocked`), if any: one
/// whose result stride is 1 while neither C stride of the products is, for products
/// above [`TINY_GEMM`] whose tiles fit in [`BLOCKED_MAX_SCRATCH`].
fn choose_blocked<T>(
    batch: &[BatchDim],
    m: usize,
    n: usize,
    k: usize,
    c_rs: isize,
    c_cs: isize,
) -> Option<usize> {
    if c_rs == 1 || c_cs == 1 || m.saturating_mul(n).saturating_mul(k) <= TINY_GEMM {
        return None;
    }
    let tile = m
        .saturating_mul(k)
        .saturating_add(k.saturating_mul(n))
        .saturating_add(m.saturating_mul(n))
        .saturating_mul(block_width::<T>());
    if tile > BLOCKED_MAX_SCRATCH {
        return None;
    }
    batch.iter().position(|d| d.sc == 1 && d.size >= 2)
}

/// A resolved result layout (see `build_pair`).
struct Resolved {
    labels: Vec<usize>,
    shape: Vec<usize>,
    strides: Vec<isize>,
    m: usize,
    n: usize,
    a_rs: isize,
    b_cs: isize,
    c_rs: isize,
    c_cs: isize,
    dfa: u64,
    dfb: u64,
}

/// Smallest per-call product (multiply-adds) for which looping over free axes to
/// write the requested layout directly beats a GEMM plus a permutation copy.
const DIRECT_MIN: usize = 1 << 15;

/// Below this many multiply-adds a GEMM runs as a plain loop on raw pointers.
const TINY_GEMM: usize = 512;

/// `c = a * b` on raw strided matrices (`c` zero-initialised, not read).
///
/// # Safety
/// Every pointer with its dimensions and strides must describe valid memory; `c`
/// must not alias `a` or `b` and its elements must be distinct.
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn gemm_raw<T: Scalar>(
    m: usize,
    n: usize,
    k: usize,
    a: *const T,
    a_rs: isize,
    a_cs: isize,
    b: *const T,
    b_rs: isize,
    b_cs: isize,
    c: *mut T,
    c_rs: isize,
    c_cs: isize,
) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    if m.saturating_mul(n).saturating_mul(k) <= TINY_GEMM {
        tiny_gemm(m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, c, c_rs, c_cs);
        return;
    }
    // The backend is markedly slower (measured 3-5x) on products whose inner
    // dimension dwarfs the outer ones (e.g. `bi,bj->ij` with b = 8000, i = j = 100);
    // splitting k into panels and accumulating restores its throughput.
    let kc = if k > 2 * K_PANEL && k > 4 * m.max(n) {
        K_PANEL
    } else {
        k
    };
    let mut k0 = 0;
    while k0 < k {
        let kk = kc.min(k - k0);
        let av = ArrayView2::from_shape_ptr(
            (m, kk).strides((a_rs as usize, a_cs as usize)),
            a.offset(k0 as isize * a_cs),
        );
        let bv = ArrayView2::from_shape_ptr(
            (kk, n).strides((b_rs as usize, b_cs as usize)),
            b.offset(k0 as isize * b_rs),
        );
        let cv = ArrayViewMut2::from_shape_ptr((m, n).strides((c_rs as usize, c_cs as usize)), c);
        crate::linalg::gemm_unchecked(T::one(), av, bv, k0 > 0, cv);
        k0 += kk;
    }
}

/// `c = a * b` by plain loops, for products of at most [`TINY_GEMM`] multiply-adds
/// (`m, n, k >= 1`). When C and B (or C and A) share a unit stride, each row (column)
/// of C is built by axpys over rows of B (columns of A), which vectorise; otherwise
/// one dot product per element. Every element sums its `k` terms in order.
///
/// # Safety
/// As [`gemm_raw`].
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn tiny_gemm<T: Scalar>(
    m: usize,
    n: usize,
    k: usize,
    a: *const T,
    a_rs: isize,
    a_cs: isize,
    b: *const T,
    b_rs: isize,
    b_cs: isize,
    c: *mut T,
    c_rs: isize,
    c_cs: isize,
) {
    use std::slice::{from_raw_parts, from_raw_parts_mut};
    if b_cs == 1 && c_cs == 1 {
        for i in 0..m as isize {
            let row = from_raw_parts_mut(c.offset(i * c_rs), n);
            let ai = a.offset(i * a_rs);
            let a0 = *ai;
            for (x, &y) in row.iter_mut().zip(from_raw_parts(b, n)) {
                *x = a0 * y;
            }
            for l in 1..k as isize {
                let al = *ai.offset(l * a_cs);
                for (x, &y) in row.iter_mut().zip(from_raw_parts(b.offset(l * b_rs), n)) {
                    *x += al * y;
                }
            }
        }
    } else if a_rs == 1 && c_rs == 1 {
        for j in 0..n as isize {
            let col = from_raw_parts_mut(c.offset(j * c_cs), m);
            let bj = b.offset(j * b_cs);
            let b0 = *bj;
            for (x, &y) in col.iter_mut().zip(from_raw_parts(a, m)) {
                *x = y * b0;
            }
            for l in 1..k as isize {
                let bl = *bj.offset(l * b_rs);
                for (x, &y) in col.iter_mut().zip(from_raw_parts(a.offset(l * a_cs), m)) {
                    *x += y * bl;
                }
            }
        }
    } else {
        for i in 0..m as isize {
            for j in 0..n as isize {
                let mut acc = T::zero();
                let mut pa = a.offset(i * a_rs);
                let mut pb = b.offset(j * b_cs);
                for _ in 0..k {
                    acc += *pa * *pb;
                    pa = pa.offset(a_cs);
                    pb = pb.offset(b_rs);
                }
                *c.offset(i * c_rs + j * c_cs) = acc;
            }
        }
    }
}

/// Inner-dimension panel for products with a very long inner dimension.
const K_PANEL: usize = 512;

/// Executes a planned pairwise step on row-major data of the planned shapes.
///
/// Errors when the result or a permuted copy cannot be allocated.
pub(crate) fn run_pair<T: Scalar>(step: &PairStep, a: &[T], b: &[T]) -> Result<Vec<T>> {
    debug_assert_eq!(a.len(), saturating_len(step.a_shape.iter().copied()));
    debug_assert_eq!(b.len(), saturating_len(step.b_shape.iter().copied()));
    let scratch_a;
    let a: &[T] = match &step.perm_a {
        Some(p) => {
            scratch_a = p.apply(a)?;
            &scratch_a
        }
        None => a,
    };
    let scratch_b;
    let b: &[T] = match &step.perm_b {
        Some(p) => {
            scratch_b = p.apply(b)?;
            &scratch_b
        }
        None => b,
    };
    let mut c = try_zeroed_vec::<T>(step.out_len, "contraction result")?;
    if step.out_len == 0 || a.is_empty() || b.is_empty() {
        return Ok(c);
    }
    let (pa, pb, pc) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    if let Some(d) = step.blocked {
        // SAFETY: as below; `run_blocked` reads and writes the same elements as the
        // plain loop (through the plan's strides), and its tiles are its own.
        unsafe { run_blocked(step, d, pa, pb, pc)? };
        return Ok(c);
    }
    // SAFETY (all gemm_raw calls): the plan's strides and sizes were derived from the
    // shapes of `a`, `b` and `c`, so every offset stays inside the buffers; `c` is a
    // fresh buffer and the result layout maps distinct (batch, row, column) triples
    // to distinct elements.
    unsafe {
        for_each_offset(&step.batch, None, |oa, ob, oc| {
            gemm_raw(
                step.m,
                step.n,
                step.k,
                pa.offset(oa),
                step.a_rs,
                step.a_cs,
                pb.offset(ob),
                step.b_rs,
                step.b_cs,
                pc.offset(oc),
                step.c_rs,
                step.c_cs,
            )
        });
    }
    Ok(c)
}

/// Calls `f(oa, ob, oc)` with the offsets into A, B and C of every combination of
/// the batch dimensions `dims` (except `skip`), the last dimension fastest.
fn for_each_offset(dims: &[BatchDim], skip: Option<usize>, mut f: impl FnMut(isize, isize, isize)) {
    let live = |ax: usize| Some(ax) != skip && dims[ax].size != 1;
    if dims
        .iter()
        .enumerate()
        .any(|(ax, d)| Some(ax) != skip && d.size == 0)
    {
        return;
    }
    let nb = dims.len();
    let mut idx = vec![0usize; nb];
    let (mut oa, mut ob, mut oc) = (0isize, 0isize, 0isize);
    loop {
        f(oa, ob, oc);
        let mut ax = nb;
        loop {
            if ax == 0 {
                return;
            }
            ax -= 1;
            if !live(ax) {
                continue;
            }
            let d = &dims[ax];
            idx[ax] += 1;
            oa += d.sa;
            ob += d.sb;
            oc += d.sc;
            if idx[ax] < d.size {
                break;
            }
            oa -= d.sa * d.size as isize;
            ob -= d.sb * d.size as isize;
            oc -= d.sc * d.size as isize;
            idx[ax] = 0;
        }
    }
}

/// The batch-blocked product for a result whose batch dimension `d` is innermost
/// (`C[.., b]` with unit stride in `b`) while the products' matrices have no unit
/// stride: for each block of [`block_width`] batch entries (one cache line of C),
/// the A and B matrices that lack a unit stride are gathered into contiguous
/// row-major tiles (one pass, reading whole cache lines), the products are written
/// into contiguous tiles and scattered into C (one pass). Each element of A, B and C
/// is copied at most once, against one strided access per element per GEMM packing.
///
/// # Safety
/// As [`gemm_raw`] for the plan's strides over `a`, `b` and the fresh `c`.
unsafe fn run_blocked<T: Scalar>(
    step: &PairStep,
    d: usize,
    pa: *const T,
    pb: *const T,
    pc: *mut T,
) -> Result<()> {
    let (m, n, k) = (step.m, step.n, step.k);
    let w = block_width::<T>();
    let gather_a = step.a_rs != 1 && step.a_cs != 1;
    let gather_b = step.b_rs != 1 && step.b_cs != 1;
    let (mk, kn, mn) = (m * k, k * n, m * n);
    let mut ta = try_zeroed_vec::<T>(if gather_a { w * mk } else { 0 }, "contraction tile")?;
    let mut tb = try_zeroed_vec::<T>(if gather_b { w * kn } else { 0 }, "contraction tile")?;
    let mut tc = try_zeroed_vec::<T>(w * mn, "contraction tile")?;
    let bd = &step.batch[d];
    let (sa, sb, sc) = (bd.sa, bd.sb, bd.sc);
    for_each_offset(&step.batch, Some(d), |oa, ob, oc| {
        let mut t0 = 0usize;
        while t0 < bd.size {
            let bs = w.min(bd.size - t0);
            let t0i = t0 as isize;
            let base_a = pa.offset(oa + t0i * sa);
            let base_b = pb.offset(ob + t0i * sb);
            let base_c = pc.offset(oc + t0i * sc);
            if gather_a {
                gather(base_a, m, k, step.a_rs, step.a_cs, sa, bs, &mut ta);
            }
            if gather_b {
                gather(base_b, k, n, step.b_rs, step.b_cs, sb, bs, &mut tb);
            }
            for t in 0..bs {
                let ti = t as isize;
                let (a_ptr, a_rs, a_cs) = if gather_a {
                    (ta.as_ptr().add(t * mk), k as isize, 1)
                } else {
                    (base_a.offset(ti * sa), step.a_rs, step.a_cs)
                };
                let (b_ptr, b_rs, b_cs) = if gather_b {
                    (tb.as_ptr().add(t * kn), n as isize, 1)
                } else {
                    (base_b.offset(ti * sb), step.b_rs, step.b_cs)
                };
                gemm_raw(
                    m,
                    n,
                    k,
                    a_ptr,
                    a_rs,
                    a_cs,
                    b_ptr,
                    b_rs,
                    b_cs,
                    tc.as_mut_ptr().add(t * mn),
                    n as isize,
                    1,
                );
            }
            // Scatter: C[i, j, t0 + t] = tile_t[i, j], whole cache lines of C.
            scatter(&tc, m, n, base_c, step.c_rs, step.c_cs, sc, bs);
            t0 += bs;
        }
    });
    Ok(())
}

/// Gathers `bs` strided `rows x cols` matrices (row stride `rs`, column stride `cs`,
/// the `t`-th at `base + t * st`) into `tile` as contiguous row-major matrices, the
/// `t`-th at `tile[t * rows * cols..]`; the `bs` entries of one element are read
/// together (one cache line when `st == 1`).
///
/// # Safety
/// Every addressed element must be valid; `tile` holds `bs * rows * cols` elements.
#[allow(clippy::too_many_arguments)]
unsafe fn gather<T: Scalar>(
    base: *const T,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    st: isize,
    bs: usize,
    tile: &mut [T],
) {
    let len = rows * cols;
    debug_assert!(tile.len() >= bs * len);
    // Full blocks with a compile-time width: the `bs` loads and stores unroll.
    match bs {
        8 => return gather_n::<T, 8>(base, rows, cols, rs, cs, st, tile),
        4 => return gather_n::<T, 4>(base, rows, cols, rs, cs, st, tile),
        _ => {}
    }
    for i in 0..rows {
        for l in 0..cols {
            let p = base.offset(i as isize * rs + l as isize * cs);
            let dst = i * cols + l;
            for t in 0..bs {
                *tile.get_unchecked_mut(t * len + dst) = *p.offset(t as isize * st);
            }
        }
    }
}

/// [`gather`] for `bs == N`.
///
/// # Safety
/// As [`gather`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn gather_n<T: Scalar, const N: usize>(
    base: *const T,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    st: isize,
    tile: &mut [T],
) {
    let len = rows * cols;
    let dst = tile.as_mut_ptr();
    for i in 0..rows {
        let row = base.offset(i as isize * rs);
        for l in 0..cols {
            let p = row.offset(l as isize * cs);
            let d = dst.add(i * cols + l);
            for t in 0..N {
                *d.add(t * len) = *p.offset(t as isize * st);
            }
        }
    }
}

/// Scatters `bs` contiguous row-major `rows x cols` tiles (the `t`-th at
/// `tile[t * rows * cols..]`) into strided matrices (row stride `rs`, column stride
/// `cs`, the `t`-th at `base + t * st`); the inverse of [`gather`].
///
/// # Safety
/// Every addressed element must be valid and distinct; `tile` holds
/// `bs * rows * cols` elements.
#[allow(clippy::too_many_arguments)]
unsafe fn scatter<T: Scalar>(
    tile: &[T],
    rows: usize,
    cols: usize,
    base: *mut T,
    rs: isize,
    cs: isize,
    st: isize,
    bs: usize,
) {
    let len = rows * cols;
    debug_assert!(tile.len() >= bs * len);
    match bs {
        8 => return scatter_n::<T, 8>(tile, rows, cols, base, rs, cs, st),
        4 => return scatter_n::<T, 4>(tile, rows, cols, base, rs, cs, st),
        _ => {}
    }
    for i in 0..rows {
        for j in 0..cols {
            let p = base.offset(i as isize * rs + j as isize * cs);
            let src = i * cols + j;
            for t in 0..bs {
                *p.offset(t as isize * st) = *tile.get_unchecked(t * len + src);
            }
        }
    }
}

/// [`scatter`] for `bs == N`.
///
/// # Safety
/// As [`scatter`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn scatter_n<T: Scalar, const N: usize>(
    tile: &[T],
    rows: usize,
    cols: usize,
    base: *mut T,
    rs: isize,
    cs: isize,
    st: isize,
) {
    let len = rows * cols;
    let src = tile.as_ptr();
    for i in 0..rows {
        let row = base.offset(i as isize * rs);
        for j in 0..cols {
            let p = row.offset(j as isize * cs);
            let s = src.add(i * cols + j);
            for t in 0..N {
                *p.offset(t as isize * st) = *s.add(t * len);
            }
        }
    }
}

/// Tensor contraction over pairs of axes (numpy's `tensordot`):
/// `C[f_a, f_b] = sum_k A[f_a, k] B[k, f_b]`, where axis `axes_a[p]` of `a` is summed
/// against axis `axes_b[p]` of `b`. The result's axes are the free axes of `a` in
/// order, then the free axes of `b` in order.
///
/// No copy is made when the contracted axes of each operand are adjacent and
/// contiguous (leading or trailing, in matching order); otherwise the operand is
/// permuted with a cache-blocked copy. The product runs on the backend GEMM.
///
/// ```
/// use tnlearn::{contract, Tensor};
/// let a = Tensor::<f64>::new(&[2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
/// let b = Tensor::<f64>::ones(&[3, 4]);
/// let c = contract(&a, &[1], &b, &[0]).unwrap(); // matrix product
/// assert_eq!(c.shape(), &[2, 4]);
/// assert_eq!(c.get(&[1, 0]).unwrap(), 15.0);
/// // Contracting axis 0 of `a` with itself: a^T a.
/// let g = contract(&a, &[0], &a, &[0]).unwrap();
/// assert_eq!(g.shape(), &[3, 3]);
/// ```
///
/// Errors: [`Error::InvalidArgument`] when `axes_a` and `axes_b` differ in length;
/// [`Error::InvalidAxis`] for an axis out of range or repeated;
/// [`Error::IndexSizeMismatch`] (index `'#'`, naming both axes and sizes) when paired
/// axes differ in size.
pub fn contract<T: Scalar>(
    a: &Tensor<T>,
    axes_a: &[usize],
    b: &Tensor<T>,
    axes_b: &[usize],
) -> Result<Tensor<T>> {
    if axes_a.len() != axes_b.len() {
        return Err(Error::invalid_argument(
            "axes_b",
            format!(
                "contract: axes_a has {} axes but axes_b has {} (they are paired one to one)",
                axes_a.len(),
                axes_b.len()
            ),
        ));
    }
    let (na, nb) = (a.ndim(), b.ndim());
    check_axes(axes_a, na, "contract: axes_a")?;
    check_axes(axes_b, nb, "contract: axes_b")?;
    for (p, (&i, &j)) in axes_a.iter().zip(axes_b).enumerate() {
        if a.shape()[i] != b.shape()[j] {
            return Err(Error::IndexSizeMismatch {
                index: '#',
                first: a.shape()[i],
                first_place: format!("a, axis {i} (axes_a[{p}])"),
                second: b.shape()[j],
                second_place: format!("b, axis {j} (axes_b[{p}])"),
            });
        }
    }
    // Fast path (no planning): the contracted axes of each operand are its leading
    // or trailing ones, in matching order, so both are plain (possibly transposed)
    // matrices.
    let nk = axes_a.len();
    let a_trailing = axes_a.iter().enumerate().all(|(p, &i)| i == na - nk + p);
    let a_leading = axes_a.iter().enumerate().all(|(p, &i)| i == p);
    let b_leading = axes_b.iter().enumerate().all(|(p, &j)| j == p);
    let b_trailing = axes_b.iter().enumerate().all(|(p, &j)| j == nb - nk + p);
    if (a_trailing || a_leading) && (b_leading || b_trailing) {
        let (sa, sb) = (a.shape(), b.shape());
        let (fa, ka) = if a_trailing {
            (&sa[..na - nk], &sa[na - nk..])
        } else {
            (&sa[nk..], &sa[..nk])
        };
        let fb = if b_leading { &sb[nk..] } else { &sb[..nb - nk] };
        // m and k are bounded by a's length, n by b's; only m * n (the result) can be
        // out of range, when k = 0.
        let m = saturating_len(fa.iter().copied());
        let k = saturating_len(ka.iter().copied());
        let n = saturating_len(fb.iter().copied());
        let (a_rs, a_cs) = if a_trailing { (k, 1) } else { (1, m) };
        let (b_rs, b_cs) = if b_leading { (n, 1) } else { (1, k) };
        let mut shape = Vec::with_capacity(fa.len() + fb.len());
        shape.extend_from_slice(fa);
        shape.extend_from_slice(fb);
        let len = checked_len::<T>(&shape, "contract: result")?;
        let mut c = try_zeroed_vec::<T>(len, "contract: result")?;
        // SAFETY: a is an m x k matrix with strides (a_rs, a_cs) over its contiguous
        // buffer, b a k x n one with (b_rs, b_cs); c is a fresh m x n row-major buffer.
        unsafe {
            gemm_raw(
                m,
                n,
                k,
                a.as_slice().as_ptr(),
                a_rs as isize,
                a_cs as isize,
                b.as_slice().as_ptr(),
                b_rs as isize,
                b_cs as isize,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
        return Tensor::new(&shape, c);
    }
    // Labels: axes of a are 0..na; a contracted axis of b takes its partner's label,
    // a free axis of b gets na + j.
    let a_labels: Vec<usize> = (0..na).collect();
    let b_labels: Vec<usize> = (0..nb)
        .map(|j| match axes_b.iter().position(|&x| x == j) {
            Some(p) => axes_a[p],
            None => na + j,
        })
        .collect();
    let out: Vec<usize> = (0..na)
        .filter(|i| !axes_a.contains(i))
        .chain((0..nb).filter(|j| !axes_b.contains(j)).map(|j| na + j))
        .collect();
    let step = build_pair::<T>(
        &a_labels,
        a.shape(),
        &b_labels,
        b.shape(),
        |_| false,
        Some(&out),
    )?;
    debug_assert_eq!(step.out_labels, out);
    let data = run_pair(&step, a.as_slice(), b.as_slice())?;
    Tensor::new(&step.out_shape, data)
}

fn check_axes(axes: &[usize], order: usize, context: &str) -> Result<()> {
    for (p, &ax) in axes.iter().enumerate() {
        if ax >= order {
            return Err(Error::InvalidAxis {
                context: context.to_string(),
                axis: ax,
                order,
                reason: format!("out of range (entry {p})"),
            });
        }
        if axes[..p].contains(&ax) {
            return Err(Error::InvalidAxis {
                context: context.to_string(),
                axis: ax,
                order,
                reason: format!("repeated (entry {p})"),
            });
        }
    }
    Ok(())
}
