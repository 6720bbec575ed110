//! Validated training options for Born machines: [`BornOptions`].

use crate::error::{Error, Result};
use crate::linalg::{Truncation, TruncationMode};

/// Options of an MPS (and later TTN) Born machine, set builder-style and validated
/// once by [`BornOptions::validate`] (called by every constructor and by `fit`), so
/// an impossible setting is an [`Error::InvalidArgument`] naming the setting before
/// any work starts.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `truncation` | `max_bond 32, min_bond 1, cutoff 1e-7, relative` | split of every two-site tensor (see [`Truncation`]) |
/// | `learning_rate` | `0.05` | step size `eta` in `B <- B - eta dL/dB` |
/// | `steps_per_bond` | `1` | gradient steps on each bond per visit |
/// | `batch_size` | `None` | `None` = full batch, `Some(m)` = `m` random samples per step |
/// | `sweeps` | `4` | number of back-and-forth sweeps of [`fit`](super::MpsBornMachine::fit) |
/// | `seed` | `0` | seed of the initial tensors and of minibatch selection |
/// | `initial_bond` | `2` | bond dimension of the random initial MPS |
///
/// ```
/// use tnlearn::born::BornOptions;
/// let opts = BornOptions::new().max_bond(16).learning_rate(0.01).sweeps(3);
/// assert!(opts.validate().is_ok());
/// assert!(BornOptions::new().max_bond(0).validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BornOptions {
    /// How each merged two-site tensor is split (adaptive bond dimension).
    pub truncation: Truncation,
    /// Gradient step size `eta > 0`.
    pub learning_rate: f64,
    /// Gradient steps per bond visit (at least 1).
    pub steps_per_bond: usize,
    /// Samples per gradient step; `None` is the full training set.
    pub batch_size: Option<usize>,
    /// Number of sweeps (one sweep = left-to-right then right-to-left), at least 1.
    pub sweeps: usize,
    /// Seed for the random initial MPS and the minibatch choice.
    pub seed: u64,
    /// Bond dimension of the random initial MPS (at least 1, at most `max_bond`).
    pub initial_bond: usize,
}

impl Default for BornOptions {
    fn default() -> Self {
        BornOptions {
            truncation: Truncation::new().max_bond(32).cutoff(1e-7),
            learning_rate: 0.05,
            steps_per_bond: 1,
            batch_size: None,
            sweeps: 4,
            seed: 0,
            initial_bond: 2,
        }
    }
}

impl BornOptions {
    /// The defaults (see the table in [`BornOptions`]).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the whole truncation rule.
    pub fn truncation(mut self, truncation: Truncation) -> Self {
        self.truncation = truncation;
        self
    }
    /// Sets `truncation.max_bond`.
    pub fn max_bond(mut self, max_bond: usize) -> Self {
        self.truncation.max_bond = max_bond;
        self
    }
    /// Sets `truncation.min_bond`.
    pub fn min_bond(mut self, min_bond: usize) -> Self {
        self.truncation.min_bond = min_bond;
        self
    }
    /// Sets `truncation.cutoff`.
    pub fn cutoff(mut self, cutoff: f64) -> Self {
        self.truncation.cutoff = cutoff;
        self
    }
    /// Sets `truncation.mode`.
    pub fn cutoff_mode(mut self, mode: TruncationMode) -> Self {
        self.truncation.mode = mode;
        self
    }
    /// Sets `learning_rate`.
    pub fn learning_rate(mut self, learning_rate: f64) -> Self {
        self.learning_rate = learning_rate;
        self
    }
    /// Sets `steps_per_bond`.
    pub fn steps_per_bond(mut self, steps: usize) -> Self {
        self.steps_per_bond = steps;
        self
    }
    /// Sets `batch_size` (`None`: full batch).
    pub fn batch_size(mut self, batch_size: Option<usize>) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Sets `sweeps`.
    pub fn sweeps(mut self, sweeps: usize) -> Self {
        self.sweeps = sweeps;
        self
    }
    /// Sets `seed`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets `initial_bond`.
    pub fn initial_bond(mut self, initial_bond: usize) -> Self {
        self.initial_bond = initial_bond;
        self
    }

    /// Checks every setting: the truncation ([`Truncation::validate`]: `max_bond >= 1`,
    /// `min_bond <= max_bond`, finite non-negative cutoff), `learning_rate` finite and
    /// `> 0`, `steps_per_bond >= 1`, `batch_size != Some(0)`, `sweeps >= 1`,
    /// `1 <= initial_bond <= max_bond`. The error names the setting.
    pub fn validate(&self) -> Result<()> {
        self.truncation.validate()?;
        if !self.learning_rate.is_finite() || self.learning_rate <= 0.0 {
            return Err(Error::invalid_argument(
                "learning_rate",
                format!("must be finite and > 0 (got {})", self.learning_rate),
            ));
        }
        if self.steps_per_bond == 0 {
            return Err(Error::invalid_argument(
                "steps_per_bond",
                "must be at least 1 (got 0)",
            ));
        }
        if self.batch_size == Some(0) {
            return Err(Error::invalid_argument(
                "batch_size",
                "must be at least 1 (got Some(0)); use None for the full batch",
            ));
        }
        if self.sweeps == 0 {
            return Err(Error::invalid_argument(
                "sweeps",
                "must be at least 1 (got 0)",
            ));
        }
        if self.initial_bond == 0 || self.initial_bond > self.truncation.max_bond {
            return Err(Error::invalid_argument(
                "initial_bond",
                format!(
                    "must be in 1..=max_bond = {} (got {})",
                    self.truncation.max_bond, self.initial_bond
                ),
            ));
        }
        Ok(())
    }
}
