//! The scalar types tensors hold: one trait covering `f64` and `Complex64`.

use std::fmt::{Debug, Display};
use std::iter::{Product, Sum};

use num_complex::Complex64;
use num_traits::NumAssign;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::linalg::backend::Kernels;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for num_complex::Complex64 {}
}

/// A field element a [`Tensor`](crate::Tensor) can hold: `f64` or [`Complex64`].
///
/// Real quantities derived from scalars (norms, singular values, probabilities) are
/// always `f64`.
pub trait Scalar:
    sealed::Sealed
    + Kernels
    + Copy
    + Send
    + Sync
    + Debug
    + Display
    + PartialEq
    + Default
    + NumAssign
    + std::ops::Neg<Output = Self>
    + Sum
    + Product
    + 'static
{
    /// `true` for complex types.
    const IS_COMPLEX: bool;
    /// A short name for messages and benchmarks (`"f64"`, `"c64"`).
    const NAME: &'static str;

    /// Complex conjugate (identity for real types).
    fn conj(self) -> Self;
    /// Real part.
    fn re(self) -> f64;
    /// Imaginary part (0 for real types).
    fn im(self) -> f64;
    /// Squared modulus `|z|^2`.
    fn abs2(self) -> f64;
    /// Modulus `|z|`.
    fn abs(self) -> f64;
    /// Embeds a real number.
    fn from_f64(x: f64) -> Self;
    /// Multiplies by a real number.
    fn scale(self, x: f64) -> Self;
    /// `true` when every component is finite (not NaN, not infinite).
    fn is_finite(self) -> bool;
    /// A standard normal sample (for complex types: real and imaginary parts
    /// independent with variance 1/2 each, so `E|z|^2 = 1`).
    fn random_normal<R: Rng + ?Sized>(rng: &mut R) -> Self;
}

impl Scalar for f64 {
    const IS_COMPLEX: bool = false;
    const NAME: &'static str = "f64";

    #[inline(always)]
    fn conj(self) -> Self {
        self
    }
    #[inline(always)]
    fn re(self) -> f64 {
        self
    }
    #[inline(always)]
    fn im(self) -> f64 {
        0.0
    }
    #[inline(always)]
    fn abs2(self) -> f64 {
        self * self
    }
    #[inline(always)]
    fn abs(self) -> f64 {
        f64::abs(self)
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn scale(self, x: f64) -> Self {
        self * x
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    fn random_normal<R: Rng + ?Sized>(rng: &mut R) -> Self {
        StandardNormal.sample(rng)
    }
}

impl Scalar for Complex64 {
    const IS_COMPLEX: bool = true;
    const NAME: &'static str = "c64";

    #[inline(always)]
    fn conj(self) -> Self {
        Complex64::conj(&self)
    }
    #[inline(always)]
    fn re(self) -> f64 {
        self.re
    }
    #[inline(always)]
    fn im(self) -> f64 {
        self.im
    }
    #[inline(always)]
    fn abs2(self) -> f64 {
        self.norm_sqr()
    }
    #[inline(always)]
    fn abs(self) -> f64 {
        self.norm()
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        Complex64::new(x, 0.0)
    }
    #[inline(always)]
    fn scale(self, x: f64) -> Self {
        Complex64::new(self.re * x, self.im * x)
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }
    fn random_normal<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let re: f64 = StandardNormal.sample(rng);
        let im: f64 = StandardNormal.sample(rng);
        Complex64::new(re, im).scale(std::f64::consts::FRAC_1_SQRT_2)
    }
}

/// `0` of any scalar type (shorthand for `T::zero()`).
#[inline(always)]
pub fn zero<T: Scalar>() -> T {
    <T as num_traits::Zero>::zero()
}

/// `1` of any scalar type (shorthand for `T::one()`).
#[inline(always)]
pub fn one<T: Scalar>() -> T {
    <T as num_traits::One>::one()
}
