//! Contraction-order (path) optimisation.
//!
//! A network of operands is contracted pairwise. The cost of contracting two
//! operands is the product of the sizes of all indices involved (those of either
//! operand): the number of multiply-adds of the pairwise product. The result keeps
//! the indices still needed (by the output or by an operand not yet contracted).
//!
//! Index sets are 64-bit masks over the 52 einsum letters.

use crate::error::{Error, Result};
use crate::tensor::spec::NUM_LABELS;

/// How [`einsum`](crate::einsum) and [`ContractionPlan`](crate::ContractionPlan)
/// choose the order of pairwise contractions.
///
/// ```
/// use tnlearn::{einsum_path, PathOptimizer};
///
/// let shapes: [&[usize]; 3] = [&[8, 64], &[64, 64], &[64, 2]];
/// let greedy = einsum_path("ij,jk,kl->il", &shapes, PathOptimizer::Greedy)?;
/// let optimal = einsum_path("ij,jk,kl->il", &shapes, PathOptimizer::Optimal)?;
/// assert!(optimal.flops <= greedy.flops);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PathOptimizer {
    /// Repeatedly contracts the pair with the smallest `size(result) - size(a) -
    /// size(b)` (ties: fewer multiply-adds, then earlier positions), among pairs that
    /// share an index; outer products only when no pair shares one. `O(n^2 log n)`
    /// for n operands (a heap of candidate pairs), usually optimal or close for
    /// chain- and tree-like networks.
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
///
/// ```
/// use tnlearn::{einsum_path, PathOptimizer};
///
/// // (a b) c costs 2*3*4 + 2*4*5 = 64 multiply-adds, a (b c) 3*4*5 + 2*3*5 = 90.
/// let path = einsum_path("ij,jk,kl->il", &[&[2, 3], &[3, 4], &[4, 5]], PathOptimizer::Optimal)?;
/// assert_eq!(path.pairs, vec![(0, 1), (0, 1)]);
/// assert_eq!(path.flops, 64);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractionPath {
    /// The pairwise steps, as positions in the current operand list.
    pub pairs: Vec<(usize, usize)>,
    /// Total cost: the sum over steps of the product of the sizes of all indices
    /// involved in the step (= multiply-adds; floating-point operations are twice
    /// this). Per-operand pre-steps (diagonals, single-operand sums) are not counted.
    /// Saturates at `u128::MAX`.
    pub flops: u128,
    /// The number of elements of the largest intermediate result (0 if none).
    pub largest_intermediate: u128,
    /// The optimiser that produced the path (`Auto` resolved to the one used).
    pub optimizer: PathOptimizer,
}

/// Product of the sizes of the labels in `mask` (saturating at `u128::MAX`, which
/// no real contraction reaches; plans refuse results that large anyway).
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

/// Largest number of operands for which the greedy optimiser runs the exhaustive
/// search instead of the heap-based one.
const GREEDY_EXHAUSTIVE_MAX: usize = 16;

/// Labels of `a | b` kept by contracting `a` with `b`: those in the output or held
/// by another live node (`count[l]` = live nodes holding label `l`).
fn greedy_result(a: u64, b: u64, output: u64, count: &[usize; NUM_LABELS]) -> u64 {
    let mut res = 0u64;
    let mut mm = a | b;
    while mm != 0 {
        let l = mm.trailing_zeros() as usize;
        let bit = 1u64 << l;
        let own = usize::from(a & bit != 0) + usize::from(b & bit != 0);
        if output & bit != 0 || count[l] > own {
            res |= bit;
        }
        mm &= mm - 1;
    }
    res
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

    /// The greedy key of contracting nodes with index sets `a` and `b` into `res`:
    /// (size(res) - size(a) - size(b), multiply-adds), saturating.
    fn greedy_key(&self, a: u64, b: u64, res: u64) -> (i128, u128) {
        let size = |m: u64| mask_size(m, self.sizes).min(i128::MAX as u128) as i128;
        let score = size(res).saturating_sub(size(a)).saturating_sub(size(b));
        (score, mask_size(a | b, self.sizes))
    }

    /// The greedy path: at each step the pair with the smallest
    /// [`greedy_key`](Self::greedy_key) among pairs sharing an index (ties: lower
    /// positions), outer products only when no pair shares one.
    ///
    /// Candidate pairs live in a binary heap keyed by (key, ids); an entry whose
    /// node was already contracted is dropped when popped (lazy invalidation). A
    /// step changes the count of a label only if both contracted nodes hold it, and
    /// then the new node holds it too, so the only pairs whose key changes are those
    /// with the new node, which are pushed fresh: the result is exactly that of the
    /// exhaustive search, in `O(n^2 log n)` time (n operands) instead of `O(n^4)`.
    /// Networks of at most [`GREEDY_EXHAUSTIVE_MAX`] operands use the exhaustive
    /// search, which has less overhead there (same result).
    fn greedy(&self) -> Vec<(usize, usize)> {
        if self.masks.len() <= GREEDY_EXHAUSTIVE_MAX {
            return self.greedy_exhaustive();
        }
        self.greedy_heap()
    }

    /// The heap-based greedy search (see [`greedy`](Self::greedy)).
    fn greedy_heap(&self) -> Vec<(usize, usize)> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;

        let n0 = self.masks.len();
        let mut masks: Vec<u64> = self.masks.to_vec();
        let mut alive: Vec<bool> = vec![true; n0];
        // Live nodes holding each label.
        let mut holders: Vec<Vec<usize>> = vec![Vec::new(); NUM_LABELS];
        let mut count = [0usize; NUM_LABELS];
        for (id, &m) in masks.iter().enumerate() {
            let mut mm = m;
            while mm != 0 {
                let l = mm.trailing_zeros() as usize;
                holders[l].push(id);
                count[l] += 1;
                mm &= mm - 1;
            }
        }
        let output = self.output;
        let result =
            |a: u64, b: u64, count: &[usize; NUM_LABELS]| greedy_result(a, b, output, count);
        type Entry = Reverse<((i128, u128), usize, usize)>;
        let mut heap: BinaryHeap<Entry> = BinaryHeap::new();
        let mut seen: Vec<usize> = Vec::new();
        let push_neighbours = |id: usize,
                               masks: &[u64],
                               alive: &[bool],
                               holders: &[Vec<usize>],
                               count: &[usize; NUM_LABELS],
                               heap: &mut BinaryHeap<Entry>,
                               seen: &mut Vec<usize>,
                               only_lower: bool| {
            seen.clear();
            let mut mm = masks[id];
            while mm != 0 {
                let l = mm.trailing_zeros() as usize;
                for &o in &holders[l] {
                    if o != id && alive[o] && (!only_lower || o < id) {
                        seen.push(o);
                    }
                }
                mm &= mm - 1;
            }
            seen.sort_unstable();
            seen.dedup();
            for &o in seen.iter() {
                let (i, j) = if o < id { (o, id) } else { (id, o) };
                let res = result(masks[i], masks[j], count);
                heap.push(Reverse((self.greedy_key(masks[i], masks[j], res), i, j)));
            }
        };
        for id in 0..n0 {
            push_neighbours(
                id, &masks, &alive, &holders, &count, &mut heap, &mut seen, true,
            );
        }
        // Current operand list (node ids in position order: survivors keep their
        // relative order and new nodes are appended, so position order = id order).
        let mut cur: Vec<usize> = (0..n0).collect();
        let mut pairs = Vec::with_capacity(n0.saturating_sub(1));
        while cur.len() > 1 {
            let mut chosen = None;
            while let Some(Reverse((_, i, j))) = heap.pop() {
                if alive[i] && alive[j] {
                    chosen = Some((i, j));
                    break;
                }
            }
            let (i, j) = match chosen {
                Some(p) => p,
                None => self.greedy_outer(&cur, &masks, &count),
            };
            let res = result(masks[i], masks[j], &count);
            // Update label counts and holders.
            for node in [i, j] {
                alive[node] = false;
                let mut mm = masks[node];
                while mm != 0 {
                    let l = mm.trailing_zeros() as usize;
                    count[l] -= 1;
                    mm &= mm - 1;
                }
            }
            let new_id = masks.len();
            masks.push(res);
            alive.push(true);
            let mut mm = res;
            while mm != 0 {
                let l = mm.trailing_zeros() as usize;
                count[l] += 1;
                holders[l].retain(|&h| alive[h]);
                holders[l].push(new_id);
                mm &= mm - 1;
            }
            let pi = cur.iter().position(|&x| x == i).unwrap_or(0);
            let pj = cur.iter().position(|&x| x == j).unwrap_or(0);
            let (lo, hi) = if pi < pj { (pi, pj) } else { (pj, pi) };
            cur.remove(hi);
            cur.remove(lo);
            cur.push(new_id);
            pairs.push((lo, hi));
            push_neighbours(
                new_id, &masks, &alive, &holders, &count, &mut heap, &mut seen, false,
            );
        }
        pairs
    }

    /// The outer product to do when no live pair shares an index: the exhaustive
    /// choice for a few operands, the two smallest (by size, then id) otherwise.
    fn greedy_outer(
        &self,
        cur: &[usize],
        masks: &[u64],
        count: &[usize; NUM_LABELS],
    ) -> (usize, usize) {
        let m = cur.len();
        if m <= 64 {
            let mut best: Option<((i128, u128), usize, usize)> = None;
            for (p, &i) in cur.iter().enumerate() {
                for &j in &cur[p + 1..] {
                    let res = greedy_result(masks[i], masks[j], self.output, count);
                    let key = self.greedy_key(masks[i], masks[j], res);
                    if best.as_ref().is_none_or(|b| key < b.0) {
                        best = Some((key, i, j));
                    }
                }
            }
            let (_, i, j) = best.unwrap_or((Default::default(), cur[0], cur[1]));
            return (i, j);
        }
        let mut by_size: Vec<(u128, usize)> = cur
            .iter()
            .map(|&id| (mask_size(masks[id], self.sizes), id))
            .collect();
        by_size.select_nth_unstable(1);
        let (a, b) = (by_size[0].1, by_size[1].1);
        (a.min(b), a.max(b))
    }

    /// The exhaustive greedy search (`O(n^3)` per step): used for small networks
    /// and as the reference the heap-based search is tested against.
    fn greedy_exhaustive(&self) -> Vec<(usize, usize)> {
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
        let mut cost = vec![0u128; full + 1];
        let mut split = vec![0usize; full + 1];
        for s in 1..=full {
            if s & (s - 1) == 0 {
                continue;
            }
            let low = s & s.wrapping_neg();
            let rest = s ^ low;
            // Enumerate s1 = low | (submask of rest), s1 != s.
            // Costs saturate at u128::MAX (sizes from user input can be huge): a
            // saturated cost still ranks and every subset still gets a split (the
            // first one at worst), so the walk below always terminates.
            let mut sub = rest;
            let mut best = u128::MAX;
            let mut best_split = 0;
            loop {
                let s1 = low | sub;
                if s1 != s {
                    let s2 = s ^ s1;
                    let c = cost[s1]
                        .saturating_add(cost[s2])
                        .saturating_add(mask_size(result(s1) | result(s2), self.sizes));
                    if best_split == 0 || c < best {
                        best = c;
                        best_split = s1;
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
        // Iterative (explicit stack): every split is a proper non-empty subset, so
        // the walk visits 2n - 1 subsets.
        let mut order: Vec<(usize, usize)> = Vec::with_capacity(n - 1);
        let mut stack: Vec<(usize, bool)> = vec![(full, false)];
        while let Some((s, expanded)) = stack.pop() {
            if s & s.wrapping_sub(1) == 0 {
                continue;
            }
            let s1 = split[s];
            let s2 = s ^ s1;
            if s1 == 0 || s2 == 0 {
                return Err(Error::invalid_argument(
                    "optimizer",
                    "internal error: PathOptimizer::Optimal found no split; please report",
                ));
            }
            if expanded {
                order.push((s1, s2));
            } else {
                stack.push((s, true));
                stack.push((s2, false));
                stack.push((s1, false));
            }
        }
        let mut cur: Vec<usize> = (0..n).map(|i| 1 << i).collect();
        let mut pairs = Vec::with_capacity(n - 1);
        for (s1, s2) in order {
            let (Some(p1), Some(p2)) = (
                cur.iter().position(|&x| x == s1),
                cur.iter().position(|&x| x == s2),
            ) else {
                return Err(Error::invalid_argument(
                    "optimizer",
                    "internal error: PathOptimizer::Optimal split not found; please report",
                ));
            };
            let (lo, hi) = if p1 < p2 { (p1, p2) } else { (p2, p1) };
            cur.remove(hi);
            cur.remove(lo);
            cur.push(s1 | s2);
            pairs.push((lo, hi));
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The heap-based greedy search picks exactly the pairs of the exhaustive one.
    #[test]
    fn heap_greedy_matches_exhaustive_greedy() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for case in 0..400 {
            let n = rng.random_range(3..14);
            let nlabels = rng.random_range(1..12);
            let mut sizes = [0usize; NUM_LABELS];
            for s in sizes.iter_mut().take(nlabels) {
                *s = [0, 1, 2, 3, 5, 8][rng.random_range(0..6)];
            }
            let masks: Vec<u64> = (0..n)
                .map(|_| {
                    let mut m = 0u64;
                    for _ in 0..rng.random_range(0..4) {
                        m |= 1 << rng.random_range(0..nlabels);
                    }
                    m
                })
                .collect();
            // Labels in one operand only must be output labels (as after pre-steps).
            let mut output = 0u64;
            for l in 0..nlabels {
                let c = masks.iter().filter(|&&m| m >> l & 1 == 1).count();
                if c == 1 || (c > 1 && rng.random_bool(0.2)) {
                    output |= 1 << l;
                }
            }
            let net = Network {
                masks: &masks,
                output,
                sizes: &sizes,
            };
            assert_eq!(
                net.greedy_heap(),
                net.greedy_exhaustive(),
                "case {case}: masks {masks:?} output {output:b}"
            );
        }
    }

    /// Saturated costs (sizes near usize::MAX) still give a valid optimal path.
    #[test]
    fn optimal_with_saturated_costs_terminates() {
        let mut sizes = [0usize; NUM_LABELS];
        for s in sizes.iter_mut().take(8) {
            *s = usize::MAX;
        }
        let masks = [0b11u64, 0b110, 0b1100, 0b11000, 0b110000];
        let net = Network {
            masks: &masks,
            output: 0b100001,
            sizes: &sizes,
        };
        let pairs = net.optimal().unwrap();
        assert_eq!(pairs.len(), 4);
        assert!(net.evaluate(&pairs).is_ok());
    }
}
