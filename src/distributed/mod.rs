//! Data-parallel training across processes: the [`Communicator`] a distributed fit
//! talks through, [`SingleProcess`] (one process, every collective a no-op: what
//! the ordinary fits use) and, with the cargo feature `mpi`, `MpiCommunicator`
//! (MPI through the `mpi` crate, against the system's MPI library).
//!
//! A distributed fit ([`MpsBornMachine::fit_distributed_with`](crate::born::MpsBornMachine::fit_distributed_with))
//! runs the same program on `K` processes ("ranks"). Every rank holds the same
//! model and a contiguous shard of the training samples (rank `r` the `r`-th block
//! of [`Dataset::shard`](crate::Dataset::shard)); the shards in rank order are the
//! training set. The gradient and the NLL are sums of per-sample terms, so each rank
//! computes its part from its shard and one all-reduce ([`Communicator::sum_in_place`])
//! per gradient step gives every rank the full sum; the rest of the step (the
//! update and the SVD split of the merged tensor) is then computed on every rank
//! from identical numbers, so the models stay identical without sending tensors.
//! Minibatches are drawn from the global sample numbering by one generator seeded
//! alike on every rank, so a run does not depend on the number of ranks except
//! through the rounding of the summation order (which a long, ill-conditioned fit
//! amplifies as it amplifies a reordering of the samples on one process).

#[cfg(feature = "mpi")]
mod mpi_comm;

#[cfg(feature = "mpi")]
pub use mpi_comm::MpiCommunicator;

use crate::error::{Error, Result};

/// The collectives a distributed fit needs. Every rank calls the same methods in
/// the same order (each call is a collective: it returns once every rank made it).
///
/// Implementations must give every rank bitwise the same result (the ranks' models
/// evolve in lockstep from it). MPI errors are fatal (the MPI default): the methods
/// do not return errors.
pub trait Communicator {
    /// This process's number, `0..size()`; rank 0 is the one that prints and
    /// writes files.
    fn rank(&self) -> usize;
    /// The number of processes `K`.
    fn size(&self) -> usize;
    /// `values[i] <- sum over ranks r of values_r[i]`, the same result on every rank
    /// (all ranks pass slices of the same length).
    fn sum_in_place(&self, values: &mut [f64]);
    /// Every rank's `value`, in rank order (the same vector on every rank).
    fn all_gather(&self, value: u64) -> Vec<u64>;
    /// Replaces `bytes` on every rank by `root`'s (any length).
    fn broadcast_bytes(&self, root: usize, bytes: &mut Vec<u8>);
}

/// One process: rank 0 of 1; every collective returns its input.
#[derive(Clone, Copy, Debug, Default)]
pub struct SingleProcess;

impl Communicator for SingleProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn sum_in_place(&self, _values: &mut [f64]) {}
    fn all_gather(&self, value: u64) -> Vec<u64> {
        vec![value]
    }
    fn broadcast_bytes(&self, _root: usize, _bytes: &mut Vec<u8>) {}
}

/// Makes a check that each rank ran on its own part collective: if it failed on
/// some rank, every rank returns an error (the failing rank its own, the others one
/// naming the first failing rank and carrying its message), so that no rank goes
/// on to a collective the others never reach.
pub(crate) fn agree<T>(comm: &dyn Communicator, local: Result<T>) -> Result<T> {
    if comm.size() == 1 {
        return local;
    }
    let failed = comm.all_gather(u64::from(local.is_err()));
    let Some(first) = failed.iter().position(|&f| f != 0) else {
        return local;
    };
    let mut message = match &local {
        Err(e) if comm.rank() == first => e.to_string().into_bytes(),
        _ => Vec::new(),
    };
    comm.broadcast_bytes(first, &mut message);
    match local {
        Err(e) => Err(e),
        Ok(_) => Err(Error::invalid_argument(
            format!("rank {first}"),
            format!(
                "the distributed fit stopped on every rank because rank {first} of {} failed: {}",
                comm.size(),
                String::from_utf8_lossy(&message)
            ),
        )),
    }
}

/// Checks that every rank passed the same `fingerprint` (a checksum of what must
/// agree: model, options, settings); `what` says what it covers.
pub(crate) fn check_same(comm: &dyn Communicator, fingerprint: u64, what: &str) -> Result<()> {
    if comm.size() == 1 {
        return Ok(());
    }
    let all = comm.all_gather(fingerprint);
    match all.iter().position(|&f| f != all[0]) {
        None => Ok(()),
        Some(r) => Err(Error::invalid_argument(
            "comm",
            format!(
                "rank {r} of {} differs from rank 0 in {what}: every rank must run the same \
                 program on the same model with the same options",
                comm.size()
            ),
        )),
    }
}

/// Where this rank's shard lies in the global sample numbering: rows
/// `offset..offset + local` of `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShardLayout {
    pub offset: usize,
    pub local: usize,
    pub total: usize,
}

impl ShardLayout {
    /// Gathers every rank's number of samples (`local`, at least 1 on every rank:
    /// checked by the caller) and places this rank's shard after the lower ranks'.
    pub fn gather(comm: &dyn Communicator, local: usize) -> Result<Self> {
        let counts = comm.all_gather(local as u64);
        let to_usize = |c: u64| {
            usize::try_from(c).map_err(|_| {
                Error::invalid_argument("train", format!("{c} samples on one rank overflow usize"))
            })
        };
        let mut offset = 0usize;
        let mut total = 0usize;
        for (r, &c) in counts.iter().enumerate() {
            let c = to_usize(c)?;
            if r == comm.rank() {
                offset = total;
            }
            total = total.checked_add(c).ok_or_else(|| {
                Error::invalid_argument("train", "the total number of samples overflows usize")
            })?;
        }
        Ok(ShardLayout {
            offset,
            local,
            total,
        })
    }

    /// The positions in this shard of the global sample numbers `global` that lie
    /// in it, in their order in `global`.
    pub fn localise(&self, global: &[usize]) -> Vec<usize> {
        global
            .iter()
            .filter(|&&i| i >= self.offset && i < self.offset + self.local)
            .map(|&i| i - self.offset)
            .collect()
    }
}

/// A CRC-32 of `bytes` pieces, as a `u64` for [`Communicator::all_gather`].
pub(crate) fn fingerprint<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut h = crc32fast::Hasher::new();
    for p in pieces {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    u64::from(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_process_collectives_are_identities() {
        let c = SingleProcess;
        let mut v = [1.5, -2.0];
        c.sum_in_place(&mut v);
        assert_eq!(v, [1.5, -2.0]);
        assert_eq!(c.all_gather(7), vec![7]);
        let layout = ShardLayout::gather(&c, 5).unwrap();
        assert_eq!(
            layout,
            ShardLayout {
                offset: 0,
                local: 5,
                total: 5
            }
        );
        assert_eq!(layout.localise(&[4, 0, 9]), vec![4, 0]);
        assert!(agree(&c, Err::<(), _>(Error::invalid_argument("x", "y"))).is_err());
        assert!(check_same(&c, 1, "the model").is_ok());
    }
}
