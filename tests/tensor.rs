//! Tests of the dense `Tensor` type against independent references (index
//! arithmetic written out by hand).

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::{Complex64, Error, Scalar, Tensor};

/// Row-major strides of a shape, computed by hand.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Multi-index of a flat row-major position.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for i in (0..shape.len()).rev() {
        idx[i] = flat % shape[i];
        flat /= shape[i];
    }
    idx
}

fn naive_permute<T: Scalar>(t: &Tensor<T>, axes: &[usize]) -> Vec<T> {
    let in_shape = t.shape();
    let out_shape: Vec<usize> = axes.iter().map(|&a| in_shape[a]).collect();
    let in_strides = strides(in_shape);
    let n: usize = out_shape.iter().product();
    (0..n)
        .map(|flat| {
            let out_idx = unravel(flat, &out_shape);
            let mut pos = 0;
            for (k, &a) in axes.iter().enumerate() {
                pos += out_idx[k] * in_strides[a];
            }
            t.as_slice()[pos]
        })
        .collect()
}

fn shape_and_perm() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..5, 0..6).prop_flat_map(|shape| {
        let n = shape.len();
        (Just(shape), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
    })
}

proptest! {
    #[test]
    fn permute_matches_index_arithmetic((shape, perm) in shape_and_perm(), seed in 0u64..1000) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = Tensor::<f64>::random(&shape, &mut rng);
        let p = t.permute(&perm).unwrap();
        let expected_shape: Vec<usize> = perm.iter().map(|&a| shape[a]).collect();
        prop_assert_eq!(p.shape(), &expected_shape[..]);
        prop_assert_eq!(p.as_slice(), &naive_permute(&t, &perm)[..]);
        // Inverse permutation restores the original exactly.
        let mut inv = vec![0; perm.len()];
        for (i, &a) in perm.iter().enumerate() { inv[a] = i; }
        prop_assert_eq!(p.permute(&inv).unwrap(), t);
    }

    #[test]
    fn complex_permute_matches_index_arithmetic((shape, perm) in shape_and_perm(), seed in 0u64..1000) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = Tensor::<Complex64>::random(&shape, &mut rng);
        let p = t.permute(&perm).unwrap();
        prop_assert_eq!(p.as_slice(), &naive_permute(&t, &perm)[..]);
    }

    #[test]
    fn norm_is_sqrt_of_sum_of_squares(shape in prop::collection::vec(1usize..6, 1..4), seed in 0u64..1000) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = Tensor::<Complex64>::random(&shape, &mut rng);
        let by_hand: f64 = t.as_slice().iter().map(|z| z.re * z.re + z.im * z.im).sum::<f64>().sqrt();
        prop_assert!((t.norm() - by_hand).abs() <= 1e-12 * by_hand.max(1.0));
        prop_assert!((t.norm_sqr() - by_hand * by_hand).abs() <= 1e-12 * by_hand.max(1.0).powi(2));
    }
}

#[test]
fn conversion_from_standard_layout_array_moves_the_buffer() {
    let a = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let ptr = a.as_ptr();
    let t = Tensor::from(a);
    assert_eq!(
        t.as_slice().as_ptr(),
        ptr,
        "no copy for a standard-layout array"
    );
    let back: ArrayD<f64> = t.into();
    assert_eq!(back.as_ptr(), ptr, "no copy back to ndarray");
}

#[test]
fn conversion_from_transposed_array_copies_into_row_major() {
    let a = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let t = Tensor::from(a.reversed_axes());
    assert_eq!(t.shape(), &[3, 2]);
    assert_eq!(t.as_slice(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
}

#[test]
fn conversion_from_sliced_array_keeps_the_right_elements() {
    let a = ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let sliced = a.slice_move(ndarray::s![1.., ..]).into_dyn();
    let t = Tensor::from(sliced);
    assert_eq!(t.shape(), &[2, 2]);
    assert_eq!(t.as_slice(), &[3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn as_array_views_the_same_elements() {
    let t = Tensor::<f64>::from_fn(&[2, 3, 4], |i| (i[0] * 100 + i[1] * 10 + i[2]) as f64);
    let v = t.as_array();
    assert_eq!(v[[1, 2, 3]], 123.0);
    assert_eq!(t.get(&[1, 2, 3]).unwrap(), 123.0);
}

#[test]
fn reshape_keeps_row_major_order_and_rejects_wrong_sizes() {
    let t = Tensor::<f64>::from_fn(&[2, 6], |i| (i[0] * 6 + i[1]) as f64);
    let r = t.clone().reshape(&[3, 4]).unwrap();
    assert_eq!(r.as_slice(), t.as_slice());
    let err = t.reshape(&[5, 2]).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("[2, 6]") && msg.contains("[5, 2]"), "{msg}");
}

#[test]
fn new_rejects_data_of_the_wrong_length() {
    let err = Tensor::<f64>::new(&[2, 3], vec![0.0; 5]).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }));
    assert!(err.to_string().contains("[2, 3]"), "{err}");
}

#[test]
fn permute_rejects_bad_permutations() {
    let t = Tensor::<f64>::zeros(&[2, 3, 4]);
    let err = t.permute(&[0, 1]).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }));
    let err = t.permute(&[0, 1, 3]).unwrap_err();
    assert!(matches!(err, Error::InvalidAxis { axis: 3, .. }), "{err:?}");
    let err = t.permute(&[0, 1, 1]).unwrap_err();
    assert!(matches!(err, Error::InvalidAxis { axis: 1, .. }), "{err:?}");
    assert!(err.to_string().contains("twice"), "{err}");
}

#[test]
fn get_and_set_check_ranges() {
    let mut t = Tensor::<f64>::zeros(&[2, 3]);
    t.set(&[1, 2], 5.0).unwrap();
    assert_eq!(t.as_slice()[5], 5.0);
    let err = t.get(&[2, 0]).unwrap_err();
    assert!(matches!(err, Error::InvalidAxis { axis: 0, .. }), "{err:?}");
    assert!(t.get(&[0]).is_err());
}

#[test]
fn elementwise_arithmetic_matches_by_hand_and_checks_shapes() {
    let a = Tensor::<f64>::new(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let b = Tensor::<f64>::new(&[2, 2], vec![5.0, 6.0, 7.0, 8.0]).unwrap();
    assert_eq!(a.add(&b).unwrap().as_slice(), &[6.0, 8.0, 10.0, 12.0]);
    assert_eq!(b.sub(&a).unwrap().as_slice(), &[4.0, 4.0, 4.0, 4.0]);
    assert_eq!(
        a.mul_elementwise(&b).unwrap().as_slice(),
        &[5.0, 12.0, 21.0, 32.0]
    );
    assert_eq!(
        b.div_elementwise(&a).unwrap().as_slice(),
        &[5.0, 3.0, 7.0 / 3.0, 2.0]
    );
    assert_eq!((a.clone() * 2.0).as_slice(), &[2.0, 4.0, 6.0, 8.0]);
    assert_eq!((-a.clone()).as_slice(), &[-1.0, -2.0, -3.0, -4.0]);
    let mut c = a.clone();
    c.axpy(0.5, &b).unwrap();
    assert_eq!(c.as_slice(), &[3.5, 5.0, 6.5, 8.0]);
    let wrong = Tensor::<f64>::zeros(&[4]);
    let err = a.add(&wrong).unwrap_err();
    assert!(
        err.to_string().contains("[2, 2]") && err.to_string().contains("[4]"),
        "{err}"
    );
    assert!(c.axpy(1.0, &wrong).is_err());
}

#[test]
fn conj_flips_imaginary_parts_only() {
    let t = Tensor::<Complex64>::new(
        &[2],
        vec![Complex64::new(1.0, 2.0), Complex64::new(-3.0, -4.0)],
    )
    .unwrap();
    let c = t.conj();
    assert_eq!(
        c.as_slice(),
        &[Complex64::new(1.0, -2.0), Complex64::new(-3.0, 4.0)]
    );
    let r = Tensor::<f64>::new(&[2], vec![1.0, -2.0]).unwrap();
    assert_eq!(r.conj(), r);
}

#[test]
fn norm_does_not_overflow() {
    let t = Tensor::<f64>::from_elem(&[4], 1e300);
    assert!((t.norm() / 2e300 - 1.0).abs() < 1e-15);
    let z = Tensor::<f64>::zeros(&[3]);
    assert_eq!(z.norm(), 0.0);
}

#[test]
fn check_finite_names_the_first_bad_position() {
    let mut t = Tensor::<f64>::zeros(&[3, 3]);
    t.as_mut_slice()[4] = f64::NAN;
    let err = t.check_finite("my tensor").unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { position: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("my tensor"));
    assert!(Tensor::<f64>::ones(&[2]).check_finite("ok").is_ok());
}

#[test]
fn random_tensors_are_reproducible_from_the_seed() {
    let a = Tensor::<Complex64>::random(&[3, 4], &mut ChaCha8Rng::seed_from_u64(1));
    let b = Tensor::<Complex64>::random(&[3, 4], &mut ChaCha8Rng::seed_from_u64(1));
    let c = Tensor::<Complex64>::random(&[3, 4], &mut ChaCha8Rng::seed_from_u64(2));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn complex_normal_samples_have_unit_second_moment() {
    let t = Tensor::<Complex64>::random(&[200_000], &mut ChaCha8Rng::seed_from_u64(3));
    let m2 = t.norm_sqr() / t.len() as f64;
    // Standard error of the mean of |z|^2 (exponential with mean 1) is 1/sqrt(n).
    assert!(
        (m2 - 1.0).abs() < 5.0 / (t.len() as f64).sqrt(),
        "E|z|^2 = {m2}"
    );
}

#[test]
fn eye_and_scalar() {
    let e = Tensor::<f64>::eye(3);
    assert_eq!(e.as_slice(), &[1., 0., 0., 0., 1., 0., 0., 0., 1.]);
    let s = Tensor::scalar(2.5);
    assert_eq!(s.shape(), &[] as &[usize]);
    assert_eq!(s.as_slice(), &[2.5]);
}

// ------------------------------------------------- fixed-rank ndarray conversions

proptest! {
    /// Array3 -> Tensor -> Array3 is the identity, element by element, also for a
    /// non-standard (transposed) layout; a tensor of another order is a shape error
    /// naming both orders.
    #[test]
    fn array3_round_trip(a in 1usize..5, b in 1usize..5, c in 1usize..5, seed in 0u64..1000) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = Tensor::<f64>::random(&[a, b, c], &mut rng);
        let arr = ndarray::Array3::try_from(t.clone()).unwrap();
        for i in 0..a {
            for j in 0..b {
                for k in 0..c {
                    prop_assert_eq!(arr[[i, j, k]], t.get(&[i, j, k]).unwrap());
                }
            }
        }
        let back = Tensor::from(arr.clone());
        prop_assert_eq!(&back, &t);
        // A transposed view converts by value, not by memory order.
        let tr = arr.clone().permuted_axes([2, 1, 0]);
        let tt = Tensor::from(tr.clone());
        prop_assert_eq!(tt.shape(), &[c, b, a]);
        prop_assert_eq!(tt.get(&[c - 1, 0, a - 1]).unwrap(), arr[[a - 1, 0, c - 1]]);
        let e = ndarray::Array2::<f64>::try_from(t).unwrap_err();
        let is_shape = matches!(e, Error::ShapeMismatch { .. });
        prop_assert!(is_shape, "{}", e);
        prop_assert!(e.to_string().contains("order 3") && e.to_string().contains("order 2"), "{}", e);
    }
}

#[test]
fn fixed_rank_conversions_cover_orders_0_to_6() {
    let s = Tensor::from(ndarray::arr0(2.5));
    assert_eq!(s.shape(), &[] as &[usize]);
    assert_eq!(ndarray::Array0::try_from(s).unwrap()[()], 2.5);
    let six = Tensor::<f64>::zeros(&[1, 2, 1, 2, 1, 2]);
    assert_eq!(ndarray::Array6::try_from(six.clone()).unwrap().len(), 8);
    assert!(ndarray::Array5::try_from(six).is_err());
}
