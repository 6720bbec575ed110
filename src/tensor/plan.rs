//! [`ContractionPlan`]: an einsum compiled once for fixed shapes, executed many times.

use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::alloc::{checked_len, saturating_len, try_vec_with_capacity, MAX_TENSOR_BYTES};
use crate::tensor::contract::{build_pair, row_major_strides, run_pair, PairStep};
use crate::tensor::path::{ContractionPath, Network, PathOptimizer};
use crate::tensor::permute::Permutation;
use crate::tensor::spec::{parse, NUM_LABELS};
use crate::tensor::Tensor;
use num_complex::Complex64;

/// Per-operand pre-step: diagonal extraction (repeated letters) and summation of
/// letters that appear in no other operand and not in the output.
#[derive(Clone, Debug)]
struct PreStep {
    /// Kept axes: (size, source stride = sum of the strides of the letter's copies).
    kept: Vec<(usize, usize)>,
    /// Summed axes: (size, source stride).
    summed: Vec<(usize, usize)>,
    out_len: usize,
}

#[derive(Clone, Debug)]
struct Step {
    a: usize,
    b: usize,
    pair: PairStep,
}

/// A contraction compiled for fixed operand shapes: the path, every pairwise step's
/// permutations, GEMM dimensions and batch strides, and the final permutation.
///
/// Building a plan parses the spec, validates the shapes and optimises the path;
/// [`execute`](ContractionPlan::execute) only checks the shapes and runs the
/// arithmetic (no parsing, no hashing, one buffer per intermediate).
///
/// ```
/// use tnlearn::{ContractionPlan, PathOptimizer, Tensor};
/// let plan = ContractionPlan::new("ab,asc,bsd->cd", &[&[4, 4], &[4, 2, 3], &[4, 2, 3]],
///                                 PathOptimizer::Optimal).unwrap();
/// assert_eq!(plan.output_shape(), &[3, 3]);
/// let e = Tensor::<f64>::eye(4);
/// let a = Tensor::<f64>::ones(&[4, 2, 3]);
/// let r = plan.execute(&[&e, &a, &a]).unwrap();
/// assert_eq!(r.as_slice(), &[8.0; 9]); // sum over a (4) and s (2)
/// ```
#[derive(Clone, Debug)]
pub struct ContractionPlan {
    input_shapes: Vec<Vec<usize>>,
    pre: Vec<Option<PreStep>>,
    steps: Vec<Step>,
    final_slot: usize,
    /// The permutation taking the final slot to the output.
    final_perm: Option<Permutation>,
    output_shape: Vec<usize>,
    path: ContractionPath,
}

impl ContractionPlan {
    /// Compiles `spec` (see [`einsum`](crate::einsum) for the syntax) for operands
    /// of the given shapes, ordering pairwise contractions with `optimizer`.
    ///
    /// Errors as [`einsum`](crate::einsum) does ([`Error::InvalidSpec`],
    /// [`Error::IndexSizeMismatch`]); [`Error::InvalidArgument`] if
    /// [`PathOptimizer::Optimal`] is asked for too many operands.
    pub fn new(spec: &str, shapes: &[&[usize]], optimizer: PathOptimizer) -> Result<Self> {
        let parsed = parse(spec)?;
        let sizes = parsed.check_shapes(spec, shapes)?;
        // Every operand must be a shape a tensor can have, and no intermediate may
        // exceed what can be allocated (checked for the widest scalar, Complex64,
        // so a plan valid for one scalar type is valid for both).
        for (p, shape) in shapes.iter().enumerate() {
            checked_len::<Complex64>(shape, &format!("einsum: operand {p}"))?;
        }
        let nin = parsed.inputs.len();
        let out_mask: u64 = parsed.output.iter().fold(0, |m, &l| m | (1u64 << l));
        // In how many operands each label appears.
        let mut operand_count = [0u8; NUM_LABELS];
        for term in &parsed.inputs {
            let m: u64 = term.iter().fold(0, |m, &l| m | (1u64 << l));
            for (l, c) in operand_count.iter_mut().enumerate() {
                *c = c.saturating_add((m >> l) as u8 & 1);
            }
        }

        // Pre-steps and the slot layouts (labels and shapes, in memory order).
        let mut labels: Vec<Vec<usize>> = Vec::with_capacity(2 * nin);
        let mut shapes_of: Vec<Vec<usize>> = Vec::with_capacity(2 * nin);
        let mut pre = Vec::with_capacity(nin);
        for (term, shape) in parsed.inputs.iter().zip(shapes) {
            let strides = row_major_strides(shape);
            let mut uniq: Vec<u8> = Vec::with_capacity(term.len());
            for &l in term {
                if !uniq.contains(&l) {
                    uniq.push(l);
                }
            }
            let keep = |l: u8| out_mask >> l & 1 == 1 || operand_count[l as usize] > 1;
            if uniq.len() == term.len() && uniq.iter().all(|&l| keep(l)) {
                labels.push(term.iter().map(|&l| l as usize).collect());
                shapes_of.push(shape.to_vec());
                pre.push(None);
                continue;
            }
            let stride_sum = |l: u8| -> usize {
                term.iter()
                    .zip(&strides)
                    .filter(|(&x, _)| x == l)
                    // Wrapping: only an empty operand (never read) can overflow.
                    .fold(0usize, |acc, (_, &s)| acc.wrapping_add(s as usize))
            };
            let kept_labels: Vec<u8> = uniq.iter().copied().filter(|&l| keep(l)).collect();
            let kept: Vec<(usize, usize)> = kept_labels
                .iter()
                .map(|&l| (sizes[l as usize], stride_sum(l)))
                .collect();
            let summed: Vec<(usize, usize)> = uniq
                .iter()
                .copied()
                .filter(|&l| !keep(l))
                .map(|l| (sizes[l as usize], stride_sum(l)))
                .collect();
            let new_shape: Vec<usize> = kept.iter().map(|d| d.0).collect();
            pre.push(Some(PreStep {
                out_len: checked_len::<Complex64>(&new_shape, "einsum: operand pre-step")?,
                kept,
                summed,
            }));
            labels.push(kept_labels.iter().map(|&l| l as usize).collect());
            shapes_of.push(new_shape);
        }

        let masks: Vec<u64> = labels
            .iter()
            .map(|ls| ls.iter().fold(0u64, |m, &l| m | (1u64 << l)))
            .collect();
        let network = Network {
            masks: &masks,
            output: out_mask,
            sizes: &sizes,
        };
        let path = network.path(optimizer)?;
        let limit = (MAX_TENSOR_BYTES / std::mem::size_of::<Complex64>()) as u128;
        if path.largest_intermediate > limit {
            return Err(Error::invalid_argument(
                "shapes",
                format!(
                    "einsum {spec:?}: an intermediate result of {} elements is too large \
                     (limit {limit} elements of 16 bytes)",
                    path.largest_intermediate
                ),
            ));
        }

        // Resolve every pairwise step.
        let output: Vec<usize> = parsed.output.iter().map(|&l| l as usize).collect();
        let mut cur: Vec<usize> = (0..nin).collect();
        let mut slot_masks = masks.clone();
        let mut steps = Vec::with_capacity(path.pairs.len());
        let nsteps = path.pairs.len();
        for (s, &(i, j)) in path.pairs.iter().enumerate() {
            let (sa, sb) = (cur[i], cur[j]);
            let (hi, lo) = if i > j { (i, j) } else { (j, i) };
            cur.remove(hi);
            cur.remove(lo);
            let needed = cur.iter().fold(out_mask, |m, &slot| m | slot_masks[slot]);
            let last = s + 1 == nsteps;
            // Sizes are checked for the widest scalar (Complex64), so a plan valid
            // for one scalar type is valid for both.
            let pair = build_pair::<Complex64>(
                &labels[sa],
                &shapes_of[sa],
                &labels[sb],
                &shapes_of[sb],
                |l| needed >> l & 1 == 1,
                if last { Some(&output) } else { None },
            )?;
            let new_slot = labels.len();
            labels.push(pair.out_labels.clone());
            shapes_of.push(pair.out_shape.clone());
            slot_masks.push(pair.out_labels.iter().fold(0u64, |m, &l| m | (1u64 << l)));
            cur.push(new_slot);
            steps.push(Step { a: sa, b: sb, pair });
        }
        debug_assert_eq!(cur.len(), 1);
        let final_slot = cur[0];
        let final_labels = &labels[final_slot];
        debug_assert_eq!(final_labels.len(), output.len());
        let final_perm = if *final_labels == output {
            None
        } else {
            let perm: Vec<usize> = output
                .iter()
                .map(|l| {
                    final_labels
                        .iter()
                        .position(|x| x == l)
                        .expect("every output label survives to the end")
                })
                .collect();
            Some(Permutation::new(&shapes_of[final_slot], &perm))
        };
        let output_shape = output.iter().map(|&l| sizes[l]).collect();
        Ok(ContractionPlan {
            input_shapes: shapes.iter().map(|s| s.to_vec()).collect(),
            pre,
            steps,
            final_slot,
            final_perm,
            output_shape,
            path,
        })
    }

    /// The pairwise contraction order and its cost.
    pub fn path(&self) -> &ContractionPath {
        &self.path
    }

    /// Total multiply-adds of the pairwise steps (see [`ContractionPath::flops`]).
    pub fn flops(&self) -> u128 {
        self.path.flops
    }

    /// The shape of the result.
    pub fn output_shape(&self) -> &[usize] {
        &self.output_shape
    }

    /// The operand shapes the plan was built for.
    pub fn input_shapes(&self) -> &[Vec<usize>] {
        &self.input_shapes
    }

    /// Number of elements the plan copies into permuted layouts per execution
    /// (input permutations of pairwise steps, the tiles of batch-blocked products,
    /// plus the final permutation); 0 means every product reads its operands and
    /// writes its result in place.
    pub fn copied_elements(&self) -> usize {
        let steps = self.steps.iter().fold(0usize, |acc, s| {
            acc.saturating_add(s.pair.copied_elements())
        });
        let fin = self.final_perm.as_ref().map_or(0, Permutation::len);
        steps.saturating_add(fin)
    }

    /// Runs the plan on operands of the planned shapes.
    ///
    /// Errors with [`Error::InvalidArgument`] on a wrong number of operands and
    /// [`Error::ShapeMismatch`] (naming the operand, the planned and the given
    /// shape) on a wrong shape.
    pub fn execute<T: Scalar>(&self, operands: &[&Tensor<T>]) -> Result<Tensor<T>> {
        if operands.len() != self.input_shapes.len() {
            return Err(Error::invalid_argument(
                "operands",
                format!(
                    "ContractionPlan::execute: the plan has {} operands, {} were given",
                    self.input_shapes.len(),
                    operands.len()
                ),
            ));
        }
        for (p, (t, s)) in operands.iter().zip(&self.input_shapes).enumerate() {
            if t.shape() != s.as_slice() {
                return Err(Error::shape_mismatch(
                    format!("ContractionPlan::execute, operand {p}"),
                    s.clone(),
                    t.shape().to_vec(),
                ));
            }
        }
        let mut slots: Vec<Slot<'_, T>> = Vec::with_capacity(operands.len() + self.steps.len());
        for (t, pre) in operands.iter().zip(&self.pre) {
            slots.push(match pre {
                None => Slot::Borrowed(t.as_slice()),
                Some(p) => Slot::Owned(run_pre(p, t.as_slice())?),
            });
        }
        for step in &self.steps {
            let c = run_pair(&step.pair, slots[step.a].data(), slots[step.b].data())?;
            // Free the inputs of the step early.
            slots[step.a] = Slot::Empty;
            slots[step.b] = Slot::Empty;
            slots.push(Slot::Owned(c));
        }
        let last = std::mem::replace(&mut slots[self.final_slot], Slot::Empty);
        let data = match (&self.final_perm, last) {
            (Some(p), last) => p.apply(last.data())?,
            (None, Slot::Owned(v)) => v,
            (None, last) => last.data().to_vec(),
        };
        Tensor::new(&self.output_shape, data)
    }
}

enum Slot<'a, T> {
    Borrowed(&'a [T]),
    Owned(Vec<T>),
    Empty,
}

impl<T> Slot<'_, T> {
    #[inline]
    fn data(&self) -> &[T] {
        match self {
            Slot::Borrowed(s) => s,
            Slot::Owned(v) => v,
            Slot::Empty => &[],
        }
    }
}

/// Gathers the kept axes (diagonals included) and sums the summed ones.
fn run_pre<T: Scalar>(p: &PreStep, src: &[T]) -> Result<Vec<T>> {
    let mut out = try_vec_with_capacity(p.out_len, "einsum: operand pre-step")?;
    if p.out_len == 0 {
        return Ok(out);
    }
    let nk = p.kept.len();
    let ns = p.summed.len();
    let mut kidx = vec![0usize; nk];
    let mut sidx = vec![0usize; ns];
    let mut base = 0usize;
    let sum_len = saturating_len(p.summed.iter().map(|d| d.0));
    loop {
        let mut acc = T::zero();
        if sum_len > 0 {
            let mut off = base;
            loop {
                acc += src[off];
                let mut ax = ns;
                let mut done = true;
                while ax > 0 {
                    ax -= 1;
                    sidx[ax] += 1;
                    off += p.summed[ax].1;
                    if sidx[ax] < p.summed[ax].0 {
                        done = false;
                        break;
                    }
                    off -= p.summed[ax].1 * p.summed[ax].0;
                    sidx[ax] = 0;
                }
                if done {
                    break;
                }
            }
        }
        out.push(acc);
        let mut ax = nk;
        loop {
            if ax == 0 {
                return Ok(out);
            }
            ax -= 1;
            kidx[ax] += 1;
            base += p.kept[ax].1;
            if kidx[ax] < p.kept[ax].0 {
                break;
            }
            base -= p.kept[ax].1 * p.kept[ax].0;
            kidx[ax] = 0;
        }
    }
}
