//! The MCRG driver: Markov chains at one temperature, every coarse-graining applied
//! to the same configurations, independent runs for the error bars.

use ndarray::ArrayView2;
use num_complex::Complex64;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;

use super::{check_configuration, lattice_sums, CoarseGrain, Correlations};
use crate::error::{Error, Result};
use crate::ising::exact::coupling;
use crate::ising::sampling::{ClusterAlgorithm, MarkovChain};
use crate::ising::{Lattice, CRITICAL_TEMPERATURE};

/// Largest number of independent runs of [`measure`] (one accumulator each).
pub const MAX_RUNS: usize = 1 << 16;

/// Settings of [`measure`], builder-style, checked by [`validate`](Self::validate).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `l` | 32 | side of the fine torus |
/// | `temperature` | `T_c` | temperature of the chains |
/// | `samples` | `1_000_000` | measured configurations in total (split over the runs) |
/// | `runs` | 16 | independent chains; error bars by jackknife over runs |
/// | `burn_in` | 2000 | updates discarded at the start of each run |
/// | `thinning` | 3 | updates between measurements |
/// | `algorithm` | Wolff | cluster update |
/// | `couplings` | 7 | `y_t` is reported for the first `1..=couplings` operators |
/// | `seed` | 1 | run `r` uses `StdRng::seed_from_u64(seed + r * 0x9E3779B97F4A7C15)` |
///
/// The runs go to rayon's thread pool (its size: `RAYON_NUM_THREADS`, default one
/// thread per core). Every run has its own seed and the runs are pooled in run
/// order, so the results depend on the options only, not on the number of threads.
///
/// ```
/// use tnlearn::ising::mcrg::McrgOptions;
///
/// let options = McrgOptions::new().l(16).samples(20_000).runs(4).seed(7);
/// options.validate()?;
/// assert!(McrgOptions::new().runs(1).validate().is_err()); // no error bars from one run
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct McrgOptions {
    /// Side `L` of the fine lattice.
    pub l: usize,
    /// Temperature of the chains.
    pub temperature: f64,
    /// Measured configurations in total.
    pub samples: usize,
    /// Independent runs (at least 2).
    pub runs: usize,
    /// Updates discarded at the start of each run.
    pub burn_in: usize,
    /// Updates between measurements (at least 1).
    pub thinning: usize,
    /// The cluster update.
    pub algorithm: ClusterAlgorithm,
    /// Number of operators, `1..=7`.
    pub couplings: usize,
    /// Base seed.
    pub seed: u64,
}

impl Default for McrgOptions {
    fn default() -> Self {
        McrgOptions {
            l: 32,
            temperature: CRITICAL_TEMPERATURE,
            samples: 1_000_000,
            runs: 16,
            burn_in: 2000,
            thinning: 3,
            algorithm: ClusterAlgorithm::Wolff,
            couplings: 7,
            seed: 1,
        }
    }
}

macro_rules! setter {
    ($name:ident, $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($name), "`.")]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

impl McrgOptions {
    /// The defaults (see the table in [`McrgOptions`]).
    pub fn new() -> Self {
        Self::default()
    }
    setter!(l, usize);
    setter!(temperature, f64);
    setter!(samples, usize);
    setter!(runs, usize);
    setter!(burn_in, usize);
    setter!(thinning, usize);
    setter!(algorithm, ClusterAlgorithm);
    setter!(couplings, usize);
    setter!(seed, u64);

    /// Checks: temperature finite and `> 0`; `runs` in `2..=`[`MAX_RUNS`];
    /// `samples >= 2 runs`; `thinning >= 1`;
    /// `couplings` in `1..=7`; `l >= 8` (and `l^2` within the lattice limit, checked
    /// by [`measure`]).
    pub fn validate(&self) -> Result<()> {
        coupling(self.temperature)?;
        let bad = |name: &str, reason: String| Err(Error::invalid_argument(name, reason));
        if self.runs < 2 {
            return bad(
                "runs",
                format!(
                    "error bars need at least 2 independent runs, got {}",
                    self.runs
                ),
            );
        }
        if self.runs > MAX_RUNS {
            return bad(
                "runs",
                format!("at most {MAX_RUNS} independent runs, got {}", self.runs),
            );
        }
        // runs <= MAX_RUNS: 2 * runs cannot overflow.
        if self.samples < 2 * self.runs {
            return bad(
                "samples",
                format!(
                    "need at least 2 per run ({} runs), got {}",
                    self.runs, self.samples
                ),
            );
        }
        if self.thinning == 0 {
            return bad("thinning", "must be at least 1 update (got 0)".into());
        }
        if !(1..=7).contains(&self.couplings) {
            return bad(
                "couplings",
                format!("must be in 1..=7, got {}", self.couplings),
            );
        }
        if self.l < 8 {
            return bad(
                "l",
                format!("the fine lattice must be at least 8 x 8, got {}", self.l),
            );
        }
        Ok(())
    }
}

/// The MCRG estimate of one coarse-graining.
///
/// ```
/// use tnlearn::ising::mcrg::{measure, CoarseGrain, MajorityRule, McrgOptions};
///
/// let majority = MajorityRule::new(2)?;
/// let list: Vec<&dyn CoarseGrain> = vec![&majority];
/// let options = McrgOptions::new().l(8).samples(2000).runs(2).couplings(1).burn_in(100);
/// let results = measure(&list, &options, &|_| {})?;
/// assert_eq!(results[0].y_t.len(), 1); // y_t from 1 coupling, with its jackknife error
/// assert!(results[0].y_t[0].is_finite());
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct McrgResult {
    /// The coarse-graining's [`name`](CoarseGrain::name).
    pub name: String,
    /// Its scale factor `b`.
    pub scale_factor: usize,
    /// Configurations measured (all runs).
    pub samples: u64,
    /// `y_t` from the first `1, 2, ..., couplings` operators, all runs pooled.
    pub y_t: Vec<f64>,
    /// Jackknife standard error of each `y_t` over the independent runs.
    pub y_t_error: Vec<f64>,
    /// The eigenvalues of `T` with all couplings (pooled), by decreasing real part.
    pub eigenvalues: Vec<Complex64>,
    /// The pooled correlations (for further analysis).
    pub correlations: Correlations,
}

/// Swendsen's MCRG for every coarse-graining in `coarse_grainings`, on the same
/// configurations: `options.runs` independent chains at `options.temperature` on the
/// `L x L` torus; each measured configuration `s` and its blocked image `s'` give the
/// lattice sums `S^(0)`, `S^(1)` of the seven [`EvenOperator`](super::EvenOperator)s;
/// from the pooled [`Correlations`], `y_t(k) = ln lambda_max(A_k^{-1} B_k) / ln b` for
/// the first `k = 1..=couplings` operators. The error bar of each `y_t(k)` is the
/// jackknife over runs (leave one run out, recompute from the pooled sums), which
/// also covers the bias of the nonlinear estimator.
///
/// `progress` is called with the number of newly measured configurations (in steps
/// of 1000), from rayon's worker threads. The runs are independent tasks on rayon's
/// pool (`RAYON_NUM_THREADS`); the results do not depend on the number of threads.
///
/// # Errors
/// [`Error::InvalidArgument`] for bad options or an empty list; whatever a
/// coarse-graining returns; [`Error::ShapeMismatch`] if a coarse-graining does not
/// return an `(L/b) x (L/b)` configuration of `+-1` with `L/b >= 4`;
/// [`Error::NoConvergence`] if the correlation matrices are singular (too few samples).
pub fn measure(
    coarse_grainings: &[&dyn CoarseGrain],
    options: &McrgOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<McrgResult>> {
    options.validate()?;
    if coarse_grainings.is_empty() {
        return Err(Error::invalid_argument(
            "coarse_grainings",
            "the list is empty",
        ));
    }
    for cg in coarse_grainings {
        let b = cg.scale_factor();
        if b < 2 || options.l % b != 0 || options.l / b < 4 {
            return Err(Error::invalid_argument(
                "coarse_grainings",
                format!(
                    "{} has scale factor {b}, which must be >= 2 and divide L = {} into a lattice of side >= 4",
                    cg.name(),
                    options.l
                ),
            ));
        }
    }
    let lattice = Lattice::square(options.l)?;
    // One task per run; `collect` keeps run order, so the pooled sums (and the
    // results) are the same for every number of threads.
    let by_run: Vec<Vec<Correlations>> = (0..options.runs)
        .into_par_iter()
        .map(|r| one_run(r, &lattice, coarse_grainings, options, progress))
        .collect::<Result<_>>()?;
    coarse_grainings
        .iter()
        .enumerate()
        .map(|(g, cg)| summarize(g, *cg, &by_run, options))
        .collect()
}

/// One independent chain: burn-in, then `samples / runs` (plus one for the first
/// `samples % runs` runs) measurements.
fn one_run(
    run: usize,
    lattice: &Lattice,
    coarse_grainings: &[&dyn CoarseGrain],
    options: &McrgOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Correlations>> {
    let seed = options
        .seed
        .wrapping_add((run as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut rng = StdRng::seed_from_u64(seed);
    let mut chain = MarkovChain::new(
        lattice,
        options.temperature,
        options.algorithm,
        false,
        &mut rng,
    )?;
    chain.run(options.burn_in, &mut rng);
    let n = options.samples / options.runs + usize::from(run < options.samples % options.runs);
    let l = options.l;
    let mut acc = vec![Correlations::new(7)?; coarse_grainings.len()];
    let mut pending = 0u64;
    for i in 0..n {
        chain.run(options.thinning, &mut rng);
        let fine = ArrayView2::from_shape((l, l), chain.spins()).expect("L x L spins");
        let s0 = lattice_sums(fine)?;
        for (cg, a) in coarse_grainings.iter().zip(acc.iter_mut()) {
            let coarse = cg.coarse_grain(fine, &mut rng)?;
            if i == 0 {
                let side = check_configuration(coarse.view(), 1)?;
                let want = l / cg.scale_factor();
                if side != want {
                    return Err(Error::shape_mismatch(
                        format!("output of coarse-graining {}", cg.name()),
                        [want, want],
                        [side, side],
                    ));
                }
            }
            a.push(&s0, &lattice_sums(coarse.view())?)?;
        }
        pending += 1;
        if pending == 1000 {
            progress(pending);
            pending = 0;
        }
    }
    progress(pending);
    Ok(acc)
}

/// Pools the runs of coarse-graining `g` and jackknifes over runs.
fn summarize(
    g: usize,
    cg: &dyn CoarseGrain,
    by_run: &[Vec<Correlations>],
    options: &McrgOptions,
) -> Result<McrgResult> {
    let b = cg.scale_factor();
    let pool = |skip: Option<usize>| -> Result<Correlations> {
        let mut acc = Correlations::new(7)?;
        for (r, run) in by_run.iter().enumerate() {
            if Some(r) != skip {
                acc.merge(&run[g])?;
            }
        }
        Ok(acc)
    };
    let all = pool(None)?;
    let runs = by_run.len() as f64;
    let mut y_t = Vec::new();
    let mut y_t_error = Vec::new();
    let leave_out: Vec<Correlations> = (0..by_run.len())
        .map(|r| pool(Some(r)))
        .collect::<Result<_>>()?;
    for k in 1..=options.couplings {
        y_t.push(all.thermal_exponent(k, b)?);
        let jk: Vec<f64> = leave_out
            .iter()
            .map(|c| c.thermal_exponent(k, b))
            .collect::<Result<_>>()?;
        let mean = jk.iter().sum::<f64>() / runs;
        let var = jk.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() * (runs - 1.0) / runs;
        y_t_error.push(var.sqrt());
    }
    Ok(McrgResult {
        name: cg.name(),
        scale_factor: b,
        samples: all.count(),
        y_t,
        y_t_error,
        eigenvalues: all.rg_eigenvalues(options.couplings)?,
        correlations: all,
    })
}
