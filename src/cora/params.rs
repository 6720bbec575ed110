//! Column-stochastic matrices, the parameters of a CORA: [`StochasticMap`].

use std::sync::{Arc, Mutex};

use rand::Rng;

use super::geometry::MAX_MAP_ENTRIES;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Tolerance of the stochasticity invariant: every column sums to 1 within this.
pub const STOCHASTIC_TOLERANCE: f64 = 1e-12;

/// A column-stochastic matrix `M(o | i)`: `outputs x inputs` entries, every entry
/// `>= 0` and finite, every column `sum_o M(o | i) = 1` (to
/// [`STOCHASTIC_TOLERANCE`]). The invariant is checked by every constructor and
/// every update, so a model can never hold an invalid map.
///
/// Values are stored row-major, `values[o * inputs + i]`. Multi-site outputs and
/// inputs are flattened row-major over their sites (first site slowest): a refine
/// map of a block of `b` sites is `chi_{j-1}^b x chi_j`, a box map of `g` sites is
/// `chi^g x chi^g`, a prior or the top distribution has one input.
///
/// ```
/// use tnlearn::cora::StochasticMap;
/// let m = StochasticMap::new(2, 2, vec![0.9, 0.2, 0.1, 0.8])?;
/// assert_eq!(m.get(1, 0), 0.1);
/// assert!(StochasticMap::new(2, 1, vec![0.5, 0.6]).is_err());
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct StochasticMap {
    outputs: usize,
    inputs: usize,
    values: Vec<f64>,
    /// Tensors derived from `values` (the cone operands, see
    /// [`StochasticMap::derived`]). Every method taking `&mut self` must start with
    /// [`StochasticMap::values_mut`] or clear this, so it never outlives the values.
    derived: Derived,
}

impl PartialEq for StochasticMap {
    fn eq(&self, other: &Self) -> bool {
        self.outputs == other.outputs && self.inputs == other.inputs && self.values == other.values
    }
}

/// A memo of tensors computed from a map's values, keyed by how they were
/// computed. A clone starts empty (the values are copied, the memo is rebuilt on
/// use).
#[derive(Default)]
struct Derived(Mutex<Vec<DerivedEntry>>);

/// A key of [`StochasticMap::derived`] and its tensor.
type DerivedEntry = (Vec<usize>, Arc<Tensor<f64>>);

impl Clone for Derived {
    fn clone(&self) -> Self {
        Derived::default()
    }
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |m| m.len());
        write!(f, "Derived({n} tensors)")
    }
}

impl StochasticMap {
    /// A map from its values (row-major `outputs x inputs`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `values.len() != outputs * inputs`;
    /// [`Error::InvalidArgument`] naming the entry or column if an entry is negative
    /// or not finite or a column does not sum to 1 within [`STOCHASTIC_TOLERANCE`].
    pub fn new(outputs: usize, inputs: usize, values: Vec<f64>) -> Result<Self> {
        if outputs.checked_mul(inputs) != Some(values.len()) || outputs == 0 || inputs == 0 {
            return Err(Error::shape_mismatch(
                "StochasticMap::new",
                vec![outputs, inputs],
                vec![values.len()],
            ));
        }
        let m = StochasticMap {
            outputs,
            inputs,
            values,
            derived: Derived::default(),
        };
        m.check("StochasticMap::new")?;
        Ok(m)
    }

    /// The uniform map: every column `1 / outputs`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `outputs` or `inputs` if one is 0 or the map
    /// would have more than [`MAX_MAP_ENTRIES`] entries.
    pub fn uniform(outputs: usize, inputs: usize) -> Result<Self> {
        let len = checked_len(outputs, inputs, "StochasticMap::uniform")?;
        Ok(StochasticMap {
            outputs,
            inputs,
            values: vec![1.0 / outputs as f64; len],
            derived: Derived::default(),
        })
    }

    /// A random map: every column drawn from the flat Dirichlet distribution
    /// (normalised `-ln u`, `u` uniform in `(0, 1]`), so all entries are positive.
    ///
    /// # Errors
    /// As [`StochasticMap::uniform`].
    pub fn random<R: Rng + ?Sized>(outputs: usize, inputs: usize, rng: &mut R) -> Result<Self> {
        let len = checked_len(outputs, inputs, "StochasticMap::random")?;
        let mut values: Vec<f64> = (0..len)
            .map(|_| -(1.0 - rng.random::<f64>()).ln() + 1e-300)
            .collect();
        normalize_columns(&mut values, outputs, inputs);
        let m = StochasticMap {
            outputs,
            inputs,
            values,
            derived: Derived::default(),
        };
        m.check("StochasticMap::random")?;
        Ok(m)
    }

    /// A random map mixed with the uniform one: `(1 - noise) / outputs + noise * D`
    /// with `D` a flat-Dirichlet column; `noise in [0, 1]` (the usual EM start).
    ///
    /// # Errors
    /// As [`StochasticMap::uniform`]; [`Error::InvalidArgument`] naming `noise` if it
    /// is not in `[0, 1]` (NaN included).
    pub fn near_uniform<R: Rng + ?Sized>(
        outputs: usize,
        inputs: usize,
        noise: f64,
        rng: &mut R,
    ) -> Result<Self> {
        check_noise(noise)?;
        let d = Self::random(outputs, inputs, rng)?;
        let u = 1.0 / outputs as f64;
        let mut values: Vec<f64> = d
            .values
            .iter()
            .map(|&x| (1.0 - noise) * u + noise * x)
            .collect();
        normalize_columns(&mut values, outputs, inputs);
        let m = StochasticMap {
            outputs,
            inputs,
            values,
            derived: Derived::default(),
        };
        m.check("StochasticMap::near_uniform")?;
        Ok(m)
    }

    /// The `n x n` identity map.
    pub(crate) fn identity(n: usize) -> Self {
        let mut values = vec![0.0; n * n];
        for k in 0..n {
            values[k * n + k] = 1.0;
        }
        StochasticMap {
            outputs: n,
            inputs: n,
            values,
            derived: Derived::default(),
        }
    }

    /// A square map near the identity: `(1 - noise) * I + noise * D`, `D` flat
    /// Dirichlet columns, `noise in [0, 1]`.
    ///
    /// # Errors
    /// As [`StochasticMap::near_uniform`].
    pub fn near_identity<R: Rng + ?Sized>(n: usize, noise: f64, rng: &mut R) -> Result<Self> {
        check_noise(noise)?;
        let d = Self::random(n, n, rng)?;
        let mut values: Vec<f64> = d.values.iter().map(|&x| noise * x).collect();
        for k in 0..n {
            values[k * n + k] += 1.0 - noise;
        }
        normalize_columns(&mut values, n, n);
        let m = StochasticMap {
            outputs: n,
            inputs: n,
            values,
            derived: Derived::default(),
        };
        m.check("StochasticMap::near_identity")?;
        Ok(m)
    }

    /// Number of output configurations (rows).
    pub fn outputs(&self) -> usize {
        self.outputs
    }
    /// Number of input configurations (columns).
    pub fn inputs(&self) -> usize {
        self.inputs
    }
    /// `M(o | i)`.
    ///
    /// # Panics
    /// If `output >= outputs()` or `input >= inputs()`; [`StochasticMap::try_get`]
    /// returns an error instead.
    #[inline]
    pub fn get(&self, output: usize, input: usize) -> f64 {
        assert!(
            output < self.outputs && input < self.inputs,
            "StochasticMap::get({output}, {input}) on a {} x {} map",
            self.outputs,
            self.inputs
        );
        self.values[output * self.inputs + input]
    }
    /// `M(o | i)`, checked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `output` or `input` if it is out of range.
    pub fn try_get(&self, output: usize, input: usize) -> Result<f64> {
        if output >= self.outputs {
            return Err(Error::invalid_argument(
                "output",
                format!(
                    "{output} out of range for a map with {} outputs",
                    self.outputs
                ),
            ));
        }
        if input >= self.inputs {
            return Err(Error::invalid_argument(
                "input",
                format!("{input} out of range for a map with {} inputs", self.inputs),
            ));
        }
        Ok(self.values[output * self.inputs + input])
    }
    /// The values, row-major `outputs x inputs`.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The values for writing: drops every derived tensor first, so none can be
    /// served stale. The only mutable access to `values` outside constructors.
    fn values_mut(&mut self) -> &mut Vec<f64> {
        self.derived
            .0
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        &mut self.values
    }

    /// A tensor computed from the values by `build`, memoised under `key` (which
    /// must identify the computation: the same key, the same tensor) until the
    /// values change. Used for the cone operands, the map summed over some outputs
    /// (`key` = site dimension, sites, kept positions, input shape).
    pub(crate) fn derived(
        &self,
        key: &[usize],
        build: impl FnOnce(&Self) -> Tensor<f64>,
    ) -> Arc<Tensor<f64>> {
        let mut memo = self.derived.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, t)) = memo.iter().find(|(k, _)| k == key) {
            return Arc::clone(t);
        }
        let t = Arc::new(build(self));
        memo.push((key.to_vec(), Arc::clone(&t)));
        t
    }

    /// Checks the invariant (entries finite and `>= 0`, columns summing to 1).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `context`, the entry or the column.
    pub fn check(&self, context: &str) -> Result<()> {
        if let Some(k) = self.values.iter().position(|v| !v.is_finite() || *v < 0.0) {
            return Err(Error::invalid_argument(
                context,
                format!(
                    "entry (output {}, input {}) = {} is negative or not finite",
                    k / self.inputs,
                    k % self.inputs,
                    self.values[k]
                ),
            ));
        }
        for i in 0..self.inputs {
            let s: f64 = (0..self.outputs).map(|o| self.get(o, i)).sum();
            if (s - 1.0).abs() > STOCHASTIC_TOLERANCE {
                return Err(Error::invalid_argument(
                    context,
                    format!(
                        "column {i} of a {} x {} map sums to {s} (must be 1 within {STOCHASTIC_TOLERANCE:e})",
                        self.outputs, self.inputs
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Replaces the map by normalised expected counts (the EM M-step):
    /// `M(o | i) = (n(o, i) + alpha) / sum_o' (n(o', i) + alpha)`; a column with no
    /// counts at all (`alpha = 0` and an input never used) is left unchanged.
    /// Checks the invariant afterwards; on failure the map is left unchanged.
    pub(crate) fn set_from_counts(
        &mut self,
        counts: &[f64],
        alpha: f64,
        context: &str,
    ) -> Result<()> {
        debug_assert_eq!(counts.len(), self.values.len());
        let saved = self.values_mut().clone();
        let (no, ni) = (self.outputs, self.inputs);
        for i in 0..ni {
            let total: f64 = (0..no).map(|o| counts[o * ni + i] + alpha).sum();
            if total > 0.0 && total.is_finite() {
                for o in 0..no {
                    self.values[o * ni + i] = (counts[o * ni + i] + alpha) / total;
                }
            }
        }
        self.check(context).inspect_err(|_| self.values = saved)
    }
}

impl StochasticMap {
    /// The per-site marginals `r_k(y | i)` of a map whose outputs are `sites` sites of
    /// `dim` states: `r[k][y * inputs + i]`.
    pub(crate) fn output_marginals(&self, dim: usize, sites: usize) -> Vec<Vec<f64>> {
        marginals_of(&self.values, self.outputs, self.inputs, dim, sites)
    }

    /// The EM M-step constrained to product form
    /// `M(o | i) = prod_k r_k(o_k | i)`: per-site counts
    /// `n_k(y, i) = sum_{o: o_k = y} n(o, i)`, `r_k = (n_k + alpha) / sum (n_k + alpha)`
    /// (columns without counts keep their current marginals). Checks the invariant;
    /// on failure the map is left unchanged.
    pub(crate) fn set_product_from_counts(
        &mut self,
        counts: &[f64],
        alpha: f64,
        dim: usize,
        sites: usize,
        context: &str,
    ) -> Result<()> {
        let ni = self.inputs;
        let old = self.output_marginals(dim, sites);
        let mut r = marginals_of(counts, self.outputs, ni, dim, sites);
        for (rk, ok) in r.iter_mut().zip(&old) {
            for i in 0..ni {
                let total: f64 = (0..dim).map(|y| rk[y * ni + i] + alpha).sum();
                for y in 0..dim {
                    rk[y * ni + i] = if total > 0.0 && total.is_finite() {
                        (rk[y * ni + i] + alpha) / total
                    } else {
                        ok[y * ni + i]
                    };
                }
            }
        }
        let saved = self.values_mut().clone();
        self.set_product(&r, dim, sites);
        self.check(context).inspect_err(|_| self.values = saved)
    }

    /// Sets `M(o | i) = prod_k r_k(o_k | i)`.
    pub(crate) fn set_product(&mut self, r: &[Vec<f64>], dim: usize, sites: usize) {
        let ni = self.inputs;
        let (outputs, values) = (self.outputs, self.values_mut());
        for o in 0..outputs {
            for i in 0..ni {
                let mut v = 1.0;
                let mut rest = o;
                for k in (0..sites).rev() {
                    v *= r[k][(rest % dim) * ni + i];
                    rest /= dim;
                }
                values[o * ni + i] = v;
            }
        }
        normalize_columns(values, outputs, ni);
    }
}

/// `outputs * inputs`, checked: both at least 1, at most [`MAX_MAP_ENTRIES`].
fn checked_len(outputs: usize, inputs: usize, context: &str) -> Result<usize> {
    if outputs == 0 || inputs == 0 {
        return Err(Error::invalid_argument(
            if outputs == 0 { "outputs" } else { "inputs" },
            format!("{context}: a {outputs} x {inputs} map is empty (both must be at least 1)"),
        ));
    }
    match outputs.checked_mul(inputs) {
        Some(n) if n <= MAX_MAP_ENTRIES => Ok(n),
        _ => Err(Error::invalid_argument(
            "outputs",
            format!(
                "{context}: a {outputs} x {inputs} map exceeds the limit of {MAX_MAP_ENTRIES} entries"
            ),
        )),
    }
}

/// `noise` in `[0, 1]`.
fn check_noise(noise: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&noise) {
        return Err(Error::invalid_argument(
            "noise",
            format!("must be in [0, 1] (got {noise})"),
        ));
    }
    Ok(())
}

/// Per-site marginals of a row-major `outputs x inputs` table over `sites` sites.
fn marginals_of(
    values: &[f64],
    outputs: usize,
    inputs: usize,
    dim: usize,
    sites: usize,
) -> Vec<Vec<f64>> {
    let mut r = vec![vec![0.0; dim * inputs]; sites];
    for o in 0..outputs {
        let mut rest = o;
        for k in (0..sites).rev() {
            let y = rest % dim;
            rest /= dim;
            for i in 0..inputs {
                r[k][y * inputs + i] += values[o * inputs + i];
            }
        }
    }
    r
}

/// Normalises every column of a row-major `outputs x inputs` matrix.
fn normalize_columns(values: &mut [f64], outputs: usize, inputs: usize) {
    for i in 0..inputs {
        let s: f64 = (0..outputs).map(|o| values[o * inputs + i]).sum();
        for o in 0..outputs {
            values[o * inputs + i] /= s;
        }
    }
}
