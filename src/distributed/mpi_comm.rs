//! [`MpiCommunicator`]: the [`Communicator`] over MPI (the `mpi` crate, rsmpi).

use mpi::collective::{CommunicatorCollectives, Root, SystemOperation};
use mpi::environment::Universe;
use mpi::topology::{Communicator as _, SimpleCommunicator};

use super::Communicator;
use crate::error::{Error, Result};

/// Elements per MPI call (MPI counts are `i32`).
const CHUNK: usize = 1 << 28;

/// A [`Communicator`] over an MPI communicator: `MPI_Allreduce` (sum),
/// `MPI_Allgather` and `MPI_Bcast`.
///
/// [`MpiCommunicator::init`] initialises MPI and finalises it when dropped (keep
/// the value alive until the program's MPI work is done); [`MpiCommunicator::new`]
/// wraps a communicator of an MPI environment the caller manages.
///
/// Sums are `MPI_Allreduce` with `MPI_SUM`. The MPI standard recommends, and Open
/// MPI's and MPICH's algorithms give, the same result on every rank; the distributed
/// fit also compares a checksum of the model across ranks after every half-sweep
/// and returns an error should they ever differ.
///
/// ```no_run
/// use tnlearn::distributed::{Communicator, MpiCommunicator};
///
/// let comm = MpiCommunicator::init()?; // under `mpirun -n K`
/// println!("rank {} of {}", comm.rank(), comm.size());
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub struct MpiCommunicator {
    comm: SimpleCommunicator,
    // Dropped last: finalises MPI.
    _universe: Option<Universe>,
}

impl MpiCommunicator {
    /// Initialises MPI (`MPI_Init_thread`, single-threaded MPI calls) and returns
    /// the world communicator; MPI is finalised when the value is dropped. A program
    /// started without `mpirun` is a world of one rank.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if MPI was already initialised in this process
    /// (use [`MpiCommunicator::new`] with its communicator then).
    pub fn init() -> Result<Self> {
        let universe = mpi::initialize().ok_or_else(|| {
            Error::invalid_argument(
                "MpiCommunicator::init",
                "MPI is already initialised in this process; wrap its communicator with \
                 MpiCommunicator::new",
            )
        })?;
        Ok(MpiCommunicator {
            comm: universe.world(),
            _universe: Some(universe),
        })
    }

    /// Wraps `comm` of an MPI environment the caller initialised (and finalises).
    pub fn new(comm: SimpleCommunicator) -> Self {
        MpiCommunicator {
            comm,
            _universe: None,
        }
    }

    /// The MPI communicator.
    pub fn raw(&self) -> &SimpleCommunicator {
        &self.comm
    }
}

impl std::fmt::Debug for MpiCommunicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MpiCommunicator(rank {} of {})",
            self.rank(),
            self.size()
        )
    }
}

impl Communicator for MpiCommunicator {
    fn rank(&self) -> usize {
        usize::try_from(self.comm.rank()).expect("MPI ranks are non-negative")
    }

    fn size(&self) -> usize {
        usize::try_from(self.comm.size()).expect("MPI sizes are positive")
    }

    fn sum_in_place(&self, values: &mut [f64]) {
        for chunk in values.chunks_mut(CHUNK) {
            let send = chunk.to_vec();
            self.comm
                .all_reduce_into(&send[..], chunk, SystemOperation::sum());
        }
    }

    fn all_gather(&self, value: u64) -> Vec<u64> {
        let mut out = vec![0u64; self.size()];
        self.comm.all_gather_into(&value, &mut out[..]);
        out
    }

    fn broadcast_bytes(&self, root: usize, bytes: &mut Vec<u8>) {
        let root = self
            .comm
            .process_at_rank(i32::try_from(root).expect("a rank fits in i32"));
        let mut len = bytes.len() as u64;
        root.broadcast_into(&mut len);
        bytes.resize(usize::try_from(len).expect("the root's length fits"), 0);
        for chunk in bytes.chunks_mut(CHUNK) {
            root.broadcast_into(chunk);
        }
    }
}
