//! Matrix product states with open boundaries: [`Mps`].
//!
//! An `N`-site MPS represents the state
//!
//! ```text
//! psi(x_0, ..., x_{N-1}) = exp(log_scale) * A_0[x_0] A_1[x_1] ... A_{N-1}[x_{N-1}]
//! ```
//!
//! where site tensor `A_k` has shape `(D_{k-1}, d_k, D_k)`, `A_k[x]` is the
//! `D_{k-1} x D_k` matrix obtained by fixing the physical index, and the boundary
//! bonds have size `D_{-1} = D_{N-1} = 1` (the tensors are always of order 3). The
//! real number `log_scale` carries the overall magnitude, so that chains of
//! thousands of sites have finite [`Mps::log_norm`] without under- or overflow:
//! canonicalisation normalises the tensors and moves their norms into the scale.
//!
//! Canonical forms ([`Mps::canonicalize`]) are produced by QR sweeps, compression
//! ([`Mps::compress`]) by truncated-SVD sweeps with the crate-wide
//! [`Truncation`](crate::Truncation)
//! vocabulary, and every scalar quantity that could overflow (norm, overlap,
//! amplitude) is returned in log space ([`LogValue`]).
//!
//! ```
//! use rand::SeedableRng;
//! use tnlearn::{Mps, Truncation};
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! // 20 qubits, bond dimension 8, Gaussian entries (not normalised).
//! let mut psi = Mps::<f64>::random(&[2; 20], 8, &mut rng).unwrap();
//! let ln_norm = psi.log_norm(); // transfer-matrix contraction, no canonical form yet
//!
//! psi.canonicalize(10).unwrap(); // mixed canonical form, centre at site 10
//! assert_eq!(psi.center(), Some(10));
//! assert!((psi.log_norm() - ln_norm).abs() < 1e-10 * ln_norm.abs().max(1.0));
//!
//! // Truncate every bond to at most 4; the return value is ||psi - psi_c||^2 / ||psi||^2.
//! let err = psi.compress(&Truncation::new().max_bond(4)).unwrap();
//! assert!(psi.max_bond() <= 4 && err >= 0.0 && err < 1.0);
//!
//! // Amplitudes in log space: psi(x) = phase * exp(log_abs).
//! let amp = psi.log_amplitude(&[0; 20]).unwrap();
//! assert!(amp.log_abs.is_finite());
//! ```

pub(crate) mod canonical;
pub(crate) mod check;
pub use crate::log_value::LogValue;
pub use check::CANONICAL_TOL;
mod compress;
mod measure;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};
use rand::Rng;

use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::{check_finite_slice, norm_of, Tensor};

/// A matrix product state with open boundary conditions and per-site physical
/// dimension.
///
/// Site tensor `k` is an [`Array3`] of shape `(D_{k-1}, d_k, D_k)` (the site-tensor
/// type of [`Ttn`](crate::ttn::Ttn) and the Born machines too) with
/// `D_{-1} = D_{N-1} = 1`; the state is `psi(x) = exp(log_scale) * A_0[x_0] ... A_{N-1}[x_{N-1}]` (see the
/// [module documentation](self)).
///
/// The MPS remembers its orthogonality centre ([`Mps::center`]): `Some(c)` means
/// every `A_k` with `k < c` is a left isometry,
/// `sum_{a,s} conj(A_k[a,s,b]) A_k[a,s,b'] = delta_{b b'}`, every `A_k` with `k > c`
/// is a right isometry, `sum_{s,b} A_k[a,s,b] conj(A_k[a',s,b]) = delta_{a a'}`, and
/// `A_c` has Frobenius norm 1, so `||psi|| = exp(log_scale)`. Moving a known centre
/// only sweeps the sites in between. `None` means no canonical form is known; any
/// mutation of the tensors through the public API resets the centre to `None`,
/// except [`Mps::replace_bond`], which keeps a centre on the replaced bond.
///
/// ```
/// use rand::SeedableRng;
/// use tnlearn::Mps;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let mut psi = Mps::<f64>::random(&[2; 8], 4, &mut rng)?;
/// psi.canonicalize(3)?;
/// assert_eq!(psi.center(), Some(3));
/// psi.check_canonical(3, 1e-12)?; // left isometries before 3, right ones after
/// assert_eq!(psi.tensor(3)?.dim(), (4, 2, 4)); // (D_left, d, D_right)
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Mps<T> {
    pub(crate) tensors: Vec<Array3<T>>,
    log_scale: f64,
    pub(crate) center: Option<usize>,
}

/// What [`Mps`] accepts as a site tensor: an [`Array3`] (stored as it is, in
/// standard layout), a borrowed [`ArrayView3`] (copied) or a [`Tensor`] of order 3
/// (its buffer moves).
///
/// ```
/// use tnlearn::{Mps, Tensor};
///
/// // Array3s, ArrayView3s and order-3 Tensors are all site tensors.
/// let a = ndarray::Array3::<f64>::ones((1, 2, 1));
/// let t = Tensor::<f64>::ones(&[1, 2, 1]);
/// let mut psi = Mps::from_tensors(vec![a.clone(), a.clone()])?;
/// psi.set_tensor(1, t)?;
/// psi.set_tensor(0, a.view())?;
/// assert!(psi.set_tensor(0, Tensor::<f64>::ones(&[2, 1])).is_err()); // order 2
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub trait IntoSiteTensor<T> {
    /// The site tensor as an `Array3`; errors with [`Error::ShapeMismatch`] for a
    /// [`Tensor`] of another order.
    fn into_site_tensor(self) -> Result<Array3<T>>;
}

impl<T: Scalar> IntoSiteTensor<T> for Array3<T> {
    fn into_site_tensor(self) -> Result<Array3<T>> {
        Ok(self)
    }
}

impl<T: Scalar> IntoSiteTensor<T> for ArrayView3<'_, T> {
    fn into_site_tensor(self) -> Result<Array3<T>> {
        Ok(self.to_owned())
    }
}

impl<T: Scalar> IntoSiteTensor<T> for Tensor<T> {
    fn into_site_tensor(self) -> Result<Array3<T>> {
        Array3::try_from(self)
    }
}

/// Above this many amplitudes [`Mps::to_dense`] refuses (2^24 = 16.7 million).
pub const MAX_DENSE_AMPLITUDES: usize = 1 << 24;

impl<T: Scalar> Mps<T> {
    // ----------------------------------------------------------------- construction

    /// A random MPS: every entry an independent standard normal sample
    /// ([`Scalar::random_normal`]; complex: `E|z|^2 = 1`), drawn from `rng` (seedable,
    /// reproducible), `log_scale = 0`, no canonical form.
    ///
    /// Internal bond `k` (between sites `k` and `k+1`) has dimension
    /// `D_k = min(bond_dim, d_0 ... d_k, d_{k+1} ... d_{N-1})`, the largest dimension
    /// that can be of full rank. The state is *not* normalised (its norm grows
    /// exponentially with `N`; [`Mps::log_norm`] stays finite); call
    /// [`Mps::normalize`] for a unit vector.
    ///
    /// Errors with [`Error::InvalidArgument`] for an empty `phys_dims`, a physical
    /// dimension 0 (naming the site) or `bond_dim = 0`, and (naming the site and
    /// shape) when a site tensor's size overflows or cannot be allocated.
    pub fn random<R: Rng + ?Sized>(
        phys_dims: &[usize],
        bond_dim: usize,
        rng: &mut R,
    ) -> Result<Self> {
        check_phys_dims(phys_dims)?;
        if bond_dim == 0 {
            return Err(Error::invalid_argument(
                "bond_dim",
                "must be at least 1 (got 0)",
            ));
        }
        let n = phys_dims.len();
        // Exact maximal ranks from the left and from the right (saturating products).
        let mut bonds = vec![1usize; n + 1];
        let mut left = 1usize;
        for k in 0..n - 1 {
            left = left.saturating_mul(phys_dims[k]);
            bonds[k + 1] = left;
        }
        let mut right = 1usize;
        for k in (1..n).rev() {
            right = right.saturating_mul(phys_dims[k]);
            bonds[k] = bonds[k].min(right).min(bond_dim);
        }
        // Each site's element count is checked (and allocated fallibly) before drawing.
        let tensors = (0..n)
            .map(|k| {
                let shape = [bonds[k], phys_dims[k], bonds[k + 1]];
                Tensor::try_random(&shape, rng)
                    .and_then(Array3::try_from)
                    .map_err(|e| {
                        Error::invalid_argument(
                            "bond_dim",
                            format!("Mps::random: site {k} of shape {shape:?}: {e}"),
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Mps {
            tensors,
            log_scale: 0.0,
            center: None,
        })
    }

    /// The product (basis) state `|config_0 config_1 ... config_{N-1}>`: all bonds of
    /// size 1, norm 1. A product state is canonical about every site; the centre is
    /// recorded as `Some(0)`.
    ///
    /// Errors with [`Error::InvalidArgument`] for an empty chain or a physical
    /// dimension 0, [`Error::ShapeMismatch`] when the lengths differ, and
    /// [`Error::InvalidArgument`] naming the site when `config[k] >= phys_dims[k]`.
    pub fn product_state(phys_dims: &[usize], config: &[usize]) -> Result<Self> {
        check_phys_dims(phys_dims)?;
        check_config(phys_dims, config, "Mps::product_state")?;
        let tensors = phys_dims
            .iter()
            .zip(config)
            .map(|(&d, &x)| {
                let mut t = Array3::try_from(Tensor::try_zeros(&[1, d, 1])?)?;
                t[[0, x, 0]] = T::one();
                Ok(t)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Mps {
            tensors,
            log_scale: 0.0,
            center: Some(0),
        })
    }

    /// An MPS from its site tensors (`log_scale = 0`, no canonical form).
    ///
    /// The tensors may be [`Array3`]s (stored as they are, in standard layout) or
    /// [`Tensor`]s of order 3 (converted without copying).
    ///
    /// Validated: at least one tensor; every tensor of order 3 with all dimensions
    /// at least 1; the outer bonds of the first and last tensors of size 1; the right
    /// bond of site `k` equal to the left bond of site `k+1`; all entries finite.
    /// Errors name the site and the sizes involved ([`Error::InvalidArgument`],
    /// [`Error::ShapeMismatch`], [`Error::NonFinite`]).
    ///
    /// ```
    /// use ndarray::Array3;
    /// use tnlearn::Mps;
    ///
    /// // |00> + |11> (unnormalised): bond dimension 2.
    /// let mut a = Array3::<f64>::zeros((1, 2, 2));
    /// let mut b = Array3::<f64>::zeros((2, 2, 1));
    /// for s in 0..2 {
    ///     a[[0, s, s]] = 1.0;
    ///     b[[s, s, 0]] = 1.0;
    /// }
    /// let bell = Mps::from_tensors(vec![a, b])?;
    /// assert!((bell.log_norm() - 0.5 * 2f64.ln()).abs() < 1e-12);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn from_tensors<S>(tensors: Vec<S>) -> Result<Self>
    where
        S: IntoSiteTensor<T>,
    {
        Self::from_parts(tensors, 0.0)
    }

    /// An MPS from its site tensors and log scale, validated as in
    /// [`Mps::from_tensors`]; `log_scale` must not be NaN or `+inf` (`-inf` is
    /// allowed and represents the zero state).
    pub fn from_parts<S>(tensors: Vec<S>, log_scale: f64) -> Result<Self>
    where
        S: IntoSiteTensor<T>,
    {
        if tensors.is_empty() {
            return Err(Error::invalid_argument(
                "tensors",
                "an MPS needs at least one site (got an empty chain)",
            ));
        }
        if log_scale.is_nan() || log_scale == f64::INFINITY {
            return Err(Error::invalid_argument(
                "log_scale",
                format!("must be finite or -inf (got {log_scale})"),
            ));
        }
        let tensors = tensors
            .into_iter()
            .enumerate()
            .map(|(k, t)| site_array(k, t))
            .collect::<Result<Vec<_>>>()?;
        let n = tensors.len();
        for (k, t) in tensors.iter().enumerate() {
            let left = (k > 0).then(|| tensors[k - 1].dim().2);
            let right = tensors.get(k + 1).map(|t| t.dim().0);
            check_site(k, n, t, left, right)?;
        }
        Ok(Mps {
            tensors,
            log_scale,
            center: None,
        })
    }

    /// The site tensors and the log scale, consuming the MPS.
    pub fn into_parts(self) -> (Vec<Array3<T>>, f64) {
        (self.tensors, self.log_scale)
    }

    // -------------------------------------------------------------------- accessors

    /// The number of sites `N` (at least 1).
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// The number of sites `N`, as [`Ttn::num_sites`](crate::ttn::Ttn::num_sites)
    /// (the same as [`Mps::len`]).
    pub fn num_sites(&self) -> usize {
        self.tensors.len()
    }

    /// Always `false`: an MPS has at least one site.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// The physical dimensions `d_0, ..., d_{N-1}`.
    pub fn phys_dims(&self) -> Vec<usize> {
        self.tensors.iter().map(|t| t.dim().1).collect()
    }

    /// The `N - 1` internal bond dimensions `D_0, ..., D_{N-2}` (bond `k` joins sites
    /// `k` and `k+1`).
    pub fn bond_dims(&self) -> Vec<usize> {
        self.tensors[..self.len() - 1]
            .iter()
            .map(|t| t.dim().2)
            .collect()
    }

    /// The largest internal bond dimension (1 for a single site).
    pub fn max_bond(&self) -> usize {
        self.bond_dims().into_iter().max().unwrap_or(1)
    }

    /// All site tensors, in order.
    pub fn tensors(&self) -> &[Array3<T>] {
        &self.tensors
    }

    /// Site tensor `k`, of shape `(D_{k-1}, d_k, D_k)`; errors with
    /// [`Error::InvalidArgument`] when `k >= N`.
    pub fn tensor(&self, k: usize) -> Result<&Array3<T>> {
        self.check_site_index(k, "site")?;
        Ok(&self.tensors[k])
    }

    /// The log scale: the state is `exp(log_scale)` times the contraction of the
    /// tensors.
    pub fn log_scale(&self) -> f64 {
        self.log_scale
    }

    /// The orthogonality centre, if a canonical form is known (see [`Mps`]).
    pub fn center(&self) -> Option<usize> {
        self.center
    }

    /// Replaces site tensor `k`, validated as in [`Mps::from_tensors`] (its bonds must
    /// match the neighbouring tensors; the physical dimension may change). Resets
    /// the canonical centre to `None`. `tensor` is an [`Array3`] or an order-3
    /// [`Tensor`], as in [`Mps::from_tensors`].
    pub fn set_tensor<S>(&mut self, k: usize, tensor: S) -> Result<()>
    where
        S: IntoSiteTensor<T>,
    {
        self.check_site_index(k, "site")?;
        let tensor = site_array(k, tensor)?;
        let n = self.len();
        let left = (k > 0).then(|| self.tensors[k - 1].dim().2);
        let right = (k + 1 < n).then(|| self.tensors[k + 1].dim().0);
        check_site(k, n, &tensor, left, right)?;
        self.tensors[k] = tensor;
        self.center = None;
        Ok(())
    }

    /// Replaces the neighbouring site tensors `k` and `k+1` together, so the bond
    /// between them may change size (as in a two-site update); validated as in
    /// [`Mps::from_tensors`]. Resets the canonical centre to `None` (see
    /// [`Mps::replace_bond`] to keep it). The tensors are [`Array3`]s or order-3
    /// [`Tensor`]s, as in [`Mps::from_tensors`].
    pub fn set_tensor_pair<L, R>(&mut self, k: usize, left: L, right: R) -> Result<()>
    where
        L: IntoSiteTensor<T>,
        R: IntoSiteTensor<T>,
    {
        let n = self.len();
        if k >= n.saturating_sub(1) {
            return Err(Error::invalid_argument(
                "site",
                format!("a pair (k, k+1) needs k + 1 < {n} sites (got k = {k})"),
            ));
        }
        let left = site_array(k, left)?;
        let right = site_array(k + 1, right)?;
        let outer_left = (k > 0).then(|| self.tensors[k - 1].dim().2);
        let outer_right = (k + 2 < n).then(|| self.tensors[k + 2].dim().0);
        check_site(k, n, &left, outer_left, Some(right.dim().0))?;
        check_site(k + 1, n, &right, Some(left.dim().2), outer_right)?;
        self.tensors[k] = left;
        self.tensors[k + 1] = right;
        self.center = None;
        Ok(())
    }

    /// Normalises the state to `||psi|| = 1` by adjusting `log_scale` only (tensors
    /// and canonical form are untouched). Returns the previous `ln ||psi||`.
    ///
    /// Errors with [`Error::InvalidArgument`] for the zero state.
    pub fn normalize(&mut self) -> Result<f64> {
        let ln = self.log_norm();
        if !ln.is_finite() {
            return Err(Error::invalid_argument(
                "self",
                format!("cannot normalise a state with ln ||psi|| = {ln}"),
            ));
        }
        self.log_scale -= ln;
        Ok(ln)
    }

    pub(crate) fn check_site_index(&self, k: usize, name: &str) -> Result<()> {
        if k >= self.len() {
            return Err(Error::invalid_argument(
                name,
                format!(
                    "site {k} is out of range for an MPS of {} sites (valid: 0..={})",
                    self.len(),
                    self.len() - 1
                ),
            ));
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------- helpers

/// Site `k` given as anything that converts to an [`Array3`] (an order-3 [`Tensor`],
/// an `Array3`), in standard layout; a conversion error names the site.
fn site_array<T: Scalar, S>(k: usize, t: S) -> Result<Array3<T>>
where
    S: IntoSiteTensor<T>,
{
    let a = t.into_site_tensor().map_err(|e| {
        Error::invalid_argument(
            "tensors",
            format!("site {k}: {e}; MPS site tensors have order 3 (D_left, d, D_right)"),
        )
    })?;
    Ok(if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    })
}

/// Validates one site tensor: non-zero dimensions, boundary bonds of size 1, bonds
/// matching the given neighbour sizes, finite entries.
fn check_site<T: Scalar>(
    k: usize,
    n: usize,
    t: &Array3<T>,
    left_neighbour: Option<usize>,
    right_neighbour: Option<usize>,
) -> Result<()> {
    let (dl, d, dr) = t.dim();
    if d == 0 {
        return Err(Error::invalid_argument(
            "tensors",
            format!("site {k} has physical dimension 0 (shape {:?})", t.shape()),
        ));
    }
    if dl == 0 || dr == 0 {
        return Err(Error::invalid_argument(
            "tensors",
            format!("site {k} has a bond of dimension 0 (shape {:?})", t.shape()),
        ));
    }
    if k == 0 && dl != 1 {
        return Err(Error::shape_mismatch(
            format!(
                "MPS site 0: the left boundary bond must have size 1, but site 0 has shape {:?}",
                t.shape()
            ),
            vec![1],
            vec![dl],
        ));
    }
    if k + 1 == n && dr != 1 {
        return Err(Error::shape_mismatch(
            format!(
                "MPS site {k}: the right boundary bond of the last site must have size 1, \
                 but site {k} has shape {:?}",
                t.shape()
            ),
            vec![1],
            vec![dr],
        ));
    }
    if let Some(l) = left_neighbour {
        if l != dl {
            return Err(Error::shape_mismatch(
                format!(
                    "MPS bond {} between sites {} and {k}: right bond of site {} has size {l} \
                     but left bond of site {k} has size {dl}",
                    k - 1,
                    k - 1,
                    k - 1
                ),
                vec![l],
                vec![dl],
            ));
        }
    }
    if let Some(r) = right_neighbour {
        if r != dr {
            return Err(Error::shape_mismatch(
                format!(
                    "MPS bond {k} between sites {k} and {}: right bond of site {k} has size {dr} \
                     but left bond of site {} has size {r}",
                    k + 1,
                    k + 1
                ),
                vec![dr],
                vec![r],
            ));
        }
    }
    check_finite_site(k, t)
}

/// [`Error::NonFinite`] naming site `k` for a NaN or infinite entry.
pub(crate) fn check_finite_site<T: Scalar>(k: usize, t: &Array3<T>) -> Result<()> {
    check_finite_slice(
        site_slice(t),
        &format!("MPS site {k} tensor (shape {:?})", t.shape()),
    )
}

/// The entries of a site tensor, row-major (site tensors are kept in standard
/// layout).
#[inline]
pub(crate) fn site_slice<T>(t: &Array3<T>) -> &[T] {
    t.as_slice()
        .expect("MPS site tensors are kept in standard layout")
}

/// The Frobenius norm of a site tensor, without overflow.
#[inline]
pub(crate) fn site_norm<T: Scalar>(t: &Array3<T>) -> f64 {
    norm_of(site_slice(t))
}

fn check_phys_dims(phys_dims: &[usize]) -> Result<()> {
    if phys_dims.is_empty() {
        return Err(Error::invalid_argument(
            "phys_dims",
            "an MPS needs at least one site (got an empty list)",
        ));
    }
    if let Some(k) = phys_dims.iter().position(|&d| d == 0) {
        return Err(Error::invalid_argument(
            "phys_dims",
            format!("site {k} has physical dimension 0"),
        ));
    }
    Ok(())
}

/// Checks a basis configuration against the physical dimensions.
fn check_config(phys_dims: &[usize], config: &[usize], context: &str) -> Result<()> {
    if config.len() != phys_dims.len() {
        return Err(Error::shape_mismatch(
            format!(
                "{context}: configuration length {} must equal the number of sites {}",
                config.len(),
                phys_dims.len()
            ),
            vec![phys_dims.len()],
            vec![config.len()],
        ));
    }
    for (k, (&x, &d)) in config.iter().zip(phys_dims).enumerate() {
        if x >= d {
            return Err(Error::invalid_argument(
                "config",
                format!(
                    "{context}: value {x} at site {k} is out of range for physical \
                     dimension {d} (allowed 0..{d})"
                ),
            ));
        }
    }
    Ok(())
}

/// A site tensor viewed as a `rows x cols` matrix (row-major, no copy).
#[inline]
fn mat<T: Scalar>(t: &Array3<T>, rows: usize, cols: usize) -> ArrayView2<'_, T> {
    ArrayView2::from_shape((rows, cols), site_slice(t)).expect("matrix view of a site tensor")
}

/// A matrix (any layout) as a site tensor of the given shape (moves the buffer when
/// the matrix is row-major contiguous).
#[inline]
fn tensor_from_matrix<T: Scalar>(m: Array2<T>, shape: &[usize]) -> Array3<T> {
    let m = if m.is_standard_layout() {
        m
    } else {
        m.as_standard_layout().into_owned()
    };
    m.into_shape_with_order((shape[0], shape[1], shape[2]))
        .expect("element count matches the site shape")
}

/// `a^H b` through GEMM (conjugating a copy of `a` for complex types).
pub(crate) fn adjoint_matmul<T: Scalar>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Array2<T> {
    let mut c = Array2::zeros((a.ncols(), b.ncols()));
    if T::IS_COMPLEX {
        let ac = a.mapv(|x| x.conj());
        crate::linalg::gemm_unchecked(T::one(), ac.t(), b, false, c.view_mut());
    } else {
        crate::linalg::gemm_unchecked(T::one(), a.t(), b, false, c.view_mut());
    }
    c
}

/// `a b` through GEMM.
fn matmul<T: Scalar>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Array2<T> {
    debug_assert_eq!(a.ncols(), b.nrows());
    let mut c = Array2::zeros((a.nrows(), b.ncols()));
    crate::linalg::gemm_unchecked(T::one(), a, b, false, c.view_mut());
    c
}

/// Frobenius norm of a matrix without overflow.
fn matrix_norm<T: Scalar>(m: &ArrayView2<'_, T>) -> f64 {
    let max = m.iter().map(|x| x.abs()).fold(0.0_f64, f64::max);
    if max == 0.0 || !max.is_finite() {
        return max;
    }
    let inv = 1.0 / max;
    let s: f64 = m.iter().map(|x| x.scale(inv).abs2()).sum();
    max * s.sqrt()
}

/// `"d"` when every entry equals the first, else the list (first 8 entries).
pub(crate) fn summarize_dims(dims: &[usize]) -> String {
    match dims.first() {
        Some(&d) if dims.iter().all(|&x| x == d) => format!("{d}"),
        _ if dims.len() <= 8 => format!("{dims:?}"),
        _ => format!("{:?}...", &dims[..8]),
    }
}

impl<T: Scalar> std::fmt::Display for Mps<T> {
    /// A one-line summary: sites, physical dimensions, bonds, parameter count, log
    /// scale and centre.
    ///
    /// ```
    /// let psi = tnlearn::Mps::<f64>::product_state(&[2; 10], &[0; 10])?;
    /// assert_eq!(
    ///     psi.to_string(),
    ///     "MPS of 10 sites (physical dimension 2), max bond 1, 20 parameters, \
    ///      log scale 0, centre at site 0"
    /// );
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params: usize = self.tensors.iter().map(|t| t.len()).sum();
        write!(
            f,
            "MPS of {} sites (physical dimension {}), max bond {}, {params} parameters, \
             log scale {}, ",
            self.len(),
            summarize_dims(&self.phys_dims()),
            self.max_bond(),
            self.log_scale
        )?;
        match self.center {
            Some(c) => write!(f, "centre at site {c}"),
            None => write!(f, "no canonical form"),
        }
    }
}
