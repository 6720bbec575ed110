//! The dense tensor type.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use rand::Rng;

use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::alloc::{checked_len, try_vec_with_capacity, try_zeroed_vec};

/// A dense, owned, row-major (C order) tensor of `f64` or `Complex64`.
///
/// Storage is an [`ndarray::ArrayD`] kept in standard layout, so
/// `Tensor::from(array)` and `ArrayD::from(tensor)` move the buffer without copying
/// whenever the array is already contiguous in row-major order.
///
/// ```
/// use tnlearn::Tensor;
/// let t = Tensor::<f64>::new(&[2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
/// assert_eq!(t.shape(), &[2, 3]);
/// let p = t.permute(&[1, 0]).unwrap();
/// assert_eq!(p.as_slice(), &[1., 4., 2., 5., 3., 6.]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<T> {
    array: ArrayD<T>,
}

impl<T: Scalar> Tensor<T> {
    /// A tensor of the given shape from row-major data.
    ///
    /// Errors with [`Error::ShapeMismatch`] when `data.len()` is not the product of
    /// `shape`, and with [`Error::InvalidArgument`] when that product overflows.
    pub fn new(shape: &[usize], data: Vec<T>) -> Result<Self> {
        let expected = checked_len::<T>(shape, "Tensor::new")?;
        if data.len() != expected {
            return Err(Error::shape_mismatch(
                format!(
                    "Tensor::new (shape {shape:?} needs {expected} elements, data has {})",
                    data.len()
                ),
                vec![expected],
                vec![data.len()],
            ));
        }
        ArrayD::from_shape_vec(IxDyn(shape), data)
            .map(|array| Tensor { array })
            .map_err(|e| Error::invalid_argument("shape", format!("Tensor::new {shape:?}: {e}")))
    }

    /// A tensor of zeros.
    ///
    /// # Panics
    /// If the element count overflows or the allocation fails; see
    /// [`try_zeros`](Tensor::try_zeros) for the checked version (use it for shapes
    /// that come from user input).
    pub fn zeros(shape: &[usize]) -> Self {
        Self::try_zeros(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A tensor of zeros, or [`Error::InvalidArgument`] (naming the shape) when the
    /// element count overflows, the byte size exceeds
    /// [`MAX_TENSOR_BYTES`](crate::tensor::MAX_TENSOR_BYTES) or the allocator
    /// refuses the request.
    pub fn try_zeros(shape: &[usize]) -> Result<Self> {
        let n = checked_len::<T>(shape, "Tensor::zeros")?;
        let data = try_zeroed_vec::<T>(n, "Tensor::zeros")?;
        Self::new(shape, data)
    }

    /// A tensor of ones.
    ///
    /// # Panics
    /// As [`zeros`](Tensor::zeros); see [`try_ones`](Tensor::try_ones).
    pub fn ones(shape: &[usize]) -> Self {
        Self::try_ones(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A tensor of ones; errors as [`try_zeros`](Tensor::try_zeros).
    pub fn try_ones(shape: &[usize]) -> Result<Self> {
        Self::try_from_elem(shape, T::one())
    }

    /// A tensor filled with `value`.
    ///
    /// # Panics
    /// As [`zeros`](Tensor::zeros); see [`try_from_elem`](Tensor::try_from_elem).
    pub fn from_elem(shape: &[usize], value: T) -> Self {
        Self::try_from_elem(shape, value).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A tensor filled with `value`; errors as [`try_zeros`](Tensor::try_zeros).
    pub fn try_from_elem(shape: &[usize], value: T) -> Result<Self> {
        let n = checked_len::<T>(shape, "Tensor::from_elem")?;
        let mut data = try_vec_with_capacity::<T>(n, "Tensor::from_elem")?;
        data.resize(n, value);
        Self::new(shape, data)
    }

    /// A scalar (order-0) tensor.
    pub fn scalar(value: T) -> Self {
        Tensor {
            array: ArrayD::from_elem(IxDyn(&[]), value),
        }
    }

    /// The `n x n` identity matrix.
    ///
    /// # Panics
    /// If `n * n` overflows or cannot be allocated; see [`try_eye`](Tensor::try_eye).
    pub fn eye(n: usize) -> Self {
        Self::try_eye(n).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The `n x n` identity matrix; errors as [`try_zeros`](Tensor::try_zeros).
    pub fn try_eye(n: usize) -> Result<Self> {
        let mut t = Self::try_zeros(&[n, n])?;
        for i in 0..n {
            t.as_mut_slice()[i * n + i] = T::one();
        }
        Ok(t)
    }

    /// A tensor with entries drawn from the standard normal distribution (complex:
    /// `E|z|^2 = 1`), from an explicit, seedable RNG.
    ///
    /// # Panics
    /// As [`zeros`](Tensor::zeros); see [`try_random`](Tensor::try_random).
    pub fn random<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Self {
        Self::try_random(shape, rng).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`random`](Tensor::random), or an error as [`try_zeros`](Tensor::try_zeros).
    pub fn try_random<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Result<Self> {
        let n = checked_len::<T>(shape, "Tensor::random")?;
        let mut data = try_vec_with_capacity::<T>(n, "Tensor::random")?;
        data.extend((0..n).map(|_| T::random_normal(rng)));
        Self::new(shape, data)
    }

    /// A tensor whose entry at multi-index `idx` is `f(idx)`.
    ///
    /// # Panics
    /// As [`zeros`](Tensor::zeros); see [`try_from_fn`](Tensor::try_from_fn).
    pub fn from_fn(shape: &[usize], f: impl FnMut(&[usize]) -> T) -> Self {
        Self::try_from_fn(shape, f).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`from_fn`](Tensor::from_fn), or an error as [`try_zeros`](Tensor::try_zeros).
    pub fn try_from_fn(shape: &[usize], mut f: impl FnMut(&[usize]) -> T) -> Result<Self> {
        let n = checked_len::<T>(shape, "Tensor::from_fn")?;
        let mut data = try_vec_with_capacity::<T>(n, "Tensor::from_fn")?;
        let mut idx = vec![0usize; shape.len()];
        for _ in 0..n {
            data.push(f(&idx));
            for ax in (0..shape.len()).rev() {
                idx[ax] += 1;
                if idx[ax] < shape[ax] {
                    break;
                }
                idx[ax] = 0;
            }
        }
        Self::new(shape, data)
    }

    /// The shape (size of every axis).
    #[inline]
    pub fn shape(&self) -> &[usize] {
        self.array.shape()
    }

    /// The order (number of axes).
    #[inline]
    pub fn ndim(&self) -> usize {
        self.array.ndim()
    }

    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.array.len()
    }

    /// `true` when some axis has size zero.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.array.is_empty()
    }

    /// The elements in row-major order.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        self.array
            .as_slice()
            .expect("Tensor storage is always in standard layout")
    }

    /// The elements in row-major order, mutable.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.array
            .as_slice_mut()
            .expect("Tensor storage is always in standard layout")
    }

    /// A read-only ndarray view.
    #[inline]
    pub fn as_array(&self) -> ArrayViewD<'_, T> {
        self.array.view()
    }

    /// A mutable ndarray view.
    #[inline]
    pub fn as_array_mut(&mut self) -> ArrayViewMutD<'_, T> {
        self.array.view_mut()
    }

    /// The underlying ndarray (no copy).
    #[inline]
    pub fn into_array(self) -> ArrayD<T> {
        self.array
    }

    /// The row-major data buffer (no copy).
    pub fn into_vec(self) -> Vec<T> {
        let (v, offset) = self.array.into_raw_vec_and_offset();
        debug_assert!(matches!(offset, None | Some(0)));
        v
    }

    /// The element at a multi-index; errors if the index is out of range.
    pub fn get(&self, index: &[usize]) -> Result<T> {
        self.check_index(index)?;
        Ok(self.array[IxDyn(index)])
    }

    /// Sets the element at a multi-index; errors if the index is out of range.
    pub fn set(&mut self, index: &[usize], value: T) -> Result<()> {
        self.check_index(index)?;
        self.array[IxDyn(index)] = value;
        Ok(())
    }

    fn check_index(&self, index: &[usize]) -> Result<()> {
        if index.len() != self.ndim() {
            return Err(Error::shape_mismatch(
                "Tensor index (number of axes)",
                vec![self.ndim()],
                vec![index.len()],
            ));
        }
        for (axis, (&i, &n)) in index.iter().zip(self.shape()).enumerate() {
            if i >= n {
                return Err(Error::InvalidAxis {
                    context: format!("Tensor index {index:?} (shape {:?})", self.shape()),
                    axis,
                    order: self.ndim(),
                    reason: format!("position {i} is out of range for size {n}"),
                });
            }
        }
        Ok(())
    }

    /// The same data under a new shape with the same number of elements (no copy).
    pub fn reshape(self, shape: &[usize]) -> Result<Self> {
        let n = checked_len::<T>(shape, "Tensor::reshape")?;
        if n != self.len() {
            return Err(Error::shape_mismatch(
                format!(
                    "Tensor::reshape from {:?} to {shape:?} (element counts differ)",
                    self.shape()
                ),
                self.shape().to_vec(),
                shape.to_vec(),
            ));
        }
        let data = self.into_vec();
        Self::new(shape, data)
    }

    /// Axes reordered: axis `i` of the result is axis `axes[i]` of `self`.
    ///
    /// Errors with [`Error::InvalidAxis`] unless `axes` is a permutation of
    /// `0..ndim`.
    pub fn permute(&self, axes: &[usize]) -> Result<Self> {
        check_permutation(axes, self.ndim(), "Tensor::permute")?;
        if axes.iter().enumerate().all(|(i, &a)| i == a) {
            return Ok(self.clone());
        }
        Ok(Tensor {
            array: crate::tensor::permute::permuted_copy(&self.array.view(), axes),
        })
    }

    /// Complex conjugate (a copy; identity for real tensors).
    pub fn conj(&self) -> Self {
        if !T::IS_COMPLEX {
            return self.clone();
        }
        self.map(|x| x.conj())
    }

    /// Applies `f` elementwise.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Tensor {
            array: self.array.mapv(f),
        }
    }

    /// The squared Frobenius norm `sum |t_i|^2`.
    pub fn norm_sqr(&self) -> f64 {
        self.as_slice().iter().map(|x| x.abs2()).sum()
    }

    /// The Frobenius norm `sqrt(sum |t_i|^2)`, computed without overflow for large
    /// entries.
    pub fn norm(&self) -> f64 {
        norm_of(self.as_slice())
    }

    /// Multiplies every element by `alpha` (a copy).
    pub fn scale(&self, alpha: T) -> Self {
        self.map(|x| x * alpha)
    }

    /// Multiplies every element by `alpha` in place.
    pub fn scale_in_place(&mut self, alpha: T) {
        self.as_mut_slice().iter_mut().for_each(|x| *x *= alpha);
    }

    fn zip_with(&self, other: &Self, what: &str, f: impl Fn(T, T) -> T) -> Result<Self> {
        if self.shape() != other.shape() {
            return Err(Error::shape_mismatch(
                format!("Tensor::{what}"),
                self.shape().to_vec(),
                other.shape().to_vec(),
            ));
        }
        let data = self
            .as_slice()
            .iter()
            .zip(other.as_slice())
            .map(|(&a, &b)| f(a, b))
            .collect();
        Self::new(self.shape(), data)
    }

    /// Elementwise sum; errors on a shape mismatch.
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "add", |a, b| a + b)
    }

    /// Elementwise difference; errors on a shape mismatch.
    pub fn sub(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "sub", |a, b| a - b)
    }

    /// Elementwise (Hadamard) product; errors on a shape mismatch.
    pub fn mul_elementwise(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "mul_elementwise", |a, b| a * b)
    }

    /// Elementwise quotient; errors on a shape mismatch.
    pub fn div_elementwise(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "div_elementwise", |a, b| a / b)
    }

    /// `self += alpha * other`; errors on a shape mismatch.
    pub fn axpy(&mut self, alpha: T, other: &Self) -> Result<()> {
        if self.shape() != other.shape() {
            return Err(Error::shape_mismatch(
                "Tensor::axpy",
                self.shape().to_vec(),
                other.shape().to_vec(),
            ));
        }
        for (a, &b) in self.as_mut_slice().iter_mut().zip(other.as_slice()) {
            *a += alpha * b;
        }
        Ok(())
    }

    /// Errors with [`Error::NonFinite`] (naming `context` and the first bad
    /// position) if any entry is NaN or infinite.
    pub fn check_finite(&self, context: &str) -> Result<()> {
        check_finite_slice(self.as_slice(), context)
    }

    /// Largest absolute difference between entries of two same-shaped tensors
    /// (`f64::INFINITY` if the shapes differ).
    pub fn max_abs_diff(&self, other: &Self) -> f64 {
        if self.shape() != other.shape() {
            return f64::INFINITY;
        }
        self.as_slice()
            .iter()
            .zip(other.as_slice())
            .map(|(&a, &b)| (a - b).abs())
            .fold(0.0, f64::max)
    }
}

/// Checks that `axes` is a permutation of `0..order`.
pub(crate) fn check_permutation(axes: &[usize], order: usize, context: &str) -> Result<()> {
    if axes.len() != order {
        return Err(Error::shape_mismatch(
            format!("{context}: permutation length must equal the tensor order"),
            vec![order],
            vec![axes.len()],
        ));
    }
    let mut seen = vec![false; order];
    for &a in axes {
        if a >= order {
            return Err(Error::InvalidAxis {
                context: context.to_string(),
                axis: a,
                order,
                reason: "out of range".into(),
            });
        }
        if seen[a] {
            return Err(Error::InvalidAxis {
                context: context.to_string(),
                axis: a,
                order,
                reason: "appears twice in the permutation".into(),
            });
        }
        seen[a] = true;
    }
    Ok(())
}

/// The Euclidean norm `sqrt(sum |x_i|^2)` of `xs`, computed without overflow for
/// large entries (scaled by the largest magnitude): [`Tensor::norm`], and the site
/// tensors of [`Mps`](crate::Mps).
pub(crate) fn norm_of<T: Scalar>(xs: &[T]) -> f64 {
    let max = xs.iter().map(|x| x.abs()).fold(0.0_f64, f64::max);
    if max == 0.0 || !max.is_finite() {
        return max;
    }
    let inv = 1.0 / max;
    let s: f64 = xs.iter().map(|x| x.scale(inv).abs2()).sum();
    max * s.sqrt()
}

/// [`Error::NonFinite`] with `context` and the flat position of the first NaN or
/// infinite entry of `xs`.
pub(crate) fn check_finite_slice<T: Scalar>(xs: &[T], context: &str) -> Result<()> {
    match xs.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(position) => Err(Error::NonFinite {
            context: context.to_string(),
            position,
            value: format!("{}", xs[position]),
        }),
    }
}

impl<T: Scalar> From<ArrayD<T>> for Tensor<T> {
    /// Moves the buffer when the array is in standard (row-major, contiguous) layout;
    /// copies into that layout otherwise.
    fn from(array: ArrayD<T>) -> Self {
        let array = if array.is_standard_layout() {
            let shape = array.shape().to_vec();
            let n = array.len();
            let (mut v, offset) = array.into_raw_vec_and_offset();
            let offset = offset.unwrap_or(0);
            if offset != 0 || v.len() != n {
                // A standard-layout sub-view of a larger buffer: compact it.
                v.drain(..offset);
                v.truncate(n);
            }
            ArrayD::from_shape_vec(IxDyn(&shape), v).expect("element count matches")
        } else {
            array.as_standard_layout().into_owned()
        };
        Tensor { array }
    }
}

impl<T: Scalar> From<ArrayViewD<'_, T>> for Tensor<T> {
    fn from(view: ArrayViewD<'_, T>) -> Self {
        Tensor {
            array: view.as_standard_layout().into_owned(),
        }
    }
}

impl<T> From<Tensor<T>> for ArrayD<T> {
    fn from(t: Tensor<T>) -> Self {
        t.array
    }
}

impl<T: Scalar> std::ops::Mul<T> for Tensor<T> {
    type Output = Tensor<T>;
    fn mul(mut self, rhs: T) -> Self::Output {
        self.scale_in_place(rhs);
        self
    }
}

impl<T: Scalar> std::ops::Neg for Tensor<T> {
    type Output = Tensor<T>;
    fn neg(mut self) -> Self::Output {
        self.as_mut_slice().iter_mut().for_each(|x| *x = -*x);
        self
    }
}

impl<T: Scalar + std::fmt::Display> std::fmt::Display for Tensor<T> {
    /// The shape, then the values as ndarray prints them (large tensors elided
    /// with `...`).
    ///
    /// ```
    /// let t = tnlearn::Tensor::from(ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.to_string(), "Tensor of shape [2, 2]:\n[[1, 2],\n [3, 4]]");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor of shape {:?}:\n{}", self.shape(), self.array)
    }
}
