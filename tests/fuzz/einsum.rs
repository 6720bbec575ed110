//! Random einsum specs (sizes including 0, traces, broadcasts of size 1, invalid
//! specs), checked against a brute-force sum when the spec is valid.

use std::collections::BTreeMap;
use std::path::Path;

use rand::Rng;
use tnlearn::{einsum, einsum_with, PathOptimizer, Tensor};

use crate::common::{rng_for, Class, Outcome};

pub const EINSUM: Class = Class {
    name: "einsum",
    run: run_einsum,
    describe,
};

fn describe(seed: u64, index: u64) -> String {
    let mut rng = rng_for(seed, index, 21);
    let (spec, shapes, _, _) = generate(&mut rng);
    format!("einsum {spec:?} on operands of shapes {shapes:?}")
}

/// A spec, the operand shapes, whether the spec is valid by construction, and the
/// label sizes.
fn generate(rng: &mut impl Rng) -> (String, Vec<Vec<usize>>, bool, BTreeMap<char, usize>) {
    let n_labels = rng.random_range(1..=6);
    let labels: Vec<char> = ('a'..='z').take(n_labels).collect();
    let sizes: BTreeMap<char, usize> = labels
        .iter()
        .map(|&c| {
            let s = match rng.random_range(0..10) {
                0 | 1 => 0,
                2 | 3 => 1,
                4..=6 => 2,
                _ => 3,
            };
            (c, s)
        })
        .collect();
    let n_ops = rng.random_range(1..=4);
    let mut inputs: Vec<String> = (0..n_ops)
        .map(|_| {
            let rank = rng.random_range(0..=4);
            (0..rank)
                .map(|_| labels[rng.random_range(0..labels.len())])
                .collect()
        })
        .collect();
    let used: Vec<char> = labels
        .iter()
        .copied()
        .filter(|c| inputs.iter().any(|s| s.contains(*c)))
        .collect();
    let mut valid = true;
    let explicit = rng.random_bool(0.6);
    let mut output = String::new();
    if explicit {
        for &c in &used {
            if rng.random_bool(0.5) {
                output.push(c);
            }
        }
        // Shuffle.
        let mut v: Vec<char> = output.chars().collect();
        for i in (1..v.len()).rev() {
            v.swap(i, rng.random_range(0..=i));
        }
        output = v.into_iter().collect();
    }
    let mut shapes: Vec<Vec<usize>> = inputs
        .iter()
        .map(|s| s.chars().map(|c| sizes[&c]).collect())
        .collect();
    if rng.random_bool(0.1) {
        valid = false;
        match rng.random_range(0..6) {
            0 => output.push('z'),     // output label not in the inputs
            1 => inputs[0].push('#'),  // bad character
            2 => shapes.push(vec![2]), // operand count mismatch
            3 if !shapes[0].is_empty() => shapes[0][0] += 1, // size mismatch (maybe)
            4 => output = format!("{output}{output}a"), // repeated output labels
            _ => inputs.push("->".into()),
        }
    }
    let spec = if explicit || !valid {
        format!("{}->{}", inputs.join(","), output)
    } else {
        inputs.join(",")
    };
    (spec, shapes, valid, sizes)
}

/// The brute-force value of a valid spec.
fn reference(
    spec: &str,
    ops: &[Tensor<f64>],
    sizes: &BTreeMap<char, usize>,
) -> (Vec<usize>, Vec<f64>) {
    let (ins, out) = match spec.split_once("->") {
        Some((i, o)) => (i.to_string(), o.to_string()),
        None => {
            // Implicit: labels that appear once, alphabetically.
            let mut count: BTreeMap<char, usize> = BTreeMap::new();
            for c in spec.chars().filter(|c| c.is_ascii_alphabetic()) {
                *count.entry(c).or_default() += 1;
            }
            let out: String = count
                .iter()
                .filter(|(_, &n)| n == 1)
                .map(|(&c, _)| c)
                .collect();
            (spec.to_string(), out)
        }
    };
    let ins: Vec<Vec<char>> = ins.split(',').map(|s| s.chars().collect()).collect();
    let all: Vec<char> = sizes
        .keys()
        .copied()
        .filter(|c| ins.iter().any(|s| s.contains(c)))
        .collect();
    let out: Vec<char> = out.chars().collect();
    let out_shape: Vec<usize> = out.iter().map(|c| sizes[c]).collect();
    let out_len: usize = out_shape.iter().product();
    let mut result = vec![0.0; out_len];
    let total: usize = all.iter().map(|c| sizes[c]).product();
    let mut assign = vec![0usize; all.len()];
    for flat in 0..total {
        let mut r = flat;
        for k in (0..all.len()).rev() {
            let s = sizes[&all[k]];
            assign[k] = r % s;
            r /= s;
        }
        let val = |c: &char| assign[all.iter().position(|x| x == c).unwrap()];
        let mut prod = 1.0;
        for (op, labels) in ops.iter().zip(&ins) {
            let idx: Vec<usize> = labels.iter().map(val).collect();
            prod *= op.get(&idx).expect("index in range");
        }
        let mut o = 0;
        for c in &out {
            o = o * sizes[c] + val(c);
        }
        result[o] += prod;
    }
    (out_shape, result)
}

fn run_einsum(seed: u64, index: u64, _scratch: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 21);
    let (spec, shapes, valid, sizes) = generate(&mut rng);
    let ops: Vec<Tensor<f64>> = shapes
        .iter()
        .map(|s| Tensor::from_fn(s, |_| f64::from(rng.random_range(-3i8..=3))))
        .collect();
    let refs: Vec<&Tensor<f64>> = ops.iter().collect();
    let r = match rng.random_range(0..3) {
        0 => einsum(&spec, &refs),
        1 => einsum_with(&spec, &refs, PathOptimizer::Optimal),
        _ => einsum_with(&spec, &refs, PathOptimizer::Greedy),
    };
    match r {
        Ok(t) => {
            if !valid {
                return Outcome::Ok;
            }
            let (shape, want) = reference(&spec, &ops, &sizes);
            if t.shape() != shape.as_slice() {
                return Outcome::Invalid(format!(
                    "{spec}: shape {:?}, expected {shape:?}",
                    t.shape()
                ));
            }
            for (k, (a, b)) in t.as_slice().iter().zip(&want).enumerate() {
                if (a - b).abs() > 1e-9 * (1.0 + b.abs()) {
                    return Outcome::Invalid(format!("{spec}: element {k} is {a}, expected {b}"));
                }
            }
            Outcome::Ok
        }
        Err(e) => {
            if valid {
                Outcome::Invalid(format!("{spec} on {shapes:?} is valid but fails: {e}"))
            } else {
                Outcome::from_error(&e, None)
            }
        }
    }
}
