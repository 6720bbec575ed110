//! The processes of a run: with the cargo feature `mpi`, the MPI world (started by
//! `mpirun -n K`, or a world of one without it); otherwise one process. Rank 0
//! prints and writes files; every rank trains on its shard of the data.
//! Included with `#[path = "common/ranks.rs"] mod ranks;`.
#![allow(dead_code)] // each example uses a part

use tnlearn::distributed::Communicator;
use tnlearn::{Dataset, Result};

/// The communicator of this run and this process's place in it.
pub struct Ranks {
    comm: Box<dyn Communicator>,
}

impl Ranks {
    /// Initialises MPI with the feature `mpi` (finalised when the value is
    /// dropped: keep it until the end of the run); one process otherwise.
    pub fn init() -> Result<Self> {
        #[cfg(feature = "mpi")]
        let comm: Box<dyn Communicator> = Box::new(tnlearn::distributed::MpiCommunicator::init()?);
        #[cfg(not(feature = "mpi"))]
        let comm: Box<dyn Communicator> = Box::new(tnlearn::distributed::SingleProcess);
        Ok(Ranks { comm })
    }

    /// The communicator, for `fit_distributed_with`.
    pub fn comm(&self) -> &dyn Communicator {
        self.comm.as_ref()
    }

    /// Whether this is rank 0 (the one that prints and writes).
    pub fn is_root(&self) -> bool {
        self.comm.rank() == 0
    }

    /// The number of processes.
    pub fn size(&self) -> usize {
        self.comm.size()
    }

    /// This rank's shard of `data` ([`Dataset::shard`]); the whole set on one rank.
    pub fn shard(&self, data: &Dataset) -> Result<Dataset> {
        if self.comm.size() == 1 {
            return Ok(data.clone());
        }
        data.shard(self.comm.rank(), self.comm.size())
    }
}
