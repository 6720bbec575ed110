//! Naive reference implementations for the tests, written independently of the
//! engine: parse the spec with string operations, then loop over every assignment
//! of every index letter.

#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tnlearn::{Scalar, Tensor};

/// (input terms, output term) of a spec, implicit mode resolved as numpy does.
pub fn split_spec(spec: &str) -> (Vec<Vec<char>>, Vec<char>) {
    let spec: String = spec.chars().filter(|c| *c != ' ').collect();
    let (lhs, rhs) = match spec.find("->") {
        Some(p) => (spec[..p].to_string(), Some(spec[p + 2..].to_string())),
        None => (spec.clone(), None),
    };
    let inputs: Vec<Vec<char>> = lhs.split(',').map(|t| t.chars().collect()).collect();
    let output = match rhs {
        Some(r) => r.chars().collect(),
        None => {
            let mut once: Vec<char> = Vec::new();
            for c in inputs.iter().flatten() {
                let n = inputs.iter().flatten().filter(|x| *x == c).count();
                if n == 1 {
                    once.push(*c);
                }
            }
            once.sort();
            once
        }
    };
    (inputs, output)
}

/// The naive einsum: returns the result and, elementwise, the sum of the absolute
/// values of the terms (the scale for a relative error bound).
pub fn naive_einsum<T: Scalar>(spec: &str, ops: &[&Tensor<T>]) -> (Tensor<T>, Vec<f64>) {
    let (inputs, output) = split_spec(spec);
    assert_eq!(inputs.len(), ops.len());
    let mut letters: Vec<char> = Vec::new();
    let mut size_of: Vec<usize> = Vec::new();
    for (term, op) in inputs.iter().zip(ops) {
        assert_eq!(term.len(), op.ndim());
        for (c, &n) in term.iter().zip(op.shape()) {
            match letters.iter().position(|x| x == c) {
                Some(p) => assert_eq!(size_of[p], n),
                None => {
                    letters.push(*c);
                    size_of.push(n);
                }
            }
        }
    }
    let out_shape: Vec<usize> = output
        .iter()
        .map(|c| size_of[letters.iter().position(|x| x == c).unwrap()])
        .collect();
    let out_len: usize = out_shape.iter().product();
    let mut out = vec![T::zero(); out_len];
    let mut scale = vec![0.0f64; out_len];
    let total: usize = size_of.iter().product();
    let mut assign = vec![0usize; letters.len()];
    for flat in 0..total {
        let mut r = flat;
        for p in (0..letters.len()).rev() {
            assign[p] = r % size_of[p];
            r /= size_of[p];
        }
        let value = |c: &char| assign[letters.iter().position(|x| x == c).unwrap()];
        let mut prod = T::one();
        for (term, op) in inputs.iter().zip(ops) {
            let idx: Vec<usize> = term.iter().map(value).collect();
            prod *= op.get(&idx).unwrap();
        }
        let mut o = 0;
        for (c, &n) in output.iter().zip(&out_shape) {
            o = o * n + value(c);
        }
        out[o] += prod;
        scale[o] += prod.abs();
    }
    (Tensor::new(&out_shape, out).unwrap(), scale)
}

/// Asserts `got` equals the reference to `tol` relative to the term scale.
pub fn assert_close<T: Scalar>(
    got: &Tensor<T>,
    reference: &(Tensor<T>, Vec<f64>),
    tol: f64,
    what: &str,
) {
    let (r, scale) = reference;
    assert_eq!(got.shape(), r.shape(), "{what}: shape");
    for (i, ((&g, &e), &s)) in got
        .as_slice()
        .iter()
        .zip(r.as_slice())
        .zip(scale)
        .enumerate()
    {
        let err = (g - e).abs();
        assert!(
            err <= tol * s + 1e-300,
            "{what}: element {i}: got {g}, expected {e} (error {err:e}, scale {s:e})"
        );
    }
}

/// A random valid spec with 1..=max_ops operands (dims 1..=4), exercising shared,
/// batch, trace, summed and outer-product indices; plus the shapes.
pub fn random_spec(seed: u64, max_ops: usize) -> (String, Vec<Vec<usize>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pool: Vec<char> = "abcdefgA".chars().collect();
    let nletters = rng.random_range(1..=pool.len().min(6));
    let mut letters = pool.clone();
    // Shuffle and take.
    for i in (1..letters.len()).rev() {
        let j = rng.random_range(0..=i);
        letters.swap(i, j);
    }
    letters.truncate(nletters);
    let dims: Vec<usize> = letters.iter().map(|_| rng.random_range(1..=4)).collect();
    let nops = rng.random_range(1..=max_ops);
    let mut terms: Vec<Vec<char>> = Vec::new();
    for _ in 0..nops {
        let order = rng.random_range(0..=4);
        let term: Vec<char> = (0..order)
            .map(|_| letters[rng.random_range(0..nletters)])
            .collect();
        terms.push(term);
    }
    // Keep the total loop count small for the naive reference.
    let used: Vec<char> = letters
        .iter()
        .copied()
        .filter(|c| terms.iter().flatten().any(|x| x == c))
        .collect();
    let mut output: Vec<char> = used
        .iter()
        .copied()
        .filter(|_| rng.random_bool(0.5))
        .collect();
    for i in (1..output.len()).rev() {
        let j = rng.random_range(0..=i);
        output.swap(i, j);
    }
    let implicit = rng.random_bool(0.15);
    let mut spec: String = terms
        .iter()
        .map(|t| t.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(if rng.random_bool(0.2) { ", " } else { "," });
    if !implicit {
        spec.push_str("->");
        spec.extend(output.iter());
    }
    let shapes = term_shapes(&terms, &letters, &dims);
    (spec, shapes)
}

/// Random tensors of the given shapes.
pub fn random_operands<T: Scalar>(shapes: &[Vec<usize>], seed: u64) -> Vec<Tensor<T>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    shapes.iter().map(|s| Tensor::random(s, &mut rng)).collect()
}

/// A random seed-derived RNG.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Uniform in a range (helper for test code).
pub fn pick(rng: &mut ChaCha8Rng, lo: usize, hi: usize) -> usize {
    rng.random_range(lo..=hi)
}

/// The shape of every term of a spec, given each letter's dimension
/// (`dims[i]` is the size of `letters[i]`).
pub fn term_shapes(terms: &[Vec<char>], letters: &[char], dims: &[usize]) -> Vec<Vec<usize>> {
    terms
        .iter()
        .map(|t| {
            t.iter()
                .map(|c| dims[letters.iter().position(|x| x == c).unwrap()])
                .collect()
        })
        .collect()
}
