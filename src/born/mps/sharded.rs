//! The MPS sweep's view of a distributed fit: this rank's [`Shard`] of the
//! training samples and the reductions the sweep calls at a few points (see
//! [`crate::distributed`]). With [`SingleProcess`](crate::distributed::SingleProcess)
//! every reduction is the arithmetic of the single-process fit, bit for bit.

use ndarray::{Array4, ArrayView1};

use super::environments::{Env, GradientScratch};
use super::MpsBornMachine;
use crate::born::validation::Validation;
use crate::distributed::{agree, check_same, fingerprint, Communicator, ShardLayout};
use crate::error::Result;
use crate::linalg::sum_sq;

/// This rank's part of the training set and the communicator of the fit.
pub(crate) struct Shard<'c> {
    pub comm: &'c dyn Communicator,
    pub layout: ShardLayout,
}

impl<'c> Shard<'c> {
    /// Collective start of a fit: `local` is this rank's result of the fit's own
    /// checks ([`agree`]d across ranks); then every rank must hold the same model,
    /// options and validation settings (a checksum is compared), and the shards are
    /// laid out in rank order.
    pub fn start<T>(
        comm: &'c dyn Communicator,
        local: Result<T>,
        model: &MpsBornMachine,
        validation: Option<Validation<'_>>,
        n_local: usize,
    ) -> Result<(T, Self)> {
        let value = agree(comm, local)?;
        if comm.size() > 1 {
            let settings = format!(
                "{:?} {} {:?}",
                model.options,
                model.num_states,
                validation.map(|v| v.patience)
            );
            let fp = fingerprint(
                std::iter::once(settings.as_bytes())
                    .chain(std::iter::once(&model_fingerprint(model).to_le_bytes()[..])),
            );
            check_same(comm, fp, "its model, options or validation settings")?;
        }
        let layout = ShardLayout::gather(comm, n_local)?;
        Ok((value, Shard { comm, layout }))
    }

    /// The NLL gradient `dL/dB` of the batch whose part on this rank is `batch`
    /// (local positions) and whose size over all ranks is `total`, written into
    /// `grad`: each rank's data term, one all-reduce, then the `2B/Z` term (see
    /// [`two_site_gradient`](super::environments::two_site_gradient)). On one rank,
    /// exactly the single-process gradient.
    pub fn gradient(
        &self,
        scratch: &mut GradientScratch,
        b: &Array4<f64>,
        envs: (&Env, &Env),
        columns: (ArrayView1<'_, u8>, ArrayView1<'_, u8>),
        (batch, total): (&[usize], usize),
        grad: &mut Array4<f64>,
    ) {
        if self.comm.size() == 1 {
            scratch.gradient(b, envs.0, envs.1, columns.0, columns.1, batch, grad);
            return;
        }
        grad.fill(0.0);
        scratch.add_data_term(b, envs, columns, batch, -2.0 / total as f64, grad);
        self.comm.sum_in_place(
            grad.as_slice_mut()
                .expect("the gradient buffer is contiguous"),
        );
        let scale = 2.0 / sum_sq(b.as_slice().expect("merged tensor is contiguous"));
        grad.zip_mut_with(b, |g, &v| *g += scale * v);
    }

    /// `-(sum over ranks of sum(values)) / (total count)`: the mean NLL from
    /// per-sample terms `values` (`ln p`) spread over the ranks.
    pub fn negative_mean(&self, values: impl Iterator<Item = f64>, count: usize) -> f64 {
        let mut s = [values.sum::<f64>(), count as f64];
        self.comm.sum_in_place(&mut s);
        -s[0] / s[1]
    }

    /// Whether any rank's observer asked to stop (every rank stops together).
    pub fn any(&self, stop: bool) -> bool {
        if self.comm.size() == 1 {
            return stop;
        }
        self.comm.all_gather(u64::from(stop)).contains(&1)
    }

    /// After a half-sweep: an error on every rank if the ranks' models differ (they
    /// evolve in lockstep from identical sums; different arithmetic would break it).
    pub fn check_models_agree(&self, model: &MpsBornMachine) -> Result<()> {
        if self.comm.size() == 1 {
            return Ok(());
        }
        check_same(
            self.comm,
            model_fingerprint(model),
            "the model after a half-sweep (the ranks computed differently: run the same \
             build with the same RAYON_NUM_THREADS on every rank)",
        )
    }
}

/// A checksum of the tensors (shapes and bits), streamed (no copy of the model).
fn model_fingerprint(model: &MpsBornMachine) -> u64 {
    let mut h = crc32fast::Hasher::new();
    for a in &model.mps.tensors {
        for &s in a.shape() {
            h.update(&(s as u64).to_le_bytes());
        }
        for v in a.iter() {
            h.update(&v.to_le_bytes());
        }
    }
    u64::from(h.finalize())
}
