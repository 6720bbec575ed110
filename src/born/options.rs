//! Validated training options for Born machines: [`BornOptions`].

use crate::error::{Error, Result};
use crate::io::container::{Reader, Writer};
use crate::io::format_error;
use crate::linalg::{Truncation, TruncationMode};

/// Environment memory (bytes) up to which [`BornOptions::checkpoint_spacing`] keeps
/// every per-sample environment: 2 GiB.
pub const AUTO_CHECKPOINT_BYTES: u64 = 2 << 30;

/// Options of an MPS or TTN Born machine, set builder-style and validated once by
/// [`BornOptions::validate`] (called by every constructor and by `fit`), so an
/// impossible setting is an [`Error::InvalidArgument`] naming the setting before
/// any work starts.
///
/// The options are model state, for both models: a model is built with them, saves
/// them in its file, and every later `fit` uses them ([`BornMachine::set_options`](super::BornMachine::set_options)
/// replaces them); `fit` takes only the data and an observer.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `truncation` | `max_bond 32, min_bond 1, cutoff 1e-7, relative` | split of every two-site tensor (see [`Truncation`]) |
/// | `learning_rate` | `0.05` | step size `eta` in `B <- B - eta dL/dB` |
/// | `steps_per_bond` | `1` | gradient steps on each bond per visit |
/// | `batch_size` | `None` | `None` = full batch, `Some(m)` = `m` random samples per step |
/// | `sweeps` | `4` | number of back-and-forth sweeps of [`fit`](super::BornMachine::fit) |
/// | `seed` | `0` | seed of the initial tensors and of minibatch selection |
/// | `initial_bond` | `2` | bond dimension of the random initial MPS |
/// | `step_rule` | [`StepRule::Plain`] | how the gradient becomes a step |
/// | `checkpoint_every` | `None` (automatic) | MPS only: environment checkpoint spacing (memory) |
///
/// The builder is the documented way to set options. The bond settings live in
/// [`truncation`](Self::truncation) (one [`Truncation`] vocabulary for every split
/// in the crate): `BornOptions::max_bond(n)` is the builder, and the value is read
/// as `opts.truncation.max_bond` (a getter of the same name cannot exist next to
/// the builder in Rust). A struct literal names the truncation:
///
/// ```
/// use tnlearn::born::BornOptions;
/// use tnlearn::Truncation;
/// let opts = BornOptions::new().max_bond(16).learning_rate(0.01).sweeps(3);
/// assert!(opts.validate().is_ok());
/// assert_eq!(opts.truncation.max_bond, 16); // reading a setting
/// assert!(BornOptions::new().max_bond(0).validate().is_err());
///
/// let literal = BornOptions {
///     truncation: Truncation::new().max_bond(16).cutoff(1e-7),
///     learning_rate: 0.01,
///     sweeps: 3,
///     ..BornOptions::default()
/// };
/// assert_eq!(literal, opts);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    /// How a gradient becomes a step (plain or normalised).
    pub step_rule: StepRule,
    /// Keep the per-sample environments of every `k`-th site only and rebuild the
    /// ones in between when a sweep reaches them (`Some(1)`: keep all; `None`:
    /// automatic, see [`BornOptions::checkpoint_spacing`]). An MPS-only setting:
    /// the TTN keeps the messages of every node (validated and saved with the
    /// options, but not used by [`TtnBornMachine`](super::TtnBornMachine)).
    pub checkpoint_every: Option<usize>,
}

/// How the gradient `G = dL/dB` of the merged two-site tensor becomes a step.
///
/// After the step `B` is renormalised to `||B|| = 1`, so only the direction and
/// the length of the step relative to `||B||` matter.
///
/// ```
/// use tnlearn::born::{BornOptions, StepRule};
///
/// // Han et al.'s normalised steps ("norm0.25") instead of plain gradient steps.
/// let options = BornOptions::new()
///     .step_rule(StepRule::Normalized { size_exponent: 0.25 })
///     .learning_rate(5e-3);
/// options.validate()?;
/// assert_eq!(BornOptions::new().step_rule, StepRule::Plain);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum StepRule {
    /// `B <- B - eta G`; a step longer than `||B|| = 1` is shortened to length 1
    /// (a safeguard against a minibatch holding a sample of tiny `psi(x)`).
    Plain,
    /// `B <- B - eta max(1, 2 n^a / ||G||) G` with `n` the number of entries of
    /// `B`: a step of length `eta max(||G||, 2 n^a)`, so small gradients (near
    /// saddles and plateaus) still move `B` by a fixed amount. This is the
    /// `grad_mode = "norm0.25"` of Han et al.'s published code (`a = 0.25`, whose
    /// gradient is `-G/2`, hence the 2), used with `eta = 5e-3` and one full-batch
    /// step per bond for their capacity curves.
    Normalized {
        /// The exponent `a >= 0` of the entry count.
        size_exponent: f64,
    },
}

impl StepRule {
    /// The step `-eta * factor * G` is taken with this `factor` for a gradient of
    /// norm `grad_norm` on a tensor of `entries` entries (plain: 1, or the
    /// shortening to length 1; normalised: `max(1, 2 n^a / ||G||)`). `0` for a zero
    /// gradient.
    pub(crate) fn factor(&self, eta: f64, grad_norm: f64, entries: usize) -> f64 {
        if grad_norm == 0.0 {
            return 0.0;
        }
        match *self {
            StepRule::Plain => {
                if eta * grad_norm > 1.0 {
                    1.0 / (eta * grad_norm)
                } else {
                    1.0
                }
            }
            StepRule::Normalized { size_exponent } => {
                (2.0 * (entries as f64).powf(size_exponent) / grad_norm).max(1.0)
            }
        }
    }
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
            step_rule: StepRule::Plain,
            checkpoint_every: None,
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
    /// Sets `truncation.mode` (the builder name of [`Truncation::mode`]).
    pub fn mode(mut self, mode: TruncationMode) -> Self {
        self.truncation.mode = mode;
        self
    }
    /// Sets `truncation.mode`; the former name of [`BornOptions::mode`].
    #[deprecated(
        since = "0.2.0",
        note = "use `BornOptions::mode`, as `Truncation::mode`"
    )]
    pub fn cutoff_mode(self, mode: TruncationMode) -> Self {
        self.mode(mode)
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

    /// Sets `step_rule`.
    pub fn step_rule(mut self, step_rule: StepRule) -> Self {
        self.step_rule = step_rule;
        self
    }
    /// Sets `checkpoint_every` (`Some(1)`: keep every environment; `None`: automatic).
    pub fn checkpoint_every(mut self, every: Option<usize>) -> Self {
        self.checkpoint_every = every;
        self
    }

    /// The environment checkpoint spacing used for `num_samples` samples on
    /// `num_sites` sites: `checkpoint_every` if set; otherwise 1 (keep everything)
    /// when `num_samples * num_sites * max_bond * 8` bytes fit in
    /// [`AUTO_CHECKPOINT_BYTES`], else `ceil(sqrt(num_sites))`. With spacing `c` a
    /// sweep keeps about `N/c + c` environments of `num_samples x D` values instead
    /// of `N`: for 60,000 MNIST images at `D = 100`, about 2.7 GB instead of 38 GB,
    /// for one extra environment pass per half-sweep.
    pub fn checkpoint_spacing(&self, num_samples: usize, num_sites: usize) -> usize {
        if let Some(c) = self.checkpoint_every {
            return c;
        }
        let bytes = num_samples as f64 * num_sites as f64 * self.truncation.max_bond as f64 * 8.0;
        if bytes <= AUTO_CHECKPOINT_BYTES as f64 {
            1
        } else {
            (num_sites as f64).sqrt().ceil() as usize
        }
    }

    /// Checks every setting: the truncation ([`Truncation::validate`]: `max_bond >= 1`,
    /// `min_bond <= max_bond`, finite non-negative cutoff), `learning_rate` finite and
    /// `> 0`, `steps_per_bond >= 1`, `batch_size != Some(0)`, `sweeps >= 1`,
    /// `1 <= initial_bond <= max_bond`, a finite non-negative `size_exponent`,
    /// `checkpoint_every != Some(0)`. The error names the setting.
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
        if let StepRule::Normalized { size_exponent } = self.step_rule {
            if !size_exponent.is_finite() || size_exponent < 0.0 {
                return Err(Error::invalid_argument(
                    "step_rule",
                    format!("size_exponent must be finite and >= 0 (got {size_exponent})"),
                ));
            }
        }
        if self.checkpoint_every == Some(0) {
            return Err(Error::invalid_argument(
                "checkpoint_every",
                "must be at least 1 (got Some(0)); use None for automatic",
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

impl BornOptions {
    /// Appends the options in the layout both model files (TNLBORN v2, TNLTTN) use:
    /// `max_bond u64, min_bond u64, cutoff f64, mode u8 (0 relative, 1 absolute,
    /// 2 discarded weight), learning_rate f64, steps_per_bond u64, batch_size u64
    /// (0 = full batch), sweeps u64, seed u64, initial_bond u64, step rule u8
    /// (0 plain, 1 normalised), step-rule exponent f64, checkpoint_every u64
    /// (0 = automatic)`, all little-endian.
    pub(crate) fn write_bytes(&self, w: &mut Writer) {
        w.usize(self.truncation.max_bond);
        w.usize(self.truncation.min_bond);
        w.f64(self.truncation.cutoff);
        w.u8(match self.truncation.mode {
            TruncationMode::Relative => 0,
            TruncationMode::Absolute => 1,
            TruncationMode::DiscardedWeight => 2,
        });
        w.f64(self.learning_rate);
        w.usize(self.steps_per_bond);
        w.usize(self.batch_size.unwrap_or(0));
        w.usize(self.sweeps);
        w.u64(self.seed);
        w.usize(self.initial_bond);
        let (rule, exponent) = match self.step_rule {
            StepRule::Plain => (0, 0.0),
            StepRule::Normalized { size_exponent } => (1, size_exponent),
        };
        w.u8(rule);
        w.f64(exponent);
        w.usize(self.checkpoint_every.unwrap_or(0));
    }

    /// Reads options written by [`BornOptions::write_bytes`] (`with_rule_fields =
    /// false`: the older layout without the step rule and checkpoint fields, which
    /// then take their defaults) and validates them. Errors are
    /// [`Error::Format`] naming the file.
    pub(crate) fn read_bytes(r: &mut Reader<'_>, with_rule_fields: bool) -> Result<Self> {
        let path = r.path();
        let fmt = |reason: String| format_error(path, reason);
        let max_bond = r.usize("max_bond")?;
        let min_bond = r.usize("min_bond")?;
        let cutoff = r.f64("cutoff")?;
        let mode = match r.u8("truncation mode")? {
            0 => TruncationMode::Relative,
            1 => TruncationMode::Absolute,
            2 => TruncationMode::DiscardedWeight,
            m => return Err(fmt(format!("unknown truncation mode {m}"))),
        };
        let learning_rate = r.f64("learning_rate")?;
        let steps_per_bond = r.usize("steps_per_bond")?;
        let batch = r.usize("batch_size")?;
        let sweeps = r.usize("sweeps")?;
        let seed = r.u64("seed")?;
        let initial_bond = r.usize("initial_bond")?;
        let (step_rule, checkpoint_every) = if with_rule_fields {
            let rule = r.u8("step rule")?;
            let exponent = r.f64("step rule exponent")?;
            let rule = match rule {
                0 => StepRule::Plain,
                1 => StepRule::Normalized {
                    size_exponent: exponent,
                },
                m => return Err(fmt(format!("unknown step rule {m}"))),
            };
            let every = r.usize("checkpoint_every")?;
            (rule, (every > 0).then_some(every))
        } else {
            (StepRule::Plain, None)
        };
        let options = BornOptions {
            truncation: Truncation {
                max_bond,
                min_bond,
                cutoff,
                mode,
            },
            learning_rate,
            steps_per_bond,
            batch_size: (batch > 0).then_some(batch),
            sweeps,
            seed,
            initial_bond,
            step_rule,
            checkpoint_every,
        };
        options
            .validate()
            .map_err(|e| fmt(format!("invalid options stored: {e}")))?;
        Ok(options)
    }
}
