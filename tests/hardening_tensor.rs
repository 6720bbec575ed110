//! Hardening regressions (issue 10) for tensor/, linalg/, mps/, ttn/ and the
//! canonical-form checks of the Born machine loaders: every class of failure found
//! (zero-size axes, overflowing sizes, absurd allocations, panicking accessors,
//! NaN/inf from extreme values, quadratic-or-worse path search, models that load but
//! are not normalised) has a test here that fails on the old code.

mod common;

use common::{assert_close, naive_einsum, random_operands, random_spec};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::ttn::{Tree, Ttn};
use tnlearn::{
    contract, einsum, einsum_path, einsum_with, BornMachine, BornOptions, Complex64,
    ContractionPlan, Dataset, Error, Mps, MpsBornMachine, PathOptimizer, Tensor, TtnBornMachine,
};

// ------------------------------------------------------------ 1. zero-size axes

/// `spec` and shapes from `random_spec` with one letter's size set to 0.
fn zero_one_letter(spec: &str, shapes: &[Vec<usize>], pick: usize) -> Vec<Vec<usize>> {
    let inputs: Vec<Vec<char>> = spec
        .split("->")
        .next()
        .unwrap()
        .split(',')
        .map(|t| t.chars().filter(|c| c.is_ascii_alphabetic()).collect())
        .collect();
    let mut letters: Vec<char> = inputs.iter().flatten().copied().collect();
    letters.sort_unstable();
    letters.dedup();
    if letters.is_empty() {
        return shapes.to_vec();
    }
    let z = letters[pick % letters.len()];
    inputs
        .iter()
        .zip(shapes)
        .map(|(t, s)| {
            t.iter()
                .zip(s)
                .map(|(&c, &n)| if c == z { 0 } else { n })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Einsum with a size-0 index agrees with the naive reference (zeros or an empty
    /// tensor of the right shape), for every optimiser.
    #[test]
    fn einsum_with_a_zero_size_index_matches_naive(seed in any::<u64>(), pick in 0usize..8) {
        let (spec, shapes) = random_spec(seed, 4);
        let shapes = zero_one_letter(&spec, &shapes, pick);
        let ops: Vec<Tensor<f64>> = random_operands(&shapes, seed ^ 5);
        let refs: Vec<&Tensor<f64>> = ops.iter().collect();
        let reference = naive_einsum(&spec, &refs);
        for opt in [PathOptimizer::Greedy, PathOptimizer::Optimal, PathOptimizer::LeftToRight] {
            let got = einsum_with(&spec, &refs, opt)
                .unwrap_or_else(|e| panic!("{spec} {shapes:?} {opt:?}: {e}"));
            assert_close(&got, &reference, 1e-12, &format!("{spec} {shapes:?} {opt:?}"));
        }
    }
}

/// The cases of the report: a size-0 axis in every role of a pairwise contraction.
#[test]
fn contract_with_zero_size_axes_gives_zeros_of_the_right_shape() {
    // (shape a, axes a, shape b, axes b)
    type Case<'a> = (&'a [usize], &'a [usize], &'a [usize], &'a [usize]);
    let cases: &[Case] = &[
        (&[2, 0, 3], &[1], &[0, 4], &[0]), // contracted axis 0: zeros
        (&[0, 3], &[1], &[3, 4], &[0]),    // free axis of a 0: empty
        (&[2, 3, 0], &[1], &[4, 3], &[1]), // free trailing 0, permuted
        (&[3, 0, 2], &[0, 2], &[2, 5, 3], &[2, 0]), // K group with 0, non-contiguous
        (&[0, 0], &[0], &[0, 0], &[1]),
    ];
    for &(sa, aa, sb, ab) in cases {
        let a = Tensor::<f64>::ones(sa);
        let b = Tensor::<f64>::ones(sb);
        let c = contract(&a, aa, &b, ab).unwrap_or_else(|e| panic!("{sa:?} {sb:?}: {e}"));
        let mut shape: Vec<usize> = (0..sa.len())
            .filter(|i| !aa.contains(i))
            .map(|i| sa[i])
            .collect();
        shape.extend((0..sb.len()).filter(|j| !ab.contains(j)).map(|j| sb[j]));
        assert_eq!(c.shape(), shape.as_slice(), "{sa:?} {sb:?}");
        assert!(c.as_slice().iter().all(|&x| x == 0.0));
    }
    // Batch index of size 0 and a size-0 diagonal.
    let a = Tensor::<f64>::ones(&[0, 2, 3]);
    let b = Tensor::<f64>::ones(&[0, 3, 4]);
    assert_eq!(
        einsum("bij,bjk->bik", &[&a, &b]).unwrap().shape(),
        &[0, 2, 4]
    );
    assert_eq!(
        einsum("bij,bjk->ik", &[&a, &b]).unwrap().as_slice(),
        &[0.0; 8]
    );
    let d = Tensor::<f64>::ones(&[0, 0]);
    assert_eq!(einsum("ii->", &[&d]).unwrap().as_slice(), &[0.0]);
    assert_eq!(einsum("ii->i", &[&d]).unwrap().shape(), &[0]);
}

// ---------------------------------------------- 2./3. sizes and allocations

fn invalid_argument(r: Result<impl std::fmt::Debug, Error>, what: &str) -> String {
    match r {
        Err(e @ Error::InvalidArgument { .. }) => e.to_string(),
        other => panic!("{what}: expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn contraction_results_too_large_are_errors_naming_the_shape() {
    // k = 0, so the inputs are empty but the result would have 2^80 elements.
    let a = Tensor::<f64>::zeros(&[1 << 40, 0]);
    let b = Tensor::<f64>::zeros(&[0, 1 << 40]);
    let msg = invalid_argument(contract(&a, &[1], &b, &[0]), "contract 2^80");
    assert!(msg.contains("1099511627776"), "{msg}");
    let msg = invalid_argument(einsum("ij,jk->ik", &[&a, &b]), "einsum 2^80");
    assert!(msg.contains("too large"), "{msg}");
    // 2^60 elements of 16 bytes: the product fits usize, the byte size does not.
    let a = Tensor::<Complex64>::zeros(&[1 << 30, 0]);
    let b = Tensor::<Complex64>::zeros(&[0, 1 << 30]);
    invalid_argument(einsum("ij,jk->ik", &[&a, &b]), "einsum 2^60 complex");
    // A plan for such shapes is refused up front, and the path cost saturates
    // instead of wrapping.
    let big: &[usize] = &[usize::MAX / 2, 0];
    invalid_argument(
        ContractionPlan::new(
            "ij,jk->ik",
            &[big, &[0, usize::MAX / 2]],
            PathOptimizer::Greedy,
        ),
        "plan",
    );
    // An outer product of four empty operands whose result would overflow usize.
    let e = Tensor::<f64>::zeros(&[1 << 20, 0]);
    let ops = [&e, &e, &e, &e];
    invalid_argument(einsum("ai,bj,ck,dl->abcd", &ops), "outer product 2^80");
}

#[test]
fn constructors_refuse_absurd_sizes_with_an_error() {
    invalid_argument(
        Tensor::<f64>::try_zeros(&[1 << 32, 1 << 32]),
        "try_zeros overflow",
    );
    invalid_argument(Tensor::<f64>::try_zeros(&[1 << 61]), "try_zeros bytes");
    // Within isize but far beyond any memory: the allocator refuses, no abort.
    invalid_argument(Tensor::<f64>::try_zeros(&[1 << 59]), "try_zeros 4 EiB");
    invalid_argument(Tensor::<f64>::try_ones(&[1 << 59]), "try_ones 4 EiB");
    invalid_argument(Tensor::<f64>::try_eye(1 << 31), "try_eye");
    invalid_argument(
        Tensor::<f64>::try_from_fn(&[1 << 40, 1 << 30], |_| 0.0),
        "try_from_fn",
    );
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    invalid_argument(
        Tensor::<f64>::try_random(&[1 << 62], &mut rng),
        "try_random",
    );
    // Tensor::new with a shape whose product wraps to the data length.
    invalid_argument(Tensor::<f64>::new(&[1 << 63, 2], vec![]), "new wrap");
    invalid_argument(Tensor::<f64>::try_zeros(&[1 << 63, 2, 0]), "empty but huge");
    let empty = Tensor::<f64>::zeros(&[1 << 30, 0]);
    assert!(empty.reshape(&[1 << 63, 4, 0]).is_err());
    // The checked constructors agree with the plain ones.
    assert_eq!(Tensor::<f64>::try_eye(3).unwrap(), Tensor::eye(3));
    assert_eq!(
        Tensor::<f64>::try_from_fn(&[2, 3], |i| (i[0] * 3 + i[1]) as f64).unwrap(),
        Tensor::from_fn(&[2, 3], |i| (i[0] * 3 + i[1]) as f64)
    );
    // Models.
    invalid_argument(
        Mps::<f64>::random(&[1 << 20, 1 << 20], 1 << 40, &mut rng),
        "Mps::random",
    );
    invalid_argument(
        Mps::<f64>::random(&[1 << 40], 1, &mut rng),
        "Mps::random phys",
    );
    invalid_argument(Tree::balanced(usize::MAX / 2), "Tree::balanced");
    invalid_argument(Tree::chain(1 << 60), "Tree::chain");
    invalid_argument(Tree::image(1 << 31, 1 << 31), "Tree::image");
    let tree = Tree::balanced(4).unwrap();
    invalid_argument(
        Ttn::<f64>::random(tree, 1 << 40, 1 << 30, &mut rng),
        "Ttn::random",
    );
}

#[test]
fn paths_over_absurd_shapes_are_errors_not_hangs() {
    // Before: path costs saturated, the optimal search left subsets without a
    // split and the path walk recursed until the stack overflowed.
    let n = usize::MAX / 3;
    let sq = [n, n];
    let shapes: Vec<&[usize]> = vec![&sq, &sq, &sq, &sq];
    for opt in [PathOptimizer::Optimal, PathOptimizer::Greedy] {
        let msg = invalid_argument(einsum_path("ab,bc,cd,de->ae", &shapes, opt), "path");
        assert!(msg.contains("operand 0"), "{msg}");
    }
    // Valid operands whose intermediates would be too large.
    let m = 1usize << 28;
    let v = [m, m];
    let shapes: Vec<&[usize]> = vec![&v, &v, &v];
    let msg = invalid_argument(
        einsum_path("ab,cd,ef->abcdef", &shapes, PathOptimizer::Optimal),
        "outer",
    );
    assert!(msg.contains("intermediate"), "{msg}");
}

#[test]
fn set_tensor_pair_at_usize_max_is_an_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut psi = Mps::<f64>::random(&[2; 3], 2, &mut rng).unwrap();
    let t = psi.tensor(0).unwrap().clone();
    assert!(psi.set_tensor_pair(usize::MAX, t.clone(), t).is_err());
}

// -------------------------------------------------- 6. accessors that panicked

#[test]
fn tree_accessors_have_checked_versions() {
    let t = Tree::balanced(5).unwrap();
    assert!(t.try_children(t.num_nodes()).is_err());
    assert!(t.try_parent(usize::MAX).is_err());
    assert!(t.try_site_parent(5).is_err());
    assert_eq!(t.try_children(0).unwrap(), t.children(0));
    assert_eq!(t.try_site_parent(4).unwrap(), t.site_parent(4));
    assert_eq!(t.try_parent(t.root()).unwrap(), None);
    // A long chain is validated in linear time (the cycle check was quadratic).
    let c = Tree::chain(200_000).unwrap();
    assert_eq!(c.num_sites(), 200_000);
    // depth and Ttn::random are linear too (they walked to the root / below every
    // node: quadratic on a chain).
    assert_eq!(c.depth(), 199_999);
    assert_eq!(Tree::balanced(1000).unwrap().depth(), 10);
    assert_eq!(Tree::image(28, 28).unwrap().depth(), 10);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let t = Ttn::<f64>::random(c, 2, 2, &mut rng).unwrap();
    assert_eq!(t.num_sites(), 200_000);
}

// ----------------------------------------------------- 7. extreme values

#[test]
fn qr_and_svd_of_huge_and_tiny_matrices_are_finite_and_exact() {
    use ndarray::array;
    for scale in [1e308, 1e-308, 1e300, 1e-305] {
        let a = array![[1.0, 0.5, -0.25], [0.75, -1.0, 0.125], [0.3, 0.2, 0.9]] * scale;
        let (q, r) = tnlearn::linalg::qr(a.view()).unwrap();
        assert!(
            q.iter().chain(r.iter()).all(|x| x.is_finite()),
            "scale {scale}"
        );
        let qtq = q.t().dot(&q);
        for ((i, j), &x) in qtq.indexed_iter() {
            assert!(
                (x - f64::from(u8::from(i == j))).abs() < 1e-12,
                "scale {scale}"
            );
        }
        // Q R reproduces a (relative to the scale; compare the scaled-down product).
        let qr_ = q.dot(&(&r / scale));
        let want = &a / scale;
        for (x, y) in qr_.iter().zip(want.iter()) {
            assert!((x - y).abs() < 1e-9, "scale {scale}: {x} vs {y}");
        }
        let (_, s, _) = tnlearn::linalg::svd(a.view()).unwrap();
        assert!(
            s.iter().all(|x| x.is_finite() && *x >= 0.0),
            "svd scale {scale}"
        );
        assert!(s[0] > 0.0);
    }
}

#[test]
fn matmul_with_an_empty_inner_dimension_and_a_huge_result_is_an_error() {
    let a = ndarray::Array2::<f64>::zeros((1 << 40, 0));
    let b = ndarray::Array2::<f64>::zeros((0, 1 << 40));
    invalid_argument(tnlearn::linalg::matmul(a.view(), b.view()), "matmul 2^80");
    let b = ndarray::Array2::<f64>::zeros((0, 3));
    let a = ndarray::Array2::<f64>::zeros((2, 0));
    let c = tnlearn::linalg::matmul(a.view(), b.view()).unwrap();
    assert_eq!(c, ndarray::Array2::<f64>::zeros((2, 3)));
}

#[test]
fn log_norms_of_states_with_extreme_entries_are_finite_and_right() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let psi = Mps::<f64>::random(&[2; 8], 4, &mut rng).unwrap();
    let reference = psi.log_norm();
    assert!(reference.is_finite());
    for (scale, ln) in [
        (1e300f64, 300.0 * 10f64.ln()),
        (1e-300, -300.0 * 10f64.ln()),
    ] {
        let tensors: Vec<_> = psi.tensors().iter().map(|t| t * scale).collect();
        let big = Mps::from_tensors(tensors).unwrap();
        let got = big.log_norm();
        let want = reference + 8.0 * ln;
        assert!(
            (got - want).abs() < 1e-9 * want.abs(),
            "scale {scale}: {got} vs {want}"
        );
        // Amplitudes too.
        let a = big.log_amplitude(&[0, 1, 0, 1, 1, 0, 0, 1]).unwrap();
        let a0 = psi.log_amplitude(&[0, 1, 0, 1, 1, 0, 0, 1]).unwrap();
        assert!((a.log_abs - (a0.log_abs + 8.0 * ln)).abs() < 1e-9 * a.log_abs.abs());
        // After canonicalisation the same.
        let mut c = big.clone();
        c.canonicalize(3).unwrap();
        assert!((c.log_norm() - want).abs() < 1e-9 * want.abs());
    }
    // TTN: entries of 1e200 (squares overflow).
    let tree = Tree::balanced(6).unwrap();
    let t = Ttn::<f64>::random(tree.clone(), 2, 3, &mut rng).unwrap();
    let reference = t.log_norm().unwrap();
    let (_, tensors, _) = t.clone().into_parts();
    let big: Vec<_> = tensors.iter().map(|a| a * 1e200).collect();
    let tb = Ttn::from_tensors(tree, 2, big).unwrap();
    let want = reference + 5.0 * 200.0 * 10f64.ln();
    let got = tb.log_norm().unwrap();
    assert!((got - want).abs() < 1e-9 * want.abs(), "{got} vs {want}");
    let x = [0, 1, 1, 0, 1, 0];
    let a = tb.log_amplitude(&x).unwrap().log_abs;
    let a0 = t.log_amplitude(&x).unwrap().log_abs;
    assert!((a - a0 - 5.0 * 200.0 * 10f64.ln()).abs() < 1e-9 * a.abs());
}

// ------------------------------------------------------ 8. greedy path speed

/// A long chain with extra couplings: 1000 operands. The exhaustive greedy search
/// (O(n^4)) took minutes; the heap version is fast. No timing is asserted: the test
/// only has to finish, and its path must be valid and no worse than left-to-right.
#[test]
fn greedy_path_over_1000_operands() {
    let letters: Vec<char> = ('a'..='z').chain('A'..='Z').collect();
    let n = 1000;
    let mut terms = Vec::new();
    let mut shapes: Vec<Vec<usize>> = Vec::new();
    for k in 0..n {
        let l = letters[k % 50];
        let r = letters[(k + 1) % 50];
        terms.push(format!("{l}{r}"));
        shapes.push(vec![2, 2]);
    }
    let spec = format!("{}->", terms.join(","));
    let refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
    let greedy = einsum_path(&spec, &refs, PathOptimizer::Greedy).unwrap();
    assert_eq!(greedy.pairs.len(), n - 1);
    let ltr = einsum_path(&spec, &refs, PathOptimizer::LeftToRight).unwrap();
    assert!(
        greedy.flops <= ltr.flops,
        "{} vs {}",
        greedy.flops,
        ltr.flops
    );
}

/// On small networks the greedy path is the exact optimum where it was before
/// (chains and stars), with the same cost as documented examples.
#[test]
fn greedy_path_costs_on_small_cases_are_unchanged() {
    let p = einsum_path(
        "ij,jk,kl->il",
        &[&[10, 100], &[100, 5], &[5, 50]],
        PathOptimizer::Greedy,
    )
    .unwrap();
    assert_eq!(p.flops, 7500);
    let shapes: Vec<Vec<usize>> = vec![vec![8, 8]; 6];
    let refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
    let g = einsum_path("ab,bc,cd,de,ef,fg->ag", &refs, PathOptimizer::Greedy).unwrap();
    let o = einsum_path("ab,bc,cd,de,ef,fg->ag", &refs, PathOptimizer::Optimal).unwrap();
    assert_eq!(g.flops, o.flops);
}

// --------------------------------------------- 5. canonical form of model files

fn bars_and_stripes_3() -> Dataset {
    let mut rows = Vec::new();
    for m in 0..8u8 {
        let bits: Vec<u8> = (0..3).map(|i| (m >> i) & 1).collect();
        rows.push((0..9).map(|p| bits[p / 3]).collect::<Vec<u8>>());
        rows.push((0..9).map(|p| bits[p % 3]).collect::<Vec<u8>>());
    }
    let data: Vec<u8> = rows.into_iter().flatten().collect();
    Dataset::binary(ndarray::Array2::from_shape_vec((16, 9), data).unwrap()).unwrap()
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tnlearn_hardening_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Byte offset of the stored values of a tensor (found by content).
fn find_values(bytes: &[u8], values: &[f64]) -> usize {
    let needle: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("tensor values stored verbatim")
}

/// Writes `bytes` with the CRC recomputed, so the mutation reaches the parser.
fn write_with_crc(name: &str, mut bytes: Vec<u8>) -> std::path::PathBuf {
    let end = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
    let p = temp_path(name);
    std::fs::write(&p, &bytes).unwrap();
    p
}

/// Copies of `bytes` with one tensor scaled, one tensor replaced, and the centre
/// index changed.
fn broken_variants(
    bytes: &[u8],
    tensors: &[Vec<f64>],
    center: usize,
    center_offset: usize,
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (k, t) in tensors.iter().enumerate() {
        let off = find_values(bytes, t);
        let mut scaled = bytes.to_vec();
        for (i, v) in t.iter().enumerate() {
            scaled[off + 8 * i..off + 8 * i + 8].copy_from_slice(&(v * 1.5).to_le_bytes());
        }
        out.push((format!("tensor {k} scaled by 1.5"), scaled));
        let mut replaced = bytes.to_vec();
        for (i, v) in t.iter().enumerate() {
            let w = ((i * 7919 + k * 104729) % 1000) as f64 / 1000.0 - 0.5 + 0.01 * v;
            replaced[off + 8 * i..off + 8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        out.push((format!("tensor {k} replaced"), replaced));
    }
    for c in 0..tensors.len() {
        if c != center {
            let mut moved = bytes.to_vec();
            moved[center_offset..center_offset + 8].copy_from_slice(&(c as u64).to_le_bytes());
            out.push((format!("centre changed {center} -> {c}"), moved));
        }
    }
    out
}

#[test]
fn mps_model_files_with_a_broken_canonical_form_are_rejected() {
    let data = bars_and_stripes_3();
    let mut model = MpsBornMachine::new(9, 2, BornOptions::new().sweeps(2).max_bond(4)).unwrap();
    model.fit(&data).unwrap();
    let path = temp_path("intact.tnlborn");
    model.save(&path).unwrap();
    MpsBornMachine::load(&path).expect("an intact model loads");
    let bytes = std::fs::read(&path).unwrap();
    let tensors: Vec<Vec<f64>> = model
        .tensors()
        .iter()
        .map(|t| t.iter().copied().collect())
        .collect();
    // Only sites with more than one entry per bond can be told apart from a valid
    // gauge when scaled; all of ours have bonds >= 2 inside.
    let mut rejected = 0;
    for (what, bad) in broken_variants(&bytes, &tensors, model.center(), 36) {
        let p = write_with_crc("broken.tnlborn", bad);
        match MpsBornMachine::load(&p) {
            Err(Error::Format { reason, .. }) => {
                assert!(reason.contains("canonical"), "{what}: {reason}");
                rejected += 1;
            }
            other => panic!("{what}: expected a format error, got {other:?}"),
        }
    }
    assert!(rejected >= 3 * 9 - 1);
}

#[test]
fn ttn_model_files_with_a_broken_canonical_form_are_rejected() {
    let data = bars_and_stripes_3();
    let tree = Tree::balanced(9).unwrap();
    let mut model = TtnBornMachine::new(tree, 2, BornOptions::new().sweeps(2).max_bond(4)).unwrap();
    model.fit(&data).unwrap();
    let path = temp_path("intact.tnlttn");
    model.save(&path).unwrap();
    TtnBornMachine::load(&path).expect("an intact model loads");
    let bytes = std::fs::read(&path).unwrap();
    let tensors: Vec<Vec<f64>> = model
        .tensors()
        .iter()
        .map(|t| t.iter().copied().collect())
        .collect();
    for (what, bad) in broken_variants(&bytes, &tensors, model.center(), 44) {
        let p = write_with_crc("broken.tnlttn", bad);
        match TtnBornMachine::load(&p) {
            Err(Error::Format { reason, .. }) => {
                assert!(reason.contains("canonical"), "{what}: {reason}");
            }
            other => panic!("{what}: expected a format error, got {other:?}"),
        }
    }
}

#[test]
fn check_canonical_accepts_canonical_states_and_rejects_others() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut psi = Mps::<Complex64>::random(&[3; 7], 5, &mut rng).unwrap();
    assert!(psi.check_canonical(3, 1e-10).is_err());
    for c in [0, 3, 6] {
        psi.move_center(c).unwrap();
        psi.check_canonical(c, 1e-10).unwrap();
        for other in 0..7 {
            if other != c {
                assert!(psi.check_canonical(other, 1e-10).is_err(), "{c} vs {other}");
            }
        }
    }
    assert!(psi.check_canonical(7, 1e-10).is_err());
    assert!(psi.check_canonical(6, f64::NAN).is_err());
    let tree = Tree::balanced(7).unwrap();
    let mut t = Ttn::<f64>::random(tree, 2, 3, &mut rng).unwrap();
    assert!(t.check_canonical(0, 1e-10).is_err());
    for c in 0..6 {
        t.move_center(c).unwrap();
        t.check_canonical(c, 1e-10).unwrap();
    }
    assert!(t.check_canonical(6, 1e-10).is_err());
}
