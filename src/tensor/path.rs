//! Contraction-order (path) optimisation.
//!
//! A network of operands is contracted pairwise. The cost of contracting two
//! operands is the product of the sizes of all indices involved (those of either
//! operand): the number of multiply-adds of the pairwise product. The result keeps
//! the indices still needed (by the output or by an operand not yet contracted).
//!
//! Index sets are 64-bit masks over the 52 einsum letters.

use crate::error::{Error, Result};
use crate::tensor::einsum::NUM_LABELS;

/// How [`einsum`](crate::einsum) and [`ContractionPlan`](crate::ContractionPlan)
/// choose the order of pairwise contractions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PathOptimizer {
    /// Repeatedly contracts the pair with the smallest `size(result) - size(a) -
    /// size(b)` (ties: fewer multiply-adds, then earlier positions), among pairs that
    /// share an index; outer products only when no pair shares one. `O(n^3)` per
    /// network, usually optimal or close for chain- and tree-like networks.
    #[default]
    Greedy,
    /// Exact minimum of the total multiply-add count over all pairwise orders
    /// (including outer products), by dynamic programming over subsets: `O(3^n)`
    /// time. Limited to [`MAX_OPTIMAL_OPERANDS`] operands.
    Optimal,
    /// [`Optimal`](PathOptimizer::Optimal) for at most [`AUTO_OPTIMAL_LIMIT`]
    /// operands, [`Greedy`](PathOptimizer::Greedy) beyond.
    Auto,
    /// `((op0 op1) op2) op3 ...`: no optimisation (a baseline).
    LeftToRight,
}

/// Largest number of operands [`PathOptimizer::Optimal`] accepts.
pub const MAX_OPTIMAL_OPERANDS: usize = 16;

/// Largest number of operands for which [`PathOptimizer::Auto`] runs the exact
/// optimiser (a few thousand subset splits: microseconds).
pub const AUTO_OPTIMAL_LIMIT: usize = 8;

/// A pairwise contraction order and its cost.
///
/// `pairs` follows the numpy / opt_einsum convention: each pair holds two positions
/// (ascending) in the current list of operands; both are removed and their result is
/// appended at the end of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractionPath {
    /// The pairwise steps, as positions in the current operand list.
    pub pairs: Vec<(usize, usize)>,
    /// Total cost: the sum over steps of the product of the sizes of all indices
    /// involved in the step (= multiply-adds; floating-point operations are twice
    /// this). Per-operand pre-steps (diagonals, single-operand sums) are not counted.
    pub flops: u128,
    /// The number of elements of the largest intermediate result (0 if none).
    pub largest_intermediate: u128,
    /// The optimiser that produced the path (`Auto` resolved to the one used).
    pub optimizer: PathOptimizer,
}

/// Product of the sizes of the labels in `mask` (saturating).
#[inline]
pub(crate) fn mask_size(mut mask: u64, sizes: &[usize; NUM_LABELS]) -> u128 {
    let mut p: u128 = 1;
    while mask != 0 {
        let l = mask.trailing_zeros() as usize;
        p = p.saturating_mul(sizes[l] as u128);
        mask &= mask - 1;
    }
    p
}

/// The network to order: the index set of each operand (after per-operand
/// pre-steps), the output's index set and the label sizes.
pub(crate) struct Network<'a> {
    pub masks: &'a [u64],
    pub output: u64,
    pub sizes: &'a [usize; NUM_LABELS],
}

impl Network<'_> {
    /// Finds a path with `optimizer`.
    pub(crate) fn path(&self, optimizer: PathOptimizer) -> Result<ContractionPath> {
        let n = self.masks.len();
        let resolved = match optimizer {
            PathOptimizer::Auto if n <= AUTO_OPTIMAL_LIMIT => PathOptimizer::Optimal,
            PathOptimizer::Auto => PathOptimizer::Greedy,
            o => o,
        };
        let pairs = if n < 2 {
            Vec::new()
        } else if n == 2 {
            vec![(0, 1)]
        } else {
            match resolved {
                PathOptimizer::Greedy => self.greedy(),
                PathOptimizer::Optimal => self.optimal()?,
                _ => (0..n - 1)
                    .map(|step| if step == 0 { (0, 1) } else { (0, n - 1 - step) })
                    .collect(),
            }
        };
        let (flops, largest_intermediate) = self.evaluate(&pairs)?;
        Ok(ContractionPath {
            pairs,
            flops,
            largest_intermediate,
            optimizer: resolved,
        })
    }

    /// The cost and largest intermediate of a path; checks that the path is valid.
    pub(crate) fn evaluate(&self, pairs: &[(usize, usize)]) -> Result<(u128, u128)> {
        let mut cur: Vec<u64> = self.masks.to_vec();
        if cur.len() > 1 && pairs.len() != cur.len() - 1 {
            return Err(Error::invalid_argument(
                "path",
                format!(
                    "{} operands need {} pairwise steps, the path has {}",
                    cur.len(),
                    cur.len() - 1,
                    pairs.len()
                ),
            ));
        }
        let mut flops: u128 = 0;
        let mut largest: u128 = 0;
        for (step, &(i, j)) in pairs.iter().enumerate() {
            if i == j || i >= cur.len() || j >= cur.len() {
                return Err(Error::invalid_argument(
                    "path",
                    format!(
                        "step {step} pairs positions ({i}, {j}) but only {} operands remain",
                        cur.len()
                    ),
                ));
            }
            let (a, b) = (cur[i], cur[j]);
            let (hi, lo) = if i > j { (i, j) } else { (j, i) };
            cur.remove(hi);
            cur.remove(lo);
            let others = cur.iter().fold(self.output, |acc, &m| acc | m);
            let res = (a | b) & others;
            flops = flops.saturating_add(mask_size(a | b, self.sizes));
            largest = largest.max(mask_size(res, self.sizes));
            cur.push(res);
        }
        Ok((flops, largest))
    }

    fn greedy(&self) -> Vec<(usize, usize)> {
        let mut cur: Vec<u64> = self.masks.to_vec();
        let mut pairs = Vec::with_capacity(cur.len().saturating_sub(1));
        while cur.len() > 1 {
            let n = cur.len();
            let mut best: Option<((i128, u128), usize, usize, u64)> = None;
            let any_shared = (0..n).any(|i| (i + 1..n).any(|j| cur[i] & cur[j] != 0));
            for i in 0..n {
                for j in i + 1..n {
                    if any_shared && cur[i] & cur[j] == 0 {
                        continue;
                    }
                    let others = cur
                        .iter()
                        .enumerate()
                        .filter(|&(k, _)| k != i && k != j)
                        .fold(self.output, |acc, (_, &m)| acc | m);
                    let res = (cur[i] | cur[j]) & others;
                    let size = |m: u64| mask_size(m, self.sizes).min(i128::MAX as u128) as i128;
                    let score = size(res)
                        .saturating_sub(size(cur[i]))
                        .saturating_sub(size(cur[j]));
                    let key = (score, mask_size(cur[i] | cur[j], self.sizes));
                    if best.as_ref().is_none_or(|b| key < b.0) {
                        best = Some((key, i, j, res));
                    }
                }
            }
            let (_, i, j, res) = best.expect("at least one pair");
            cur.remove(j);
            cur.remove(i);
            cur.push(res);
            pairs.push((i, j));
        }
        pairs
    }

    fn optimal(&self) -> Result<Vec<(usize, usize)>> {
        let n = self.masks.len();
        if n > MAX_OPTIMAL_OPERANDS {
            return Err(Error::invalid_argument(
                "optimizer",
                format!(
                    "PathOptimizer::Optimal handles at most {MAX_OPTIMAL_OPERANDS} operands \
                     (got {n}); use Greedy or Auto"
                ),
            ));
        }
        let full: usize = (1 << n) - 1;
        // Union of the index sets of each subset of operands.
        let mut idx = vec![0u64; full + 1];
        for s in 1..=full {
            let low = s.trailing_zeros() as usize;
            idx[s] = idx[s & (s - 1)] | self.masks[low];
        }
        // Indices of the result of contracting subset s.
        let result = |s: usize| idx[s] & (self.output | idx[full ^ s]);
        let mut cost = vec![u128::MAX; full + 1];
        let mut split = vec![0usize; full + 1];
        for i in 0..n {
            cost[1 << i] = 0;
        }
        for s in 1..=full {
            if s & (s - 1) == 0 {
                continue;
            }
            let low = s & s.wrapping_neg();
            let rest = s ^ low;
            // Enumerate s1 = low | (submask of rest), s1 != s.
            let mut sub = rest;
            let mut best = u128::MAX;
            let mut best_split = 0;
            loop {
                let s1 = low | sub;
                if s1 != s {
                    let s2 = s ^ s1;
                    let (c1, c2) = (cost[s1], cost[s2]);
                    if c1 != u128::MAX && c2 != u128::MAX {
                        let c = c1
                            .saturating_add(c2)
                            .saturating_add(mask_size(result(s1) | result(s2), self.sizes));
                        if c < best {
                            best = c;
                            best_split = s1;
                        }
                    }
                }
                if sub == 0 {
                    break;
                }
                sub = (sub - 1) & rest;
            }
            cost[s] = best;
            split[s] = best_split;
        }
        // Post-order traversal of the split tree, as numpy-style positions.
        let mut order: Vec<(usize, usize)> = Vec::with_capacity(n - 1);
        fn walk(s: usize, split: &[usize], order: &mut Vec<(usize, usize)>) {
            if s & (s - 1) == 0 {
                return;
            }
            let s1 = split[s];
            let s2 = s ^ s1;
            walk(s1, split, order);
            walk(s2, split, order);
            order.push((s1, s2));
        }
        walk(full, &split, &mut order);
        let mut cur: Vec<usize> = (0..n).map(|i| 1 << i).collect();
        let mut pairs = Vec::with_capacity(n - 1);
        for (s1, s2) in order {
            let p1 = cur.iter().position(|&x| x == s1).expect("subset present");
            let p2 = cur.iter().position(|&x| x == s2).expect("subset present");
            let (lo, hi) = if p1 < p2 { (p1, p2) } else { (p2, p1) };
            cur.remove(hi);
            cur.remove(lo);
            cur.push(s1 | s2);
            pairs.push((lo, hi));
        }
        Ok(pairs)
    }
}
