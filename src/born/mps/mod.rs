//! The model: [`MpsBornMachine`], its construction, canonical form and exact
//! likelihoods.

use ndarray::{Array3, ArrayView2};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::born::checks::{self, check_num_states};
use environments::{advance_left, Env};

mod checkpoints;
mod environments;
mod io;
pub(crate) use io::MAGIC;
mod sampling;
mod sharded;
mod training;
use crate::born::options::BornOptions;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::mps::Mps;

/// An MPS Born machine (Han, Wang, Fan, Wang, Zhang, PRX 8, 031012 (2018)):
///
/// ```text
/// p(x) = |psi(x)|^2 / Z,   psi(x) = A_0[x_0] A_1[x_1] ... A_{N-1}[x_{N-1}],   Z = <psi|psi>
/// ```
///
/// over `N` sites with `d` states each; `A_k` has shape `(D_{k-1}, d, D_k)`,
/// `D_{-1} = D_{N-1} = 1`. The tensors are kept in mixed canonical form with a
/// known orthogonality centre `c` ([`MpsBornMachine::center`]): sites left of `c`
/// are left isometries, sites right of it right isometries, and `||A_c||_F = 1`, so
/// `Z = ||A_c||^2 = 1` up to rounding (it is still divided out exactly). Outside of
/// [`fit`](crate::born::BornMachine::fit) the centre is at site 0 (right-canonical form), the
/// form that exact zipper sampling needs.
///
/// The amplitude is held as an [`Mps`] (site tensors `Array3<f64>`, as in
/// [`Ttn`](crate::ttn::Ttn)) with log scale 0 and a known centre; the canonical
/// sweep steps are the ones of [`Mps::move_center`], with the factors absorbed as
/// they are (the state stays normalised) instead of moved into the log scale, and
/// the two-site update replaces a bond keeping the centre (as
/// [`Mps::replace_bond`]). [`MpsBornMachine::mps`], [`MpsBornMachine::to_mps`] and
/// [`MpsBornMachine::from_mps`] convert.
///
/// # Exact sampling
/// [`BornMachine::sample_conditional`](crate::born::BornMachine::sample_conditional)
/// (and `sample`, with nothing observed) first computes the right "density"
/// environments `E_k = sum_{x_k allowed} A_k[x_k] E_{k+1} A_k[x_k]^T`, where only the
/// observed value is allowed at an observed site and every value at a free one;
/// right of the last observed site `E = I` by right-canonicity. Then the zipper runs
/// left to right: at an observed site `v <- v A_k[x_k]`, at a free site `x_k` is
/// drawn with weight `(v A_k[s]) E_{k+1} (v A_k[s])^T`, which is exactly
/// `p(x_k = s | x_<k, x_observed)`. Cost `O(N d D^3)` for the environments plus
/// `O(n N d D^2)` per batch (one GEMM per site for the whole batch, one more per
/// value at free sites left of the last observation); chunks of the batch run in
/// parallel with generators seeded from the caller's, so the result depends only
/// on the caller's `rng`.
///
/// ```
/// use rand::SeedableRng;
/// use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine};
/// use tnlearn::Dataset;
///
/// let data = Dataset::binary(ndarray::array![[0, 1, 1, 0], [1, 0, 0, 1]])?;
/// let mut model = MpsBornMachine::new(4, 2, BornOptions::new().max_bond(4).sweeps(10))?;
/// model.fit(&data)?;
/// assert!(model.nll(&data)? < 2f64.ln() + 0.05); // two patterns: floor ln 2
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let samples = model.sample(5, &mut rng)?;
/// assert_eq!(samples.dim(), (5, 4));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MpsBornMachine {
    /// The amplitude: log scale 0, centre always known (`Some`).
    pub(crate) mps: Mps<f64>,
    pub(crate) num_states: usize,
    pub(crate) options: BornOptions,
}

impl MpsBornMachine {
    /// A random model over `num_sites` sites with `num_states` states each: an MPS of
    /// bond dimension `options.initial_bond` with standard normal entries drawn from
    /// a generator seeded with `options.seed`, brought to right-canonical form
    /// (centre at site 0) and normalised.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the setting for invalid `options`
    /// ([`BornOptions::validate`]), `num_sites < 2` (the two-site update needs a
    /// bond) or `num_states` outside `2..=256` (data values are `u8`); naming
    /// `initial_bond` (or `num_sites`) if the random initial MPS would exceed
    /// [`MAX_INITIAL_ENTRIES`](crate::born::MAX_INITIAL_ENTRIES) values.
    pub fn new(num_sites: usize, num_states: usize, options: BornOptions) -> Result<Self> {
        options.validate()?;
        if num_sites < 2 {
            return Err(Error::invalid_argument(
                "num_sites",
                format!("an MPS Born machine needs at least 2 sites (got {num_sites})"),
            ));
        }
        check_num_states(num_states)?;
        checks::check_initial_size(num_sites, num_states, options.initial_bond)?;
        let mut rng = StdRng::seed_from_u64(options.seed);
        let mps = Mps::<f64>::random(&vec![num_states; num_sites], options.initial_bond, &mut rng)?;
        Self::from_mps(&mps, options)
    }

    /// A model whose amplitude is the given MPS (any scale; it is canonicalised with
    /// centre 0 and normalised). All sites must have the same physical dimension `d`
    /// in `2..=256`, and there must be at least 2 sites.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid options, fewer than 2 sites, unequal or
    /// unsupported physical dimensions, or the zero state.
    pub fn from_mps(mps: &Mps<f64>, options: BornOptions) -> Result<Self> {
        options.validate()?;
        let dims = mps.phys_dims();
        if dims.len() < 2 {
            return Err(Error::invalid_argument(
                "mps",
                format!(
                    "an MPS Born machine needs at least 2 sites (got {})",
                    dims.len()
                ),
            ));
        }
        if let Some(k) = dims.iter().position(|&d| d != dims[0]) {
            return Err(Error::invalid_argument(
                "mps",
                format!(
                    "all sites must have the same number of states: site 0 has {}, site {k} has {}",
                    dims[0], dims[k]
                ),
            ));
        }
        check_num_states(dims[0])?;
        let mut m = mps.clone();
        m.canonicalize(0)?;
        if m.log_scale() == f64::NEG_INFINITY {
            return Err(Error::invalid_argument(
                "mps",
                "the zero state has no distribution",
            ));
        }
        // The norm went into the log scale: the tensors alone are the normalised
        // state, canonical about site 0.
        let (tensors, _) = m.into_parts();
        let mut mps = Mps::from_tensors(tensors)?;
        mps.center = Some(0);
        Ok(MpsBornMachine {
            mps,
            num_states: dims[0],
            options,
        })
    }

    /// The amplitude as an [`Mps`] (log scale 0, norm 1), canonicalised with its
    /// centre at [`MpsBornMachine::center`] (the tensors are re-orthogonalised by QR,
    /// which may change gauge signs but not the state).
    pub fn to_mps(&self) -> Result<Mps<f64>> {
        let mut m = Mps::from_tensors(self.mps.tensors.clone())?;
        m.canonicalize(self.center())?;
        Ok(m)
    }

    /// The amplitude as it is held: an [`Mps`] of norm 1 (log scale 0) in mixed
    /// canonical form about [`MpsBornMachine::center`] (no copy, no QR).
    pub fn mps(&self) -> &Mps<f64> {
        &self.mps
    }

    /// The number of sites `N`.
    pub fn num_sites(&self) -> usize {
        self.mps.len()
    }

    /// The number of states `d` per site.
    pub fn num_states(&self) -> usize {
        self.num_states
    }

    /// The site tensors `A_k`, shape `(D_{k-1}, d, D_k)`.
    pub fn tensors(&self) -> &[Array3<f64>] {
        &self.mps.tensors
    }

    /// The orthogonality centre (0 outside of training).
    pub fn center(&self) -> usize {
        debug_assert!(
            self.mps.center.is_some(),
            "the Born machine's centre is known"
        );
        self.mps.center.unwrap_or(0)
    }

    /// The `N - 1` bond dimensions `D_0 .. D_{N-2}`.
    pub fn bond_dims(&self) -> Vec<usize> {
        self.mps.bond_dims()
    }

    /// The largest bond dimension.
    pub fn max_bond(&self) -> usize {
        self.mps.max_bond()
    }

    /// `ln Z = ln ||A_c||_F^2` (0 up to rounding).
    pub(crate) fn log_z(&self) -> f64 {
        checks::log_sq_norm(&self.mps.tensors[self.center()])
    }

    /// `ln p(x)` for every row of `samples` (`n x N`), with one GEMM per site and
    /// value (errors: another number of sites, or a value `>= d`, naming sample and site).
    pub fn log_probs(&self, samples: ArrayView2<'_, u8>) -> Result<Vec<f64>> {
        self.check_samples(samples, "samples")?;
        Ok(self.log_probs_unchecked(samples))
    }

    pub(crate) fn log_probs_unchecked(&self, samples: ArrayView2<'_, u8>) -> Vec<f64> {
        let mut env = Env::boundary(samples.nrows());
        for (k, a) in self.mps.tensors.iter().enumerate() {
            env = advance_left(&env, a, samples.column(k));
        }
        // The final rows are 1 x 1 of norm 1 (or 0): ln|psi| is the accumulated scale.
        let lz = self.log_z();
        env.logs.iter().map(|&l| 2.0 * l - lz).collect()
    }

    // ------------------------------------------------------------- validation

    pub(crate) fn check_samples(&self, samples: ArrayView2<'_, u8>, name: &str) -> Result<()> {
        checks::check_samples(samples, self.num_sites(), self.num_states, name)
    }

    pub(crate) fn check_dataset(&self, data: &Dataset, name: &str) -> Result<()> {
        self.check_samples(data.samples(), name)
    }

    // ---------------------------------------------------------- canonical form

    /// Moves the orthogonality centre to site `k`
    /// ([`Mps::move_center`]'s steps, factors absorbed as they are) and normalises
    /// the new centre tensor.
    pub(crate) fn move_center(&mut self, k: usize) -> Result<()> {
        self.mps.move_center_normalized(k)
    }

    /// The tensors in right-canonical form (centre 0): borrowed when already so.
    pub(crate) fn right_canonical(&self) -> Result<std::borrow::Cow<'_, [Array3<f64>]>> {
        if self.center() == 0 {
            Ok(std::borrow::Cow::Borrowed(&self.mps.tensors))
        } else {
            let mut m = self.mps.clone();
            m.move_center_normalized(0)?;
            Ok(std::borrow::Cow::Owned(m.tensors))
        }
    }
}

impl std::fmt::Display for MpsBornMachine {
    /// A one-paragraph summary: sites, states, bonds, parameters, centre.
    ///
    /// ```
    /// use tnlearn::born::{BornOptions, MpsBornMachine};
    /// let m = MpsBornMachine::new(8, 2, BornOptions::new().initial_bond(2))?;
    /// assert_eq!(
    ///     m.to_string(),
    ///     "MPS Born machine: 8 sites with 2 states each, bond dimensions \
    ///      [2, 2, 2, 2, 2, 2, 2] (max 2), 56 parameters, centre at site 0"
    /// );
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params: usize = self.tensors().iter().map(|t| t.len()).sum();
        let bonds = self.bond_dims();
        let shown = if bonds.len() <= 16 {
            format!("{bonds:?}")
        } else {
            format!("{:?}...", &bonds[..16])
        };
        write!(
            f,
            "MPS Born machine: {} sites with {} states each, bond dimensions {shown} \
             (max {}), {params} parameters, centre at site {}",
            self.num_sites(),
            self.num_states,
            self.max_bond(),
            self.center()
        )
    }
}
