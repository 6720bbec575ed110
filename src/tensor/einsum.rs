//! The public [`einsum`], [`einsum_with`] and [`einsum_path`] entry points (the
//! specification parser is in `spec.rs`).
//!
//! Syntax (as in numpy): index letters `a-z` and `A-Z`, input terms separated by
//! commas, an optional `->` followed by the output term; spaces are ignored.
//! Without `->` (implicit mode) the output consists of the letters that occur exactly
//! once in the inputs, in ASCII order (upper case before lower case), as numpy does.

use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::path::{ContractionPath, PathOptimizer};
use crate::tensor::plan::ContractionPlan;
use crate::tensor::Tensor;

/// Einstein summation with the greedy path optimiser:
/// `einsum("ij,jk->ik", &[&a, &b])` computes `C_ik = sum_j A_ij B_jk`.
///
/// In general every index letter of the output indexes the result, and the product
/// of the operands' entries is summed over every assignment of the letters that are
/// not in the output:
///
/// `out[o] = sum_{s} prod_p operand_p[labels_p(o, s)]`.
///
/// Supported: any number of operands (including order-0 scalars, `",->"`),
/// contractions, outer products, traces and diagonals (`"ii->i"`, `"ii->"`,
/// `"iij->j"`), summed indices that appear in a single operand, batch indices shared
/// by several operands and the output (`"bij,bjk->bik"`), and permutations.
///
/// ```
/// use tnlearn::{einsum, Tensor};
/// let a = Tensor::<f64>::new(&[2, 2], vec![1., 2., 3., 4.]).unwrap();
/// let b = Tensor::<f64>::eye(2);
/// let c = einsum("ij,jk->ik", &[&a, &b]).unwrap();
/// assert_eq!(c, a);
/// let tr = einsum("ii", &[&a]).unwrap(); // implicit mode: trace
/// assert_eq!(tr.as_slice(), &[5.0]);
/// ```
///
/// Errors: [`Error::InvalidSpec`](crate::Error::InvalidSpec) (bad character,
/// output letter not in the inputs or repeated, number of terms different from the
/// number of operands, term length different from the operand's order),
/// [`Error::IndexSizeMismatch`](crate::Error::IndexSizeMismatch) (one letter with
/// two sizes) and [`Error::InvalidArgument`](crate::Error::InvalidArgument) (naming
/// the shape) when an operand, an intermediate or the result is too large. To run the same contraction many times, build a
/// [`ContractionPlan`] once.
pub fn einsum<T: Scalar>(spec: &str, operands: &[&Tensor<T>]) -> Result<Tensor<T>> {
    einsum_with(spec, operands, PathOptimizer::Greedy)
}

/// [`einsum`] with an explicit choice of [`PathOptimizer`].
///
/// ```
/// use tnlearn::{einsum_with, PathOptimizer, Tensor};
/// let a = Tensor::<f64>::ones(&[2, 3]);
/// let b = Tensor::<f64>::ones(&[3, 4]);
/// let c = Tensor::<f64>::ones(&[4]);
/// let r = einsum_with("ij,jk,k->i", &[&a, &b, &c], PathOptimizer::Optimal).unwrap();
/// assert_eq!(r.as_slice(), &[12.0, 12.0]);
/// ```
pub fn einsum_with<T: Scalar>(
    spec: &str,
    operands: &[&Tensor<T>],
    optimizer: PathOptimizer,
) -> Result<Tensor<T>> {
    let shapes: Vec<&[usize]> = operands.iter().map(|t| t.shape()).collect();
    let plan = ContractionPlan::new(spec, &shapes, optimizer)?;
    plan.execute(operands)
}

/// The pairwise contraction order `optimizer` picks for `spec` on operands of the
/// given shapes, with its cost, without computing anything.
///
/// ```
/// use tnlearn::{einsum_path, PathOptimizer};
/// let p = einsum_path("ij,jk,kl->il", &[&[10, 100], &[100, 5], &[5, 50]],
///                     PathOptimizer::Optimal).unwrap();
/// // (A B) first: 10*100*5 + 10*5*50 = 7500 multiply-adds.
/// assert_eq!(p.pairs, vec![(0, 1), (0, 1)]);
/// assert_eq!(p.flops, 7500);
/// ```
pub fn einsum_path(
    spec: &str,
    shapes: &[&[usize]],
    optimizer: PathOptimizer,
) -> Result<ContractionPath> {
    Ok(ContractionPlan::new(spec, shapes, optimizer)?
        .path()
        .clone())
}
