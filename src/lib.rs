//! # tnlearn
//!
//! Machine learning with tensor networks: dense tensors (`f64` and `Complex64`),
//! contraction of any network (pairwise [`contract`], [`einsum`] with path
//! optimisation and reusable [`ContractionPlan`]s), SVD/QR with one truncation
//! vocabulary ([`Truncation`]), matrix product states ([`Mps`]) in canonical form, and
//! data sets ([`Dataset`], the shipped binarized MNIST subset in [`data::mnist`],
//! readers in [`io`]).
//!
//! Linear algebra runs on [faer](https://docs.rs/faer) (pure Rust) by default, or on
//! system OpenBLAS with the `openblas` feature ([`linalg::backend_info`]).
//!
//! | module | one job |
//! |---|---|
//! | [`tensor`] | [`Tensor`], [`contract`], [`einsum`], paths, plans |
//! | [`linalg`] | `gemm`, `qr`, `svd`, `eigh`, [`Truncation`] |
//! | [`mps`] | [`Mps`]: canonical forms, compression, log-space norms |
//! | [`ttn`] | [`Ttn`](ttn::Ttn), [`Tree`](ttn::Tree): tree tensor networks over binary trees |
//! | [`fit`] | [`FitControl`](fit::FitControl), [`FitObserver`](fit::FitObserver): the vocabulary of every fit |
//! | [`born`] | MPS and TTN Born machines: training, exact likelihoods and sampling |
//! | [`distributed`] | [`Communicator`](distributed::Communicator): data-parallel training across processes (MPI with the feature `mpi`) |
//! | [`cora`] | [`Cora`]: the classical stochastic MERA, exact cone marginals, EM |
//! | [`data`], [`io`] | [`Dataset`], shipped MNIST, IDX / npy readers, PNG grids |
//! | [`ising`] | Ising data with an exact answer key: cluster samplers, exact entropies, MCRG |
//!
//! The three things most users come for, at toy sizes:
//!
//! **Contraction** with [`einsum`] (the path is optimised for three or more operands):
//!
//! ```
//! use tnlearn::{einsum, Tensor};
//! let a = Tensor::<f64>::new(&[2, 2], vec![1., 2., 3., 4.])?;
//! let trace = einsum("ii->", &[&a])?;
//! assert_eq!(trace.as_slice(), &[5.0]);
//! let ab = einsum("ij,jk->ik", &[&a, &a])?; // a matrix product
//! assert_eq!(ab.as_slice(), &[7., 10., 15., 22.]);
//! # Ok::<(), tnlearn::Error>(())
//! ```
//!
//! **A Born machine**: train an MPS on binary data, then exact log-likelihoods and
//! exact samples ([`born`]; [`TtnBornMachine`] works the same way):
//!
//! ```
//! use tnlearn::ndarray::array;
//! use tnlearn::rand::{rngs::StdRng, SeedableRng};
//! use tnlearn::{BornMachine, BornOptions, Dataset, MpsBornMachine};
//!
//! let data = Dataset::binary(array![[0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]])?;
//! let options = BornOptions::new().max_bond(4).sweeps(3).seed(1);
//! let mut model = MpsBornMachine::new(4, 2, options)?;
//! model.fit(&data)?;
//! assert!(model.log_prob(&[0, 0, 1, 1])? > model.log_prob(&[1, 0, 1, 0])?);
//! let samples = model.sample(5, &mut StdRng::seed_from_u64(2))?; // 5 x 4, exact
//! assert_eq!(samples.dim(), (5, 4));
//! # Ok::<(), tnlearn::Error>(())
//! ```
//!
//! **A CORA marginal**: the exact joint of a few sites through their causal cone,
//! `O(log N)` maps however large the lattice ([`cora`]):
//!
//! ```
//! use tnlearn::cora::{Architecture, Boundary, Cora};
//! use tnlearn::rand::{rngs::StdRng, SeedableRng};
//!
//! let arch = Architecture::square_2x2(16, 16).levels(4).boundary(Boundary::Periodic);
//! let model = Cora::random(arch, &mut StdRng::seed_from_u64(1))?;
//! let p = model.marginal(&[0, 1, 16, 17])?; // a 2x2 patch: a 2 x 2 x 2 x 2 table
//! assert_eq!(p.shape(), &[2, 2, 2, 2]);
//! assert!((p.as_slice().iter().sum::<f64>() - 1.0).abs() < 1e-12);
//! # Ok::<(), tnlearn::Error>(())
//! ```
//!
//! Every public function that takes user input returns [`Result`]`<_, `[`Error`]`>`;
//! messages name the culprit. Design notes: `docs/` in the repository.

#![warn(missing_docs)]

#[cfg(feature = "openblas")]
extern crate openblas_src as _;

pub mod born;
pub mod cora;
pub mod data;
pub mod distributed;
pub mod error;
pub mod fit;
pub mod io;
pub mod ising;
pub mod linalg;
mod log_value;
pub mod mps;
pub mod scalar;
pub mod tensor;
pub mod ttn;

/// The `ndarray` crate, at the version tnlearn's API takes and returns (arrays of
/// samples, site tensors, marginals): `use tnlearn::ndarray` avoids a second,
/// incompatible version in a project.
pub use ndarray;
/// The `rand` crate, at the version whose `Rng` the samplers and random
/// constructors take: `use tnlearn::rand::SeedableRng` and
/// `tnlearn::rand::rngs::StdRng` avoid a trait error from another version
/// (`cargo add rand` may pick a newer one).
pub use rand;

pub use born::{AnyBornMachine, BornMachine, BornOptions, MpsBornMachine, TtnBornMachine};
pub use cora::Cora;
pub use data::Dataset;
pub use error::{Error, Result};
pub use linalg::{Truncation, TruncationMode};
pub use mps::{LogValue, Mps};
pub use num_complex::Complex64;
pub use scalar::Scalar;
pub use tensor::{
    contract, einsum, einsum_path, einsum_with, ContractionPath, ContractionPlan, PathOptimizer,
    Tensor,
};

/// The README's code examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
