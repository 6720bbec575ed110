//! Error bars for correlated Monte Carlo time series: the blocking analysis of
//! Flyvbjerg and Petersen, J. Chem. Phys. 91, 461 (1989).

use crate::error::{Error, Result};

/// The result of a [`blocking`] analysis.
///
/// ```
/// use tnlearn::ising::stats::blocking;
///
/// let series: Vec<f64> = (0..4096).map(|i| ((i * 7919) % 101) as f64).collect();
/// let b = blocking(&series)?;
/// assert!((b.mean - series.iter().sum::<f64>() / 4096.0).abs() < 1e-12);
/// assert!(b.std_error >= 0.0 && b.autocorrelation_time() > 0.0);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Blocking {
    /// The sample mean of the series.
    pub mean: f64,
    /// The standard error of the mean, allowing for autocorrelation (see [`blocking`]).
    pub std_error: f64,
    /// The naive standard error `sigma / sqrt(n)`, valid only for independent samples.
    pub naive_std_error: f64,
    /// Per level `k` (blocks of `2^k` consecutive values): `(number of blocks,
    /// standard error estimate, its own uncertainty)`.
    pub levels: Vec<(usize, f64, f64)>,
}

impl Blocking {
    /// The integrated autocorrelation time `tau = (std_error / naive_std_error)^2 / 2`
    /// in units of the series' spacing (`1/2` for independent samples). A constant
    /// series (both errors 0) has no fluctuations to correlate: `1/2`, not `0/0`.
    pub fn autocorrelation_time(&self) -> f64 {
        if self.naive_std_error == 0.0 {
            return 0.5;
        }
        0.5 * (self.std_error / self.naive_std_error).powi(2)
    }
}

/// The smallest number of blocks a level may have to be used for the estimate.
pub const MIN_BLOCKS: usize = 32;

/// Blocking analysis of a time series `x_1..x_n`: the series is repeatedly replaced
/// by averages of consecutive pairs; at level `k` the blocks of `2^k` values give
/// the estimate `sigma_k / sqrt(n_k - 1)` of the standard error of the mean, which
/// grows with `k` until the blocks are longer than the autocorrelation time and then
/// stays on a plateau. The reported error is the largest estimate over the levels
/// that keep at least [`MIN_BLOCKS`] blocks (conservative: on the plateau the
/// estimates scatter by their own uncertainty `err / sqrt(2 (n_k - 1))`).
///
/// ```
/// // An AR(1) series x_t = 0.9 x_{t-1} + noise has tau = (1 + 0.9)/(1 - 0.9)/2 = 9.5.
/// use rand::{Rng, SeedableRng};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(5);
/// let mut x = 0.0;
/// let series: Vec<f64> = (0..1 << 16)
///     .map(|_| { x = 0.9 * x + rng.random::<f64>() - 0.5; x })
///     .collect();
/// let b = tnlearn::ising::stats::blocking(&series)?;
/// assert!((b.autocorrelation_time() - 9.5).abs() < 2.5);
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] if the series has fewer than `2 * MIN_BLOCKS` values or
/// a value that is not finite (the message names its position).
pub fn blocking(series: &[f64]) -> Result<Blocking> {
    if series.len() < 2 * MIN_BLOCKS {
        return Err(Error::invalid_argument(
            "series",
            format!(
                "blocking needs at least {} values, got {}",
                2 * MIN_BLOCKS,
                series.len()
            ),
        ));
    }
    if let Some(i) = series.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid_argument(
            "series",
            format!("value {i} is {}, not finite", series[i]),
        ));
    }
    // Work on the series scaled by a power of two (exact) so that sums and squares
    // of values near 1e308 or 1e-308 neither overflow nor underflow.
    let largest = series.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let scale = if largest > 0.0 {
        2f64.powi((largest.log2().floor() as i32).clamp(-1000, 1000))
    } else {
        1.0
    };
    let scaled: Vec<f64> = series.iter().map(|v| v / scale).collect();
    let mean_scaled = scaled.iter().sum::<f64>() / scaled.len() as f64;
    let mean = mean_scaled * scale;
    let mut x: Vec<f64> = scaled.iter().map(|v| v - mean_scaled).collect();
    let mut levels = Vec::new();
    while x.len() >= MIN_BLOCKS {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
        let err = (var / (n - 1.0)).sqrt();
        levels.push((x.len(), err * scale, err * scale / (2.0 * (n - 1.0)).sqrt()));
        x = x.chunks_exact(2).map(|p| 0.5 * (p[0] + p[1])).collect();
    }
    let std_error = levels.iter().map(|l| l.1).fold(0.0, f64::max);
    Ok(Blocking {
        mean,
        std_error,
        naive_std_error: levels[0].1,
        levels,
    })
}
