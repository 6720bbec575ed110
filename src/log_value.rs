//! Values that products of many tensors produce, kept in log form so that they
//! neither underflow nor overflow: [`LogValue`] (`value = phase * exp(log_abs)`) and
//! the running log scale of a normalised network (`add_log`). Used by `mps` and
//! `ttn` alike.

use crate::scalar::Scalar;

/// A scalar stored in log-polar form: `value = phase * exp(log_abs)`.
///
/// For a non-zero value `|phase| = 1` (for `f64` the phase is `+1` or `-1`). An exact
/// zero is `log_abs = -inf`, `phase = 0`; no NaN is ever produced.
///
/// ```
/// use tnlearn::{LogValue, Mps};
///
/// // The norm of a 2000-site product state of (|0> + |1>): 2^1000, far beyond f64.
/// let psi = Mps::<f64>::from_tensors(vec![ndarray::Array3::from_elem((1, 2, 1), 1.0); 2000])?;
/// let ln = psi.log_norm();
/// assert!((ln - 1000.0 * 2f64.ln()).abs() < 1e-9);
/// let amp: LogValue<f64> = psi.log_amplitude(&[1; 2000])?; // every amplitude is 1
/// assert!(amp.log_abs.abs() < 1e-12);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogValue<T> {
    /// `ln |value|` (`-inf` for zero).
    pub log_abs: f64,
    /// `value / |value|` (`0` for zero).
    pub phase: T,
}

impl<T: Scalar> LogValue<T> {
    /// The exact zero: `log_abs = -inf`, `phase = 0`.
    pub fn zero() -> Self {
        LogValue {
            log_abs: f64::NEG_INFINITY,
            phase: T::zero(),
        }
    }

    /// The log-polar form of a (finite) value.
    pub fn from_value(value: T) -> Self {
        let a = value.abs();
        if a == 0.0 {
            Self::zero()
        } else {
            LogValue {
                log_abs: a.ln(),
                phase: value.scale(1.0 / a),
            }
        }
    }

    /// `phase * exp(log_abs)` as an ordinary number (may overflow to infinity or
    /// underflow to zero when `|log_abs| > ~709`).
    pub fn to_value(&self) -> T {
        if self.is_zero() {
            T::zero()
        } else {
            self.phase.scale(self.log_abs.exp())
        }
    }

    /// `true` for the exact zero.
    pub fn is_zero(&self) -> bool {
        self.log_abs == f64::NEG_INFINITY
    }
}

/// `log_scale + ln(norm)`, staying at `-inf` once the state is known to be zero.
pub(crate) fn add_log(log_scale: f64, norm: f64) -> f64 {
    if norm > 0.0 {
        log_scale + norm.ln()
    } else {
        f64::NEG_INFINITY
    }
}
