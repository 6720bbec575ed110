//! The Markov chain state shared by both cluster algorithms.

use rand::Rng;

use super::{swendsen_wang, wolff, ClusterAlgorithm};
use crate::error::Result;
use crate::ising::exact::coupling;
use crate::ising::lattice::try_vec_with_capacity;
use crate::ising::Lattice;

/// A running cluster Monte Carlo chain: the current configuration and the scratch
/// space of its update. Use it directly to stream many configurations without
/// storing them (as MCRG does); [`sample`](super::sample) wraps it into a data set.
///
/// ```
/// use rand::SeedableRng;
/// use tnlearn::ising::sampling::{ClusterAlgorithm, MarkovChain};
/// use tnlearn::ising::{Lattice, CRITICAL_TEMPERATURE};
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let lattice = Lattice::square(16)?;
/// let mut chain =
///     MarkovChain::new(&lattice, CRITICAL_TEMPERATURE, ClusterAlgorithm::Wolff, false, &mut rng)?;
/// chain.run(500, &mut rng);
/// let e = chain.energy() / 256.0;
/// assert!(e < -1.0 && e > -2.0);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MarkovChain {
    lattice: Lattice,
    temperature: f64,
    algorithm: ClusterAlgorithm,
    spins: Vec<i8>,
    neighbors: Vec<u32>,
    bonds: Vec<(u32, u32)>,
    /// `p = 1 - exp(-2K)` as a threshold on a uniform `u64`.
    threshold: u64,
    scratch: Vec<u32>,
    flips: Vec<i8>,
}

impl MarkovChain {
    /// A chain on `lattice` at `temperature`, started all up (`cold_start`) or from
    /// uniformly random spins.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) if the temperature is
    /// not finite and `> 0`, or naming the lattice if its tables cannot be allocated.
    pub fn new<R: Rng + ?Sized>(
        lattice: &Lattice,
        temperature: f64,
        algorithm: ClusterAlgorithm,
        cold_start: bool,
        rng: &mut R,
    ) -> Result<Self> {
        let k = coupling(temperature)?;
        let p = -(-2.0 * k).exp_m1();
        // P(u < threshold) = p for u uniform on 0..2^64; p = 1 saturates.
        let threshold = if p >= 1.0 {
            u64::MAX
        } else {
            (p * 18_446_744_073_709_551_616.0) as u64
        };
        let n = lattice.num_sites();
        let mut spins = try_vec_with_capacity(n, "spins", lattice)?;
        if cold_start {
            spins.resize(n, 1i8);
        } else {
            spins.extend((0..n).map(|_| if rng.random::<bool>() { 1i8 } else { -1 }));
        }
        // Only the table the algorithm uses is built.
        let (neighbors, bonds) = match algorithm {
            ClusterAlgorithm::Wolff => (lattice.try_neighbors()?, Vec::new()),
            ClusterAlgorithm::SwendsenWang => {
                let list = lattice.try_bonds()?;
                let mut bonds = try_vec_with_capacity(list.len(), "bond list", lattice)?;
                // Site indices fit in u32 (Lattice's limit).
                bonds.extend(list.into_iter().map(|(i, j)| (i as u32, j as u32)));
                (Vec::new(), bonds)
            }
        };
        Ok(MarkovChain {
            lattice: *lattice,
            temperature,
            algorithm,
            spins,
            neighbors,
            bonds,
            threshold,
            scratch: try_vec_with_capacity(n, "cluster scratch space", lattice)?,
            flips: match algorithm {
                ClusterAlgorithm::Wolff => Vec::new(),
                ClusterAlgorithm::SwendsenWang => {
                    try_vec_with_capacity(n, "cluster flips", lattice)?
                }
            },
        })
    }

    /// One cluster update (one Wolff cluster or one Swendsen-Wang sweep); returns
    /// the number of spins flipped.
    pub fn update<R: Rng + ?Sized>(&mut self, rng: &mut R) -> usize {
        match self.algorithm {
            ClusterAlgorithm::Wolff => wolff::update(
                &mut self.spins,
                &self.neighbors,
                self.lattice.coordination(),
                self.threshold,
                &mut self.scratch,
                rng,
            ),
            ClusterAlgorithm::SwendsenWang => swendsen_wang::update(
                &mut self.spins,
                &self.bonds,
                self.threshold,
                &mut self.scratch,
                &mut self.flips,
                rng,
            ),
        }
    }

    /// `updates` cluster updates.
    pub fn run<R: Rng + ?Sized>(&mut self, updates: usize, rng: &mut R) {
        for _ in 0..updates {
            self.update(rng);
        }
    }

    /// The current spins, `+-1`, row-major.
    pub fn spins(&self) -> &[i8] {
        &self.spins
    }

    /// The lattice.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// The temperature.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// The cluster algorithm.
    pub fn algorithm(&self) -> ClusterAlgorithm {
        self.algorithm
    }

    /// The energy `E = -sum_<ij> s_i s_j` of the current configuration.
    pub fn energy(&self) -> f64 {
        -(self.lattice.bond_sum(&self.spins) as f64)
    }

    /// The magnetisation per site `m = (1/N) sum_i s_i`.
    pub fn magnetization(&self) -> f64 {
        self.spins.iter().map(|&s| i64::from(s)).sum::<i64>() as f64 / self.spins.len() as f64
    }
}
