//! Dense tensors and their contraction: [`Tensor`], pairwise [`contract`], [`einsum`],
//! contraction paths and reusable [`ContractionPlan`]s.

mod dense;
pub(crate) mod permute;

#[allow(unused_imports)]
pub(crate) use dense::check_permutation;
pub use dense::Tensor;
