//! Accumulated connected correlations across one blocking step, and the linearised
//! RG matrix `T = A^{-1} B` with its leading eigenvalue.

use faer::Mat;

use crate::error::{Error, Result};

/// Running sums for Swendsen's MCRG over one blocking step: with `S^(0)` the operator
/// lattice sums on the fine lattice and `S^(1)` those on the blocked lattice,
///
/// ```text
/// A_ab = <S^(1)_a S^(1)_b> - <S^(1)_a><S^(1)_b>
/// B_ab = <S^(1)_a S^(0)_b> - <S^(1)_a><S^(0)_b>
/// ```
///
/// (`B_ab = d<S^(1)_a>/dK^(0)_b = sum_c A_ac dK^(1)_c/dK^(0)_b`, so `T = A^{-1} B`).
/// Values are accumulated about the first sample (a shift that keeps the connected
/// parts free of cancellation). Two accumulators of the same size [`merge`](Self::merge).
#[derive(Clone, Debug, PartialEq)]
pub struct Correlations {
    n_ops: usize,
    count: u64,
    shift_fine: Vec<f64>,
    shift_coarse: Vec<f64>,
    sum_fine: Vec<f64>,
    sum_coarse: Vec<f64>,
    /// `sum (S1 - shift)(S1 - shift)^T`, row-major `n_ops x n_ops`.
    sum_cc: Vec<f64>,
    /// `sum (S1 - shift)(S0 - shift)^T`.
    sum_cf: Vec<f64>,
}

/// Largest number of operators of a [`Correlations`] (its matrices are `n x n`).
pub const MAX_OPERATORS: usize = 1024;

/// Largest magnitude of a lattice sum relative to the first sample that
/// [`Correlations::push`] accepts: products of two stay far below `f64::MAX`.
pub const MAX_LATTICE_SUM: f64 = 1e150;

impl Correlations {
    /// An empty accumulator for `n_ops` operators.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `n_ops` if it is 0 or above [`MAX_OPERATORS`].
    pub fn new(n_ops: usize) -> Result<Self> {
        if !(1..=MAX_OPERATORS).contains(&n_ops) {
            return Err(Error::invalid_argument(
                "n_ops",
                format!("must be in 1..={MAX_OPERATORS} (got {n_ops})"),
            ));
        }
        Ok(Correlations {
            n_ops,
            count: 0,
            shift_fine: Vec::new(),
            shift_coarse: Vec::new(),
            sum_fine: vec![0.0; n_ops],
            sum_coarse: vec![0.0; n_ops],
            sum_cc: vec![0.0; n_ops * n_ops],
            sum_cf: vec![0.0; n_ops * n_ops],
        })
    }

    /// The number of samples accumulated.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The number of operators.
    pub fn n_ops(&self) -> usize {
        self.n_ops
    }

    /// Adds one sample: the lattice sums on the fine (`S^(0)`) and blocked (`S^(1)`)
    /// configuration.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if a slice does not have `n_ops` entries;
    /// [`Error::InvalidArgument`] naming the slice and operator if a value is not
    /// finite or differs from the first sample's by more than [`MAX_LATTICE_SUM`]
    /// (the accumulator is left unchanged).
    pub fn push(&mut self, fine: &[f64], coarse: &[f64]) -> Result<()> {
        let n = self.n_ops;
        if fine.len() != n || coarse.len() != n {
            return Err(Error::shape_mismatch(
                "Correlations::push (fine and coarse lattice sums, one per operator)",
                [n, n],
                [fine.len(), coarse.len()],
            ));
        }
        for (name, values, shift) in [
            ("fine", fine, &self.shift_fine),
            ("coarse", coarse, &self.shift_coarse),
        ] {
            for (a, &v) in values.iter().enumerate() {
                let d = shift.get(a).map_or(0.0, |s| v - s);
                if !v.is_finite() || d.abs() > MAX_LATTICE_SUM || v.abs() > MAX_LATTICE_SUM {
                    return Err(Error::invalid_argument(
                        name,
                        format!(
                            "lattice sum of operator {a} is {v}: it must be finite and at most \
                             {MAX_LATTICE_SUM:e} in magnitude"
                        ),
                    ));
                }
            }
        }
        if self.count == 0 && self.shift_fine.is_empty() {
            self.shift_fine = fine.to_vec();
            self.shift_coarse = coarse.to_vec();
        }
        let f: Vec<f64> = fine
            .iter()
            .zip(&self.shift_fine)
            .map(|(a, b)| a - b)
            .collect();
        let c: Vec<f64> = coarse
            .iter()
            .zip(&self.shift_coarse)
            .map(|(a, b)| a - b)
            .collect();
        for a in 0..n {
            self.sum_fine[a] += f[a];
            self.sum_coarse[a] += c[a];
            for b in 0..n {
                self.sum_cc[a * n + b] += c[a] * c[b];
                self.sum_cf[a * n + b] += c[a] * f[b];
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Adds the samples of `other` (any shift).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the numbers of operators differ.
    pub fn merge(&mut self, other: &Correlations) -> Result<()> {
        let n = self.n_ops;
        if other.n_ops != n {
            return Err(Error::shape_mismatch(
                "Correlations::merge (number of operators)",
                [n],
                [other.n_ops],
            ));
        }
        if other.count == 0 {
            return Ok(());
        }
        if self.count == 0 {
            *self = other.clone();
            return Ok(());
        }
        // Re-express other's sums about self's shift: x - s = (x - s') + d, d = s' - s.
        let m = other.count as f64;
        let df: Vec<f64> = (0..n)
            .map(|a| other.shift_fine[a] - self.shift_fine[a])
            .collect();
        let dc: Vec<f64> = (0..n)
            .map(|a| other.shift_coarse[a] - self.shift_coarse[a])
            .collect();
        for a in 0..n {
            for b in 0..n {
                self.sum_cc[a * n + b] += other.sum_cc[a * n + b]
                    + other.sum_coarse[a] * dc[b]
                    + dc[a] * other.sum_coarse[b]
                    + m * dc[a] * dc[b];
                self.sum_cf[a * n + b] += other.sum_cf[a * n + b]
                    + other.sum_coarse[a] * df[b]
                    + dc[a] * other.sum_fine[b]
                    + m * dc[a] * df[b];
            }
        }
        for a in 0..n {
            self.sum_fine[a] += other.sum_fine[a] + m * df[a];
            self.sum_coarse[a] += other.sum_coarse[a] + m * dc[a];
        }
        self.count += other.count;
        Ok(())
    }

    /// The connected matrices `(A, B)` restricted to the first `k` operators,
    /// row-major `k x k`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `k` is 0 or above `n_ops`, or fewer than `k + 1`
    /// samples were accumulated (a `k x k` covariance of fewer samples is singular).
    pub fn matrices(&self, k: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = self.n_ops;
        if k == 0 || k > n {
            return Err(Error::invalid_argument(
                "couplings",
                format!("must be in 1..={n}, got {k}"),
            ));
        }
        if self.count <= k as u64 {
            return Err(Error::invalid_argument(
                "samples",
                format!(
                    "connected correlations of {k} operators need at least {} samples, got {}",
                    k + 1,
                    self.count
                ),
            ));
        }
        let m = self.count as f64;
        let mut a = vec![0.0; k * k];
        let mut b = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..k {
                let mc = self.sum_coarse[i] / m;
                a[i * k + j] = self.sum_cc[i * n + j] / m - mc * self.sum_coarse[j] / m;
                b[i * k + j] = self.sum_cf[i * n + j] / m - mc * self.sum_fine[j] / m;
            }
        }
        Ok((a, b))
    }

    /// The eigenvalues of `T = A^{-1} B` for the first `k` operators, sorted by
    /// decreasing real part.
    ///
    /// Numerics: `A` is a covariance matrix (symmetric positive definite) but `B` is
    /// not symmetric, so this is a non-symmetric eigenproblem. With
    /// `D = diag(A)^{1/2}` and the Cholesky factor `D^{-1} A D^{-1} = L L^T`,
    /// `T` is similar to `M = L^{-1} D^{-1} B D^{-1} L^{-T}`, a well-scaled matrix
    /// whose eigenvalues are computed by faer's Hessenberg-QR (`Mat::eigenvalues`);
    /// no explicit inverse is formed.
    ///
    /// # Errors
    /// As [`matrices`](Self::matrices); [`Error::NoConvergence`] if `A` is not
    /// positive definite (e.g. an operator that never fluctuates) or the eigenvalue
    /// iteration fails.
    pub fn rg_eigenvalues(&self, k: usize) -> Result<Vec<num_complex::Complex64>> {
        let (a, b) = self.matrices(k)?;
        let not_pd = |detail: String| Error::NoConvergence {
            routine: "MCRG Cholesky of A".into(),
            detail,
        };
        let d: Vec<f64> = (0..k).map(|i| a[i * k + i].sqrt()).collect();
        if let Some(i) = d.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(not_pd(format!(
                "operator {i} has variance {} on the blocked lattice",
                a[i * k + i]
            )));
        }
        let a_s = Mat::<f64>::from_fn(k, k, |i, j| a[i * k + j] / (d[i] * d[j]));
        let b_s = Mat::<f64>::from_fn(k, k, |i, j| b[i * k + j] / (d[i] * d[j]));
        let chol = cholesky(&a_s).ok_or_else(|| {
            not_pd(format!(
                "the {k} x {k} correlation matrix of the blocked operators is singular"
            ))
        })?;
        // M = L^{-1} B L^{-T}: solve L X = B, then L Y = X^T, M = Y^T.
        let x = forward_solve(&chol, &b_s);
        let y = forward_solve(&chol, &x.transpose().to_owned());
        let m = y.transpose().to_owned();
        let mut eig = m.eigenvalues().map_err(|e| Error::NoConvergence {
            routine: "MCRG eigenvalues of T".into(),
            detail: format!("{e:?}"),
        })?;
        if let Some(z) = eig.iter().find(|z| !(z.re.is_finite() && z.im.is_finite())) {
            return Err(Error::NoConvergence {
                routine: "MCRG eigenvalues of T".into(),
                detail: format!(
                    "eigenvalue {z} of T is not finite: A is numerically singular (too few \
                     samples or an operator that barely fluctuates)"
                ),
            });
        }
        eig.sort_by(|p, q| q.re.total_cmp(&p.re));
        Ok(eig
            .into_iter()
            .map(|z| num_complex::Complex64::new(z.re, z.im))
            .collect())
    }

    /// The thermal exponent `y_t = ln(lambda_max) / ln b` from the first `k`
    /// operators, with `lambda_max` the eigenvalue of `T` with the largest real part.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `b` if `b < 2` (`ln b` must be positive); as
    /// [`rg_eigenvalues`](Self::rg_eigenvalues); [`Error::NoConvergence`] if the
    /// leading eigenvalue is not positive and real (too few samples).
    pub fn thermal_exponent(&self, k: usize, b: usize) -> Result<f64> {
        if b < 2 {
            return Err(Error::invalid_argument(
                "b",
                format!("the scale factor must be at least 2 (got {b})"),
            ));
        }
        let eig = self.rg_eigenvalues(k)?;
        let top = eig[0];
        if top.re <= 0.0 || top.im.abs() > 1e-8 * top.re.abs() {
            return Err(Error::NoConvergence {
                routine: "MCRG".into(),
                detail: format!("leading eigenvalue of T is {top}, not real and positive"),
            });
        }
        Ok(top.re.ln() / (b as f64).ln())
    }
}

/// Lower Cholesky factor of a small symmetric positive-definite matrix.
fn cholesky(a: &Mat<f64>) -> Option<Mat<f64>> {
    let n = a.nrows();
    let mut l = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        let mut diag = a[(j, j)];
        for p in 0..j {
            diag -= l[(j, p)] * l[(j, p)];
        }
        // `a` has unit diagonal: a pivot at rounding level means a singular `A`.
        if diag.is_nan() || diag <= n as f64 * f64::EPSILON {
            return None;
        }
        l[(j, j)] = diag.sqrt();
        for i in j + 1..n {
            let mut v = a[(i, j)];
            for p in 0..j {
                v -= l[(i, p)] * l[(j, p)];
            }
            l[(i, j)] = v / l[(j, j)];
        }
    }
    Some(l)
}

/// `L^{-1} B` for lower-triangular `L`, by forward substitution column by column.
fn forward_solve(l: &Mat<f64>, b: &Mat<f64>) -> Mat<f64> {
    let n = l.nrows();
    let mut x = b.clone();
    for c in 0..b.ncols() {
        for i in 0..n {
            let mut v = x[(i, c)];
            for p in 0..i {
                v -= l[(i, p)] * x[(p, c)];
            }
            x[(i, c)] = v / l[(i, i)];
        }
    }
    x
}
