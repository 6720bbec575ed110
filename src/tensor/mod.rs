//! Dense tensors and their contraction: [`Tensor`], pairwise [`contract`], [`einsum`],
//! contraction paths and reusable [`ContractionPlan`]s.

pub(crate) mod alloc;
mod cache;
mod contract;
mod convert;
mod dense;
mod einsum;
mod path;
pub(crate) mod permute;
mod plan;
mod spec;

pub use alloc::MAX_TENSOR_BYTES;
pub use cache::PlanCache;
pub use contract::contract;
#[allow(unused_imports)]
pub(crate) use dense::check_permutation;
pub use dense::Tensor;
pub(crate) use dense::{check_finite_slice, norm_of};
pub use einsum::{einsum, einsum_path, einsum_with};
pub use path::{ContractionPath, PathOptimizer, AUTO_OPTIMAL_LIMIT, MAX_OPTIMAL_OPERANDS};
pub use plan::ContractionPlan;
