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
//! ```
//! use tnlearn::{einsum, Tensor};
//! let a = Tensor::<f64>::new(&[2, 2], vec![1., 2., 3., 4.])?;
//! let trace = einsum("ii->", &[&a])?;
//! assert_eq!(trace.as_slice(), &[5.0]);
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
