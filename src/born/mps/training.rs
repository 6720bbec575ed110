//! Learning: two-site gradient sweeps ([`BornMachine::fit`](crate::born::BornMachine::fit)).
//!
//! # Memory
//! Per-sample environments take `n_samples * D * 8` bytes per stored site (`D` the
//! bond dimension there, plus `8 n_samples` bytes of log scales). They are kept at
//! checkpoints only when they would not fit comfortably (see
//! [`BornOptions::checkpoint_spacing`](crate::born::BornOptions::checkpoint_spacing) and
//! the `checkpoints` module): with spacing `c`, about `N/c + c` environments are
//! held instead of `N`.

use std::time::Instant;

use ndarray::{Array2, Array4};
use rand::rngs::StdRng;

use super::checkpoints::EnvStore;
use super::environments::{advance_left, advance_right, two_site_gradient, Env, GradientScratch};
use super::sharded::Shard;
use super::MpsBornMachine;
use crate::born::observer::{HalfSweepReport, SweepDirection};
use crate::born::step::{gradient_step, start_fit};
use crate::born::validation::{BestModel, Validation};
use crate::data::Dataset;
use crate::distributed::{Communicator, SingleProcess};
use crate::error::{Error, Result};
use crate::fit::{FitControl, FitObserver};
use crate::linalg::{matmul, range_truncated, sum_sq};
use crate::mps::canonical::{site_from_matrix, site_matrix};

impl MpsBornMachine {
    /// Trains on `train` by two-site gradient sweeps (Han et al. 2018), calling
    /// `observer` after every half-sweep; it may stop training early.
    ///
    /// One sweep is a left-to-right half-sweep over the bonds `(k, k+1)`,
    /// `k = 0..N-2`, then a right-to-left one back; at every bond:
    ///
    /// 1. merge `B = A_k A_{k+1}` (shape `(D_{k-1}, d, d, D_{k+1})`; the centre is on
    ///    the bond, so `Z = ||B||^2`);
    /// 2. `steps_per_bond` times: a step against the gradient (`B <- B - eta dL/dB`,
    ///    or normalised: see [`StepRule`](crate::born::StepRule)) on a batch (all samples,
    ///    or `batch_size` drawn without replacement), with
    ///    `dL/dB = 2B/Z - (2/|T|) sum_x (l_x (x) e_{x_k} (x) e_{x_{k+1}} (x) r_x)/psi(x)`
    ///    computed as one GEMM `L_g^T diag(1/psi) R_g` per group
    ///    `g = (x_k, x_{k+1})`; then `B <- B / ||B||`. Safeguard of the plain rule:
    ///    a step `eta ||dL/dB||` longer than `||B|| = 1` is shortened to length 1
    ///    (this only happens with minibatches holding a sample of tiny `psi(x)`, or
    ///    with a far too large learning rate);
    /// 3. split `B` by an SVD truncated with `options.truncation` (adaptive bond),
    ///    absorbing `S` into the tensor in the sweep direction (the centre moves);
    /// 4. update the per-sample environment across the bond by `d` GEMMs.
    ///
    /// Samples with `psi(x) = 0` are skipped in the gradient (their term is
    /// undefined); the reported NLL is then `+inf`. When training ends or is stopped,
    /// the centre is moved back to site 0.
    ///
    /// # Memory
    /// The per-sample environments (unit rows plus one log scale per sample) take
    /// `n_samples * D_k * 8` bytes for each site `k` they are kept for. With the
    /// checkpoint spacing `c` of [`BornOptions::checkpoint_spacing`](crate::born::BornOptions::checkpoint_spacing) (automatic by
    /// default: every site while `n_samples * N * max_bond * 8` bytes fit in 2 GiB,
    /// else `c = ceil(sqrt(N))`) only every `c`-th site's environments are kept
    /// and the ones in between are rebuilt when the sweep reaches them: about
    /// `N/c + c` environments, for one extra environment pass per half-sweep. The
    /// result does not depend on `c`. Every [`HalfSweepReport`] gives the peak
    /// bytes held (`env_bytes`). 60,000 MNIST images at `D = 100`: about 2.7 GB
    /// with `c = 28` instead of 38 GB.
    ///
    /// With a validation set ([`Validation`]), early stopping: after every
    /// half-sweep the validation NLL is computed and the
    /// tensors of the best model so far are copied; training stops after
    /// `patience` half-sweeps without a new best, and the best model is put back
    /// (then canonicalised about site 0, as at the end of every fit). With `None`,
    /// every sweep of `options.sweeps` runs (unless the observer stops it). [`BornMachine::fit_with`](crate::born::BornMachine::fit_with)
    /// and `fit` call this with `None`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid options (naming the setting), an empty
    /// data set, wrong number of sites, or a value `>= d` (naming sample and site),
    /// before any work; linear-algebra failures ([`Error::NoConvergence`],
    /// [`Error::NonFinite`] e.g. after a divergent learning rate) during training.
    /// Also [`Error::InvalidArgument`] naming
    /// `validation` (sample and site) for a validation set of another number of
    /// sites or a value `>= d`, or naming `patience` for a patience of 0.
    pub fn fit_validated_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
        &mut self,
        train: &Dataset,
        validation: Option<Validation<'_>>,
        observer: &mut O,
    ) -> Result<Vec<HalfSweepReport>> {
        self.fit_distributed_with(train, validation, &SingleProcess, observer)
    }

    /// [`MpsBornMachine::fit_validated_with`], data-parallel over the ranks of
    /// `comm` (see [`crate::distributed`]): run the same program on every rank, with
    /// the same model and options, each rank passing its shard of the training set
    /// (and of the validation set, if any), e.g. [`Dataset::shard`]`(rank, size)`;
    /// the shards in rank order are the training (validation) set.
    ///
    /// Per gradient step, each rank computes the data term of `dL/dB` over its
    /// samples of the batch and one all-reduce of `D_{k-1} d^2 D_{k+1}` numbers sums
    /// them; the step and the split are then computed on every rank from the same
    /// numbers (no tensor is sent). Minibatches are drawn from the global sample
    /// numbering by one generator seeded alike on every rank, so the run does not
    /// depend on the number of ranks: the fits on 1 and `K` ranks differ only in the
    /// rounding of the summation order (equal to 1e-12 on a small, well-conditioned
    /// problem, tested under `mpirun`; on MNIST training amplifies rounding, as a
    /// reordering of the samples does on one process: see `docs/benchmarks.md`). The
    /// training and validation NLL are reduced the same way; every rank gets the
    /// same reports and the same model, and calls its `observer` (print and write
    /// files on rank 0 only); the fit stops on every rank if any rank's observer
    /// returns [`FitControl::Stop`]. Each rank holds only its shard's environments
    /// (`env_bytes` is this rank's).
    ///
    /// With [`SingleProcess`] this is exactly `fit_validated_with`.
    ///
    /// # Errors
    /// Those of [`MpsBornMachine::fit_validated_with`], on every rank when any rank
    /// fails its checks (e.g. an empty shard: more ranks than samples): that rank
    /// returns its own error, the others one naming it and carrying its message.
    /// [`Error::InvalidArgument`] naming `comm` if the ranks' models, options or
    /// validation settings differ at the start, or their models after a half-sweep.
    pub fn fit_distributed_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
        &mut self,
        train: &Dataset,
        validation: Option<Validation<'_>>,
        comm: &dyn Communicator,
        observer: &mut O,
    ) -> Result<Vec<HalfSweepReport>> {
        let nsites = self.num_sites();
        let local = start_fit(&self.options, train, validation, nsites, self.num_states);
        let (mut rng, shard) = Shard::start(comm, local, self, validation, train.len())?;
        let x = train.samples();
        let n = x.nrows();
        let opts = self.options;
        let mut reports = Vec::new();
        let mut best = BestModel::new(validation);
        self.move_center(0)?;

        let spacing = opts.checkpoint_spacing(n, nsites);
        let mut store = EnvStore::new(&self.mps.tensors, x, spacing);
        let mut work = BondWork::new(n);
        let total = 2 * opts.sweeps as u64 * (nsites as u64 - 1);
        let mut done = 0u64;

        'outer: for sweep in 1..=opts.sweeps {
            for direction in [SweepDirection::LeftToRight, SweepDirection::RightToLeft] {
                let start = Instant::now();
                store.drop_ends();
                store.reset_peak();
                let mut trunc_err: f64 = 0.0;
                let bonds: Vec<usize> = match direction {
                    SweepDirection::LeftToRight => (0..nsites - 1).collect(),
                    SweepDirection::RightToLeft => (0..nsites - 1).rev().collect(),
                };
                for k in bonds {
                    let (left, right) = store.pair(k, &self.mps.tensors, x);
                    let b = self.merged(k);
                    let b = self.descend(b, left, right, train, k, &mut rng, &mut work, &shard)?;
                    trunc_err = trunc_err.max(self.split(k, b, direction)?);
                    match direction {
                        SweepDirection::LeftToRight => {
                            store.advance_left_past(k, &self.mps.tensors, x);
                        }
                        SweepDirection::RightToLeft => {
                            store.advance_right_past(k, &self.mps.tensors, x);
                        }
                    }
                    done += 1;
                    observer.on_progress(done, total);
                }
                // Exact training NLL from the environments next to the centre.
                let (env, site) = match direction {
                    SweepDirection::LeftToRight => (store.stored_left(nsites - 1), nsites - 1),
                    SweepDirection::RightToLeft => (store.stored_right(0), 0),
                };
                let env = env.expect("environment next to the centre");
                let last = match direction {
                    SweepDirection::LeftToRight => {
                        advance_left(env, &self.mps.tensors[site], x.column(site))
                    }
                    SweepDirection::RightToLeft => {
                        advance_right(env, &self.mps.tensors[site], x.column(site))
                    }
                };
                let lz = self.log_z();
                let train_nll = shard.negative_mean(last.logs.iter().map(|&l| 2.0 * l - lz), n);
                let mut report = HalfSweepReport {
                    sweep,
                    direction,
                    train_nll,
                    max_bond: self.max_bond(),
                    truncation_error: trunc_err,
                    seconds: start.elapsed().as_secs_f64(),
                    env_bytes: store.peak_bytes(),
                    valid_nll: None,
                    best_half_sweep: None,
                };
                let patience_exhausted = best.after_half_sweep_nll(
                    &mut report,
                    |v| {
                        shard.negative_mean(
                            self.log_probs_unchecked(v.samples()).into_iter(),
                            v.len(),
                        )
                    },
                    || self.mps.clone(),
                );
                shard.check_models_agree(self)?;
                reports.push(report);
                // After a left-to-right half the centre is at N-1; every method of
                // the model handles any centre (sampling works on a moved copy).
                let control = observer.on_report(&report, self);
                if shard.any(control == FitControl::Stop) || patience_exhausted {
                    break 'outer;
                }
            }
        }
        if let Some(mps) = best.into_best() {
            self.mps = mps;
        }
        self.move_center(0)?;
        Ok(reports)
    }

    /// `B = A_k A_{k+1}`, shape `(D_{k-1}, d, d, D_{k+1})`.
    fn merged(&self, k: usize) -> Array4<f64> {
        let (dl, d, dm) = self.mps.tensors[k].dim();
        let (_, d2, dr) = self.mps.tensors[k + 1].dim();
        let m = matmul(
            site_matrix(&self.mps.tensors[k], dl * d, dm),
            site_matrix(&self.mps.tensors[k + 1], dm, d2 * dr),
        )
        .expect("bond dimensions chain");
        m.into_shape_with_order((dl, d, d2, dr))
            .expect("sizes match")
    }

    /// `steps_per_bond` normalised gradient steps on the merged tensor; minibatches
    /// are drawn from all ranks' samples, this rank uses its part of each.
    #[allow(clippy::too_many_arguments)]
    fn descend(
        &self,
        mut b: Array4<f64>,
        left: &Env,
        right: &Env,
        train: &Dataset,
        k: usize,
        rng: &mut StdRng,
        work: &mut BondWork,
        shard: &Shard<'_>,
    ) -> Result<Array4<f64>> {
        let x = train.samples();
        let n = shard.layout.total;
        if work.grad.dim() != b.dim() {
            work.grad = Array4::zeros(b.dim());
        }
        for _ in 0..self.options.steps_per_bond {
            let drawn;
            let (batch, total): (&[usize], usize) = match self.options.batch_size {
                Some(m) if m < n => {
                    drawn = shard
                        .layout
                        .localise(&rand::seq::index::sample(rng, n, m).into_vec());
                    (&drawn, m)
                }
                _ => (&work.all, n),
            };
            shard.gradient(
                &mut work.scratch,
                &b,
                (left, right),
                (x.column(k), x.column(k + 1)),
                (batch, total),
                &mut work.grad,
            );
            gradient_step(&mut b, &work.grad, &self.options, || {
                format!("two-site tensor on bond ({k}, {})", k + 1)
            })?;
        }
        Ok(b)
    }

    /// Splits `B` on bond `k`, moving the centre in the sweep direction; returns the
    /// relative discarded weight.
    ///
    /// The orthonormal factor is the dominant singular subspace of `B` (reshaped to
    /// `(D_{k-1} d) x (d D_{k+1})`) on the side the sweep leaves behind, found by
    /// [`range_truncated`] (Gram matrix and symmetric eigensolver: about half the
    /// cost of an SVD, with the same truncation and the same error); the other
    /// factor is the projection of `B` on it, normalised, and becomes the centre.
    fn split(&mut self, k: usize, b: Array4<f64>, direction: SweepDirection) -> Result<f64> {
        let (dl, d, d2, dr) = b.dim();
        let m = b
            .into_shape_with_order((dl * d, d2 * dr))
            .expect("sizes match");
        let trunc = &self.options.truncation;
        let normalised = |c: Array2<f64>| {
            let nrm = c
                .as_slice_memory_order()
                .map_or_else(|| c.iter().map(|v| v * v).sum(), sum_sq)
                .sqrt();
            if nrm > 0.0 {
                c / nrm
            } else {
                c
            }
        };
        let err = match direction {
            SweepDirection::LeftToRight => {
                let t = range_truncated(m.view(), trunc)?;
                let r = t.rank();
                self.mps.replace_bond_trusted(
                    k,
                    site_from_matrix(t.basis, (dl, d, r)),
                    site_from_matrix(normalised(t.coeffs), (r, d2, dr)),
                    k + 1,
                );
                t.truncation_error
            }
            SweepDirection::RightToLeft => {
                let t = range_truncated(m.t(), trunc)?;
                let r = t.rank();
                let left = normalised(t.coeffs.reversed_axes());
                let right = t.basis.reversed_axes();
                self.mps.replace_bond_trusted(
                    k,
                    site_from_matrix(left, (dl, d, r)),
                    site_from_matrix(right, (r, d2, dr)),
                    k,
                );
                t.truncation_error
            }
        };
        Ok(err)
    }

    /// Test hook: moves the centre to site `k` and returns the merged tensor
    /// `B = A_k A_{k+1}` and the full-batch NLL gradient `dL/dB` on `data` (the
    /// formula of [`MpsBornMachine::fit_validated_with`]), both of shape
    /// `(D_{k-1}, d, d, D_{k+1})`.
    #[doc(hidden)]
    pub fn two_site_gradient(
        &mut self,
        data: &Dataset,
        k: usize,
    ) -> Result<(Array4<f64>, Array4<f64>)> {
        self.check_dataset(data, "data")?;
        if k + 1 >= self.num_sites() {
            return Err(Error::invalid_argument(
                "k",
                format!("bond ({k}, {}) does not exist", k + 1),
            ));
        }
        let x = data.samples();
        let n = x.nrows();
        self.move_center(k)?;
        let mut left = Env::boundary(n);
        for j in 0..k {
            left = advance_left(&left, &self.mps.tensors[j], x.column(j));
        }
        let mut right = Env::boundary(n);
        for j in (k + 2..self.num_sites()).rev() {
            right = advance_right(&right, &self.mps.tensors[j], x.column(j));
        }
        let b = self.merged(k);
        let all: Vec<usize> = (0..n).collect();
        let (g, _) = two_site_gradient(&b, &left, &right, x.column(k), x.column(k + 1), &all);
        Ok((b, g))
    }
}

/// What a sweep reuses from bond to bond: the gradient buffer (shape of the last
/// merged tensor), the gradient's scratch buffers and the full-batch index list.
struct BondWork {
    grad: Array4<f64>,
    scratch: GradientScratch,
    all: Vec<usize>,
}

impl BondWork {
    fn new(n: usize) -> Self {
        BondWork {
            grad: Array4::zeros((0, 0, 0, 0)),
            scratch: GradientScratch::default(),
            all: (0..n).collect(),
        }
    }
}
