mod common;

use common::{assert_close, naive_einsum, random_operands, random_spec};
use proptest::prelude::*;
use tnlearn::{
    einsum, einsum_with, Complex64, ContractionPlan, Error, PathOptimizer, Scalar, Tensor,
};

const TOL: f64 = 1e-12;

fn check_spec<T: Scalar>(spec: &str, shapes: &[Vec<usize>], seed: u64) {
    let ops: Vec<Tensor<T>> = random_operands(shapes, seed);
    let refs: Vec<&Tensor<T>> = ops.iter().collect();
    let reference = naive_einsum(spec, &refs);
    for opt in [
        PathOptimizer::Greedy,
        PathOptimizer::Optimal,
        PathOptimizer::Auto,
        PathOptimizer::LeftToRight,
    ] {
        let got = einsum_with(spec, &refs, opt)
            .unwrap_or_else(|e| panic!("{spec} {shapes:?} {opt:?}: {e}"));
        assert_close(&got, &reference, TOL, &format!("{spec} {shapes:?} {opt:?}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_specs_f64(seed in any::<u64>()) {
        let (spec, shapes) = random_spec(seed, 4);
        check_spec::<f64>(&spec, &shapes, seed ^ 1);
    }

    #[test]
    fn random_specs_c64(seed in any::<u64>()) {
        let (spec, shapes) = random_spec(seed, 4);
        check_spec::<Complex64>(&spec, &shapes, seed ^ 2);
    }
}

/// A random network of many short axes (sizes 2-3, up to 10 letters, 3-7 operands),
/// like a CORA level step: every pairwise product is tiny and most need permuted
/// operands (the gather-table and small-product kernels).
fn short_axes_spec(seed: u64) -> (String, Vec<Vec<usize>>) {
    let mut rng = common::rng(seed);
    let letters: Vec<char> = "abcdefghijkl".chars().collect();
    let nl = common::pick(&mut rng, 4, 9);
    let dims: Vec<usize> = (0..nl).map(|_| common::pick(&mut rng, 2, 3)).collect();
    let nops = common::pick(&mut rng, 3, 7);
    let mut terms: Vec<Vec<char>> = Vec::new();
    for _ in 0..nops {
        let order = common::pick(&mut rng, 1, 5.min(nl));
        let mut t: Vec<char> = Vec::new();
        while t.len() < order {
            let c = letters[common::pick(&mut rng, 0, nl - 1)];
            if !t.contains(&c) {
                t.push(c);
            }
        }
        terms.push(t);
    }
    let used: Vec<char> = letters[..nl]
        .iter()
        .copied()
        .filter(|c| terms.iter().flatten().any(|x| x == c))
        .collect();
    let mut output: Vec<char> = used
        .iter()
        .copied()
        .filter(|_| common::pick(&mut rng, 0, 2) == 0)
        .collect();
    output.reverse();
    let shapes = common::term_shapes(&terms, &letters[..nl], &dims);
    let ins: Vec<String> = terms.iter().map(|t| t.iter().collect()).collect();
    let spec = format!("{}->{}", ins.join(","), output.iter().collect::<String>());
    (spec, shapes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn short_axes_networks_match_reference(seed in any::<u64>()) {
        let (spec, shapes) = short_axes_spec(seed);
        check_spec::<f64>(&spec, &shapes, seed ^ 3);
        check_spec::<Complex64>(&spec, &shapes, seed ^ 4);
        // Through a plan cache, twice (the second run is a cache hit).
        let ops: Vec<Tensor<f64>> = random_operands(&shapes, seed ^ 5);
        let refs: Vec<&Tensor<f64>> = ops.iter().collect();
        let reference = naive_einsum(&spec, &refs);
        let cache = tnlearn::tensor::PlanCache::default();
        for _ in 0..2 {
            let got = cache.run(&spec, &refs).unwrap();
            assert_close(&got, &reference, TOL, &format!("cache {spec} {shapes:?}"));
        }
        prop_assert_eq!(cache.len(), 1);
    }
}

#[test]
fn plan_cache_keys_on_spec_and_every_shape() {
    let cache = tnlearn::tensor::PlanCache::default();
    let a = Tensor::<f64>::ones(&[2, 3]);
    let b = Tensor::<f64>::ones(&[3, 2]);
    let c = Tensor::<f64>::ones(&[3, 3]);
    let v = Tensor::<f64>::ones(&[6]);
    let m = Tensor::<f64>::ones(&[6, 1]);
    assert_eq!(cache.run("ij,jk->ik", &[&a, &b]).unwrap().shape(), &[2, 2]);
    assert_eq!(cache.run("ij,jk->ik", &[&b, &a]).unwrap().shape(), &[3, 3]);
    assert!(cache.run("ij,jk->ik", &[&b, &c]).is_err());
    assert_eq!(cache.run("ij,jk->ki", &[&a, &b]).unwrap().shape(), &[2, 2]);
    // Same dimensions, different orders: different keys.
    assert_eq!(cache.run("i->i", &[&v]).unwrap().shape(), &[6]);
    assert_eq!(cache.run("ij->i", &[&m]).unwrap().shape(), &[6]);
    assert_eq!(cache.len(), 5);
    assert_eq!(
        cache.run("ij,jk->ik", &[&a, &b]).unwrap().as_slice(),
        &[3.0; 4]
    );
    assert_eq!(cache.len(), 5);
    let p = cache.plan("ij,jk->ik", &[&a, &b]).unwrap();
    assert_eq!(p.output_shape(), &[2, 2]);
    assert_eq!(cache.len(), 5);
}

fn s(v: &[&[usize]]) -> Vec<Vec<usize>> {
    v.iter().map(|x| x.to_vec()).collect()
}

#[test]
fn explicit_cases() {
    let cases: &[(&str, &[&[usize]])] = &[
        ("ij,jk->ik", &[&[2, 3], &[3, 4]]),
        ("ij,jk", &[&[2, 3], &[3, 4]]),
        ("ii->i", &[&[3, 3]]),
        ("ii->", &[&[3, 3]]),
        ("ii", &[&[4, 4]]),
        ("iij->j", &[&[3, 3, 2]]),
        ("iji->ij", &[&[3, 2, 3]]),
        ("ij->", &[&[3, 2]]),
        ("ij->ji", &[&[3, 2]]),
        ("ij->j", &[&[3, 2]]),
        ("ijk->kij", &[&[2, 3, 4]]),
        ("i,j->ij", &[&[3], &[4]]),
        ("ij,kl->ljki", &[&[2, 3], &[2, 2]]),
        ("i,i->", &[&[5], &[5]]),
        ("i,i->i", &[&[5], &[5]]),
        ("bij,bjk->bik", &[&[3, 2, 4], &[3, 4, 2]]),
        ("bij,bjk->kbi", &[&[3, 2, 4], &[3, 4, 2]]),
        ("bi,bj->ij", &[&[6, 3], &[6, 2]]),
        ("ij,ij->ij", &[&[3, 4], &[3, 4]]),
        ("ij,ij->", &[&[3, 4], &[3, 4]]),
        ("ab,asc,bsd->cd", &[&[3, 3], &[3, 2, 4], &[3, 2, 4]]),
        ("asb,btc->astc", &[&[3, 2, 4], &[4, 2, 3]]),
        ("aib,bjc->ajic", &[&[2, 3, 4], &[4, 3, 2]]),
        ("bl,br,alr->ba", &[&[4, 3], &[4, 2], &[5, 3, 2]]),
        (",->", &[&[], &[]]),
        (",ij->ij", &[&[], &[2, 3]]),
        ("->", &[&[]]),
        ("ij,jk,kl,lm->im", &[&[2, 3], &[3, 4], &[4, 2], &[2, 3]]),
        ("ijk,k,j->i", &[&[2, 3, 4], &[4], &[3]]),
        ("ij,jk,ki->", &[&[2, 3], &[3, 4], &[4, 2]]),
        ("iq,jq,kq->ijk", &[&[2, 3], &[3, 3], &[4, 3]]),
        ("ix,jx,xk->ijk", &[&[2, 3], &[2, 3], &[3, 2]]),
        ("abc,abd->", &[&[2, 3, 4], &[2, 3, 5]]),
        ("aa,ab,b->", &[&[3, 3], &[3, 2], &[2]]),
        ("ij,k->", &[&[2, 3], &[4]]),
        ("ijk,ikl,ilm->ijm", &[&[2, 2, 3], &[2, 3, 2], &[2, 2, 3]]),
        ("Ab,bA->A", &[&[3, 2], &[2, 3]]),
        (" i j , j k -> i k ", &[&[2, 3], &[3, 4]]),
        ("ij,jk->ik", &[&[0, 3], &[3, 4]]),
        ("ij,jk->ik", &[&[2, 0], &[0, 4]]),
        (
            "ab,bc,cd,de,ef,fg,gh,hi,ij->aj",
            &[
                &[2, 2],
                &[2, 3],
                &[3, 2],
                &[2, 2],
                &[2, 3],
                &[3, 2],
                &[2, 2],
                &[2, 3],
                &[3, 2],
            ],
        ),
    ];
    for (k, (spec, shapes)) in cases.iter().enumerate() {
        check_spec::<f64>(spec, &s(shapes), k as u64);
        check_spec::<Complex64>(spec, &s(shapes), k as u64 + 100);
    }
}

#[test]
fn large_gemm_path_matches_reference() {
    // Above the tiny-kernel threshold, with transposed and permuted layouts.
    let cases: &[(&str, &[&[usize]])] = &[
        ("ij,jk->ik", &[&[19, 23], &[23, 21]]),
        ("ji,jk->ik", &[&[23, 19], &[23, 21]]),
        ("ij,kj->ik", &[&[19, 23], &[21, 23]]),
        ("ij,jk->ki", &[&[19, 23], &[23, 21]]),
        ("aib,bjc->ajic", &[&[5, 9, 7], &[7, 6, 4]]),
        ("bij,bjk->bik", &[&[3, 17, 12], &[3, 12, 9]]),
        ("ibj,kbj->bik", &[&[17, 3, 12], &[9, 3, 12]]),
        // Final layout not writable by one GEMM: loops over free axes (direct write).
        ("aib,bjc->ajic", &[&[3, 40, 30], &[30, 4, 30]]),
        ("aib,bjc->jcai", &[&[3, 40, 30], &[30, 4, 30]]),
        ("aib,bjc->ajic", &[&[2, 64, 16], &[16, 3, 32]]),
        // Batch index innermost (batch-trailing) and leading.
        ("ijb,jkb->ikb", &[&[33, 35, 3], &[35, 31, 3]]),
        ("bij,bkj->bik", &[&[3, 33, 35], &[3, 31, 35]]),
        // Long inner dimension: the k-panel path.
        ("bi,bj->ij", &[&[3000, 5], &[3000, 4]]),
        ("ib,bj->ji", &[&[6, 2500], &[2500, 3]]),
    ];
    for (spec, shapes) in cases {
        check_spec::<f64>(spec, &s(shapes), 7);
        check_spec::<Complex64>(spec, &s(shapes), 8);
    }
}

#[test]
fn implicit_mode_orders_output_alphabetically() {
    let a = Tensor::<f64>::ones(&[2, 3]);
    let b = Tensor::<f64>::ones(&[3, 4]);
    // "ba" implicit -> output "ab" (transpose).
    let t = einsum("ba", &[&a]).unwrap();
    assert_eq!(t.shape(), &[3, 2]);
    // Upper case sorts before lower case (ASCII), as in numpy.
    let u = einsum("aB", &[&a]).unwrap();
    assert_eq!(u.shape(), &[3, 2]);
    let c = einsum("ij,jk", &[&a, &b]).unwrap();
    assert_eq!(c.shape(), &[2, 4]);
}

#[test]
fn plan_reuse_is_bitwise_identical() {
    let spec = "ab,asc,bsd->cd";
    let shapes: Vec<&[usize]> = vec![&[5, 5], &[5, 3, 6], &[5, 3, 6]];
    let plan = ContractionPlan::new(spec, &shapes, PathOptimizer::Greedy).unwrap();
    assert_eq!(plan.output_shape(), &[6, 6]);
    for seed in 0..3u64 {
        let ops: Vec<Tensor<f64>> =
            random_operands(&shapes.iter().map(|x| x.to_vec()).collect::<Vec<_>>(), seed);
        let refs: Vec<&Tensor<f64>> = ops.iter().collect();
        let r1 = plan.execute(&refs).unwrap();
        let r2 = plan.execute(&refs).unwrap();
        let e = einsum(spec, &refs).unwrap();
        assert_eq!(r1.as_slice(), r2.as_slice());
        assert_eq!(r1.as_slice(), e.as_slice());
        assert_close(&r1, &naive_einsum(spec, &refs), TOL, "plan");
    }
    // Complex, with a trace pre-step and a final permutation.
    let spec = "iik,kj->jk";
    let shapes: Vec<&[usize]> = vec![&[3, 3, 4], &[4, 2]];
    let plan = ContractionPlan::new(spec, &shapes, PathOptimizer::Auto).unwrap();
    let ops: Vec<Tensor<Complex64>> =
        random_operands(&shapes.iter().map(|x| x.to_vec()).collect::<Vec<_>>(), 9);
    let refs: Vec<&Tensor<Complex64>> = ops.iter().collect();
    let r1 = plan.execute(&refs).unwrap();
    let r2 = plan.execute(&refs).unwrap();
    assert_eq!(r1, r2);
    assert_eq!(r1, einsum(spec, &refs).unwrap());
    assert_close(&r1, &naive_einsum(spec, &refs), TOL, "plan c64");
}

#[test]
fn common_layouts_need_no_copies() {
    let cases: &[(&str, &[&[usize]])] = &[
        ("ij,jk->ik", &[&[8, 9], &[9, 7]]),
        ("ji,jk->ik", &[&[9, 8], &[9, 7]]),
        ("ij,kj->ik", &[&[8, 9], &[7, 9]]),
        ("asb,btc->astc", &[&[8, 2, 8], &[8, 2, 8]]),
        ("ab,asc,bsd->cd", &[&[8, 8], &[8, 2, 8], &[8, 2, 8]]),
        ("bi,bj->ij", &[&[10, 5], &[10, 6]]),
        ("bij,bjk->bik", &[&[3, 4, 5], &[3, 5, 6]]),
        ("aib,bjc->ajic", &[&[32, 128, 32], &[32, 128, 32]]),
    ];
    for (spec, shapes) in cases {
        let plan = ContractionPlan::new(spec, shapes, PathOptimizer::Auto).unwrap();
        assert_eq!(plan.copied_elements(), 0, "{spec}");
    }
}

#[test]
fn plan_rejects_wrong_shapes() {
    let plan =
        ContractionPlan::new("ij,jk->ik", &[&[2, 3], &[3, 4]], PathOptimizer::Greedy).unwrap();
    let a = Tensor::<f64>::ones(&[2, 3]);
    let b = Tensor::<f64>::ones(&[3, 5]);
    let err = plan.execute(&[&a, &b]).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("operand 1") && msg.contains("[3, 4]") && msg.contains("[3, 5]"),
        "{msg}"
    );
    let err = plan.execute(&[&a]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    assert!(err.to_string().contains("2 operands"), "{err}");
}

fn spec_err(spec: &str, shapes: &[&[usize]]) -> Error {
    let ops: Vec<Tensor<f64>> = shapes.iter().map(|s| Tensor::ones(s)).collect();
    let refs: Vec<&Tensor<f64>> = ops.iter().collect();
    einsum(spec, &refs).unwrap_err()
}

fn assert_spec_err(spec: &str, shapes: &[&[usize]], pos: usize, ch: char, words: &[&str]) {
    let err = spec_err(spec, shapes);
    match &err {
        Error::InvalidSpec {
            position,
            character,
            ..
        } => {
            assert_eq!((*position, *character), (pos, ch), "{spec}: {err}");
        }
        other => panic!("{spec}: expected InvalidSpec, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&format!("position {pos}")), "{msg}");
    assert!(msg.contains(&format!("{ch:?}")), "{msg}");
    for w in words {
        assert!(msg.contains(w), "{spec}: message {msg:?} lacks {w:?}");
    }
}

#[test]
fn bad_specs_name_the_culprit() {
    assert_spec_err(
        "ij,j1->i",
        &[&[2, 2], &[2, 2]],
        4,
        '1',
        &["not an index letter"],
    );
    assert_spec_err(
        "ij,jk->iz",
        &[&[2, 2], &[2, 2]],
        8,
        'z',
        &["'z'", "does not appear"],
    );
    assert_spec_err(
        "ij,jk->iki",
        &[&[2, 2], &[2, 2]],
        9,
        'i',
        &["'i'", "repeated"],
    );
    assert_spec_err("ij,jk-ik", &[&[2, 2], &[2, 2]], 5, '-', &["'->'"]);
    assert_spec_err("ij->i->j", &[&[2, 2]], 5, '-', &["only once"]);
    assert_spec_err("ij,jk>ik", &[&[2, 2], &[2, 2]], 5, '>', &["'>'"]);
    assert_spec_err("i...j->ij", &[&[2, 2]], 1, '.', &["ellipsis"]);
    assert_spec_err("ij->i,j", &[&[2, 2]], 5, ',', &["comma"]);
    assert_spec_err(
        "ij,jé->i",
        &[&[2, 2], &[2, 2]],
        4,
        'é',
        &["not an index letter"],
    );
    // Operand count vs terms.
    assert_spec_err(
        "ij,jk,kl->il",
        &[&[2, 2], &[2, 2]],
        6,
        'k',
        &["3 input terms", "2 operands"],
    );
    assert_spec_err(
        "ij->ij",
        &[&[2, 2], &[2, 2]],
        2,
        '-',
        &["1 input terms", "2 operands"],
    );
    // Term length vs operand order.
    assert_spec_err(
        "ij,jkl->il",
        &[&[2, 2], &[2, 2]],
        3,
        'j',
        &["'jkl'", "3 indices", "order 2", "[2, 2]"],
    );
    assert_spec_err(
        "ij,->i",
        &[&[2, 2], &[2]],
        3,
        '-',
        &["term 1", "0 indices", "order 1"],
    );
}

#[test]
fn size_mismatch_names_letter_sizes_and_places() {
    let err = spec_err("ij,jk->ik", &[&[2, 3], &[4, 5]]);
    match &err {
        Error::IndexSizeMismatch {
            index,
            first,
            second,
            ..
        } => assert_eq!((*index, *first, *second), ('j', 3, 4)),
        other => panic!("expected IndexSizeMismatch, got {other:?}"),
    }
    let msg = err.to_string();
    for w in [
        "'j'",
        "size 3",
        "size 4",
        "operand 0, axis 1",
        "operand 1, axis 0",
    ] {
        assert!(msg.contains(w), "{msg} lacks {w}");
    }
    // Repeated letter within one operand.
    let err = spec_err("ii->i", &[&[2, 3]]);
    let msg = err.to_string();
    assert!(
        matches!(err, Error::IndexSizeMismatch { index: 'i', .. }),
        "{err:?}"
    );
    assert!(
        msg.contains("operand 0, axis 0") && msg.contains("operand 0, axis 1"),
        "{msg}"
    );
}

#[test]
fn optimal_refuses_huge_networks_but_greedy_handles_them() {
    // A 17-matrix chain (more than MAX_OPTIMAL_OPERANDS = 16).
    let letters: Vec<char> = ('a'..='r').collect();
    let terms: Vec<String> = (0..17)
        .map(|i| format!("{}{}", letters[i], letters[i + 1]))
        .collect();
    let spec = format!("{}->ar", terms.join(","));
    let shapes: Vec<Vec<usize>> = (0..17).map(|_| vec![2, 2]).collect();
    let shape_refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
    let err = ContractionPlan::new(&spec, &shape_refs, PathOptimizer::Optimal).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    assert!(err.to_string().contains("17"), "{err}");
    let ops: Vec<Tensor<f64>> = random_operands(&shapes, 5);
    let refs: Vec<&Tensor<f64>> = ops.iter().collect();
    let reference = naive_einsum(&spec, &refs);
    for opt in [
        PathOptimizer::Greedy,
        PathOptimizer::Auto,
        PathOptimizer::LeftToRight,
    ] {
        assert_close(
            &einsum_with(&spec, &refs, opt).unwrap(),
            &reference,
            TOL,
            "chain",
        );
    }
}

/// A random batched product with the batch index (or two) innermost in the result,
/// like `ijb,jkb->ikb`: the operands' axis orders are random (batch leading,
/// trailing or between), sizes are random and include batch sizes that are not a
/// multiple of the 8-entry block. Covers the batch-blocked product kernel (gathered
/// and in-place operands, partial blocks, an outer batch loop).
fn batch_trailing_spec(seed: u64) -> (String, Vec<Vec<usize>>) {
    let mut rng = common::rng(seed);
    let two_batch = common::pick(&mut rng, 0, 2) == 0;
    let letters: Vec<char> = "ijkbc".chars().collect();
    let dims: Vec<usize> = vec![
        common::pick(&mut rng, 1, 14),
        common::pick(&mut rng, 1, 14),
        common::pick(&mut rng, 1, 14),
        common::pick(&mut rng, 1, 21),
        common::pick(&mut rng, 1, 3),
    ];
    let shuffle = |rng: &mut rand_chacha::ChaCha8Rng, mut t: Vec<char>| {
        for p in (1..t.len()).rev() {
            t.swap(p, common::pick(rng, 0, p));
        }
        t
    };
    let batch: Vec<char> = if two_batch { vec!['c', 'b'] } else { vec!['b'] };
    let mut ta = vec!['i', 'j'];
    let mut tb = vec!['j', 'k'];
    ta.extend(&batch);
    tb.extend(&batch);
    let ta = if common::pick(&mut rng, 0, 1) == 0 {
        ta
    } else {
        shuffle(&mut rng, ta)
    };
    let tb = if common::pick(&mut rng, 0, 1) == 0 {
        tb
    } else {
        shuffle(&mut rng, tb)
    };
    // Result: free axes in either order, the batch index innermost (mostly).
    let mut out: Vec<char> = if common::pick(&mut rng, 0, 1) == 0 {
        vec!['i', 'k']
    } else {
        vec!['k', 'i']
    };
    if two_batch {
        out.insert(common::pick(&mut rng, 0, 2), 'c');
    }
    out.push('b');
    if common::pick(&mut rng, 0, 4) == 0 {
        out = shuffle(&mut rng, out);
    }
    let terms = vec![ta, tb];
    let shapes = common::term_shapes(&terms, &letters, &dims);
    let ins: Vec<String> = terms.iter().map(|t| t.iter().collect()).collect();
    let spec = format!("{}->{}", ins.join(","), out.iter().collect::<String>());
    (spec, shapes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn batch_trailing_products_match_reference(seed in any::<u64>()) {
        let (spec, shapes) = batch_trailing_spec(seed);
        check_spec::<f64>(&spec, &shapes, seed ^ 6);
        check_spec::<Complex64>(&spec, &shapes, seed ^ 7);
    }
}

#[test]
fn batch_trailing_large_cases_match_reference() {
    let cases: &[(&str, &[&[usize]])] = &[
        ("ijb,jkb->ikb", &[&[24, 20, 19], &[20, 17, 19]]),
        ("ijb,jkb->kib", &[&[9, 40, 8], &[40, 11, 8]]),
        ("bij,jkb->ikb", &[&[13, 12, 30], &[30, 9, 13]]),
        ("ijcb,jkbc->ickb", &[&[10, 9, 3, 11], &[9, 12, 11, 3]]),
    ];
    for (k, (spec, shapes)) in cases.iter().enumerate() {
        check_spec::<f64>(spec, &s(shapes), k as u64 + 200);
        check_spec::<Complex64>(spec, &s(shapes), k as u64 + 300);
    }
}

#[test]
fn batch_trailing_copies_each_operand_once() {
    // The batch-blocked product gathers A and B (no unit stride in their matrices)
    // and scatters C: each element is copied exactly once.
    let plan = ContractionPlan::new(
        "ijb,jkb->ikb",
        &[&[16, 12, 16], &[12, 10, 16]],
        PathOptimizer::Auto,
    )
    .unwrap();
    assert_eq!(
        plan.copied_elements(),
        16 * 12 * 16 + 12 * 10 * 16 + 16 * 10 * 16
    );
    // Batch-leading B has unit-stride rows: only A and C are copied.
    let plan = ContractionPlan::new(
        "ijb,bjk->ikb",
        &[&[16, 12, 16], &[16, 12, 10]],
        PathOptimizer::Auto,
    )
    .unwrap();
    assert_eq!(plan.copied_elements(), 16 * 12 * 16 + 16 * 10 * 16);
}
