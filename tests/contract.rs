mod common;

use common::{assert_close, naive_einsum};
use proptest::prelude::*;
use rand::Rng;
use tnlearn::{contract, Complex64, Error, Scalar, Tensor};

const LETTERS: &[u8] = b"abcdefghijklmnop";

/// The einsum spec equivalent to `contract(a, axes_a, b, axes_b)`.
fn tensordot_spec(na: usize, axes_a: &[usize], nb: usize, axes_b: &[usize]) -> String {
    let la: Vec<char> = (0..na).map(|i| LETTERS[i] as char).collect();
    let lb: Vec<char> = (0..nb)
        .map(|j| match axes_b.iter().position(|&x| x == j) {
            Some(p) => la[axes_a[p]],
            None => LETTERS[na + j] as char,
        })
        .collect();
    let out: String = (0..na)
        .filter(|i| !axes_a.contains(i))
        .map(|i| la[i])
        .chain((0..nb).filter(|j| !axes_b.contains(j)).map(|j| lb[j]))
        .collect();
    format!(
        "{},{}->{}",
        la.iter().collect::<String>(),
        lb.iter().collect::<String>(),
        out
    )
}

fn check_random<T: Scalar>(seed: u64, max_dim: usize) {
    let mut rng = common::rng(seed);
    let na = rng.random_range(0..=4usize);
    let nb = rng.random_range(0..=4usize);
    let nk = rng.random_range(0..=na.min(nb));
    // Random distinct axes of each, paired in random order.
    let mut pa: Vec<usize> = (0..na).collect();
    let mut pb: Vec<usize> = (0..nb).collect();
    for v in [&mut pa, &mut pb] {
        for i in (1..v.len()).rev() {
            let j = rng.random_range(0..=i);
            v.swap(i, j);
        }
    }
    let axes_a = pa[..nk].to_vec();
    let axes_b = pb[..nk].to_vec();
    let mut sa: Vec<usize> = (0..na).map(|_| rng.random_range(1..=max_dim)).collect();
    let mut sb: Vec<usize> = (0..nb).map(|_| rng.random_range(1..=max_dim)).collect();
    for (&i, &j) in axes_a.iter().zip(&axes_b) {
        sb[j] = sa[i];
    }
    if rng.random_bool(0.05) && na > 0 {
        sa[0] = 0;
        if let Some(p) = axes_a.iter().position(|&x| x == 0) {
            sb[axes_b[p]] = 0;
        }
    }
    let a = Tensor::<T>::random(&sa, &mut rng);
    let b = Tensor::<T>::random(&sb, &mut rng);
    let got = contract(&a, &axes_a, &b, &axes_b).unwrap();
    let spec = tensordot_spec(na, &axes_a, nb, &axes_b);
    let reference = naive_einsum(&spec, &[&a, &b]);
    assert_close(&got, &reference, 1e-12, &format!("{spec} {sa:?} {sb:?}"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn contract_matches_reference_f64(seed in any::<u64>()) {
        check_random::<f64>(seed, 4);
    }

    #[test]
    fn contract_matches_reference_c64(seed in any::<u64>()) {
        check_random::<Complex64>(seed, 4);
    }
}

#[test]
fn contract_larger_dims_use_backend_gemm() {
    for seed in 0..40 {
        check_random::<f64>(seed, 9);
        check_random::<Complex64>(seed + 1000, 9);
    }
}

#[test]
fn contract_known_values() {
    let a = Tensor::<f64>::new(&[2, 2], vec![1., 2., 3., 4.]).unwrap();
    let b = Tensor::<f64>::new(&[2, 2], vec![5., 6., 7., 8.]).unwrap();
    let c = contract(&a, &[1], &b, &[0]).unwrap();
    assert_eq!(c.as_slice(), &[19., 22., 43., 50.]);
    // a^T b
    let c = contract(&a, &[0], &b, &[0]).unwrap();
    assert_eq!(c.as_slice(), &[26., 30., 38., 44.]);
    // full contraction: sum a_ij b_ij
    let c = contract(&a, &[0, 1], &b, &[0, 1]).unwrap();
    assert_eq!(c.shape(), &[] as &[usize]);
    assert_eq!(c.as_slice(), &[70.]);
    // reversed pairing: sum a_ij b_ji
    let c = contract(&a, &[0, 1], &b, &[1, 0]).unwrap();
    assert_eq!(c.as_slice(), &[1. * 5. + 2. * 7. + 3. * 6. + 4. * 8.]);
    // outer product
    let c = contract(&a, &[], &b, &[]).unwrap();
    assert_eq!(c.shape(), &[2, 2, 2, 2]);
    assert_eq!(c.get(&[1, 0, 0, 1]).unwrap(), 3. * 6.);
}

#[test]
fn contract_errors_name_the_culprit() {
    let a = Tensor::<f64>::ones(&[2, 3, 4]);
    let b = Tensor::<f64>::ones(&[4, 3]);
    let err = contract(&a, &[1, 2], &b, &[1]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    assert!(
        err.to_string().contains("2 axes") && err.to_string().contains("1"),
        "{err}"
    );

    let err = contract(&a, &[3], &b, &[0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidAxis {
                axis: 3,
                order: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("axes_a") && err.to_string().contains("out of range"),
        "{err}"
    );

    let err = contract(&a, &[2, 2], &b, &[0, 1]).unwrap_err();
    assert!(matches!(err, Error::InvalidAxis { axis: 2, .. }), "{err:?}");
    assert!(err.to_string().contains("repeated"), "{err}");

    let err = contract(&a, &[2], &b, &[5]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidAxis {
                axis: 5,
                order: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("axes_b"), "{err}");

    let err = contract(&a, &[1], &b, &[0]).unwrap_err();
    match &err {
        Error::IndexSizeMismatch { first, second, .. } => assert_eq!((*first, *second), (3, 4)),
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    for w in ["size 3", "size 4", "a, axis 1", "b, axis 0"] {
        assert!(msg.contains(w), "{msg} lacks {w}");
    }
}

/// `Tensor::permute` (the engine's blocked permutation) against ndarray's generic
/// strided copy, with dims beyond the 32-element tile, all permutations of order 3
/// and assorted ones of order 4.
#[test]
fn permute_matches_ndarray_including_tiled_path() {
    let mut rng = common::rng(11);
    let shapes: &[&[usize]] = &[&[37, 5, 70], &[65, 33, 1], &[1, 40, 41], &[70, 90, 3]];
    let perms3: &[[usize; 3]] = &[
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for shape in shapes {
        let t = Tensor::<f64>::random(shape, &mut rng);
        for p in perms3 {
            let got = t.permute(p).unwrap();
            let expected = t.as_array().permuted_axes(p.to_vec());
            assert_eq!(got.shape(), expected.shape());
            assert!(
                got.as_array()
                    .iter()
                    .zip(expected.iter())
                    .all(|(a, b)| a == b),
                "{shape:?} {p:?}"
            );
        }
    }
    let t = Tensor::<Complex64>::random(&[9, 34, 3, 40], &mut rng);
    for p in [[3, 2, 1, 0], [1, 3, 0, 2], [0, 3, 2, 1], [2, 0, 3, 1]] {
        let got = t.permute(&p).unwrap();
        let expected = t.as_array().permuted_axes(p.to_vec());
        assert!(
            got.as_array()
                .iter()
                .zip(expected.iter())
                .all(|(a, b)| a == b),
            "{p:?}"
        );
    }
}
