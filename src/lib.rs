//! # tnlearn
//!
//! Machine learning with tensor networks: dense tensors (`f64` and `Complex64`),
//! contraction of any network (pairwise [`contract`], [`einsum`] with path
//! optimisation and reusable plans), SVD/QR with one truncation vocabulary
//! ([`Truncation`]), and matrix product states ([`Mps`]) in canonical form.
//!
//! Linear algebra runs on [faer](https://docs.rs/faer) (pure Rust) by default, or on
//! system OpenBLAS with the `openblas` feature.

#![warn(missing_docs)]

#[cfg(feature = "openblas")]
extern crate openblas_src as _;

pub mod born;
pub mod data;
pub mod error;
pub mod io;
pub mod linalg;
pub mod mps;
pub mod scalar;
pub mod tensor;

pub use born::{BornMachine, BornOptions, MpsBornMachine};
pub use data::Dataset;
pub use error::{Error, Result};
pub use linalg::{Truncation, TruncationMode};
pub use mps::{LogValue, Mps};
pub use num_complex::Complex64;
pub use scalar::Scalar;
pub use tensor::Tensor;
