mod common;

use common::{pick, rng, split_spec, term_shapes};
use rand::Rng;
use tnlearn::{einsum_path, ContractionPlan, PathOptimizer};

/// Index sets (letters) of the operands after dropping letters that appear in no
/// other operand and not in the output (the engine sums those first).
fn operand_sets(spec: &str) -> (Vec<Vec<char>>, Vec<char>) {
    let (inputs, output) = split_spec(spec);
    let sets = inputs
        .iter()
        .enumerate()
        .map(|(p, t)| {
            let mut v: Vec<char> = Vec::new();
            for &c in t {
                let elsewhere = inputs
                    .iter()
                    .enumerate()
                    .any(|(q, u)| q != p && u.contains(&c));
                if (elsewhere || output.contains(&c)) && !v.contains(&c) {
                    v.push(c);
                }
            }
            v
        })
        .collect();
    (sets, output)
}

fn size(set: &[char], dims: &dyn Fn(char) -> u128) -> u128 {
    set.iter().map(|&c| dims(c)).product()
}

/// Minimum total cost over every sequence of pairwise contractions (brute force).
fn brute_force(ops: Vec<Vec<char>>, output: &[char], dims: &dyn Fn(char) -> u128) -> u128 {
    if ops.len() <= 1 {
        return 0;
    }
    let mut best = u128::MAX;
    for i in 0..ops.len() {
        for j in i + 1..ops.len() {
            let rest: Vec<Vec<char>> = ops
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != i && k != j)
                .map(|(_, o)| o.clone())
                .collect();
            let mut union = ops[i].clone();
            for &c in &ops[j] {
                if !union.contains(&c) {
                    union.push(c);
                }
            }
            let cost = size(&union, dims);
            let result: Vec<char> = union
                .iter()
                .copied()
                .filter(|c| output.contains(c) || rest.iter().any(|o| o.contains(c)))
                .collect();
            let mut next = rest;
            next.push(result);
            best = best.min(cost + brute_force(next, output, dims));
        }
    }
    best
}

/// Cost of a given path (numpy-style positions), computed independently.
fn path_cost(
    mut ops: Vec<Vec<char>>,
    output: &[char],
    dims: &dyn Fn(char) -> u128,
    pairs: &[(usize, usize)],
) -> u128 {
    let mut total = 0;
    for &(i, j) in pairs {
        assert!(i < j && j < ops.len(), "bad pair ({i}, {j})");
        let b = ops.remove(j);
        let a = ops.remove(i);
        let mut union = a.clone();
        for c in b {
            if !union.contains(&c) {
                union.push(c);
            }
        }
        total += size(&union, dims);
        let result = union
            .iter()
            .copied()
            .filter(|c| output.contains(c) || ops.iter().any(|o| o.contains(c)))
            .collect();
        ops.push(result);
    }
    assert_eq!(ops.len(), 1);
    total
}

/// A random connected-ish network of `n` operands with dims 1..=6.
fn random_network(seed: u64, n: usize) -> (String, Vec<Vec<usize>>) {
    let mut r = rng(seed);
    let letters: Vec<char> = "abcdefghijkl".chars().collect();
    let nl = pick(&mut r, 3, 8);
    let dims: Vec<usize> = (0..nl).map(|_| pick(&mut r, 1, 6)).collect();
    let mut terms: Vec<Vec<char>> = vec![Vec::new(); n];
    for (l, &c) in letters[..nl].iter().enumerate() {
        // Each letter in 1..=3 distinct operands.
        let k = pick(&mut r, 1, 3.min(n));
        let _ = l;
        let mut chosen: Vec<usize> = Vec::new();
        while chosen.len() < k {
            let p = r.random_range(0..n);
            if !chosen.contains(&p) {
                chosen.push(p);
            }
        }
        for p in chosen {
            terms[p].push(c);
        }
    }
    let output: String = letters[..nl]
        .iter()
        .filter(|_| r.random_bool(0.3))
        .collect();
    let spec = format!(
        "{}->{}",
        terms
            .iter()
            .map(|t| t.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(","),
        output
    );
    let shapes = term_shapes(&terms, &letters, &dims);
    (spec, shapes)
}

#[test]
fn optimal_equals_brute_force() {
    let mut checked = 0;
    for seed in 0..120u64 {
        let n = 3 + (seed % 3) as usize;
        let (spec, shapes) = random_network(seed, n);
        let shape_refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
        let (inputs, _) = split_spec(&spec);
        let dims = |c: char| -> u128 {
            for (t, s) in inputs.iter().zip(&shapes) {
                if let Some(p) = t.iter().position(|&x| x == c) {
                    return s[p] as u128;
                }
            }
            unreachable!()
        };
        let (sets, output) = operand_sets(&spec);
        let best = brute_force(sets.clone(), &output, &dims);
        let opt = einsum_path(&spec, &shape_refs, PathOptimizer::Optimal).unwrap();
        assert_eq!(opt.flops, best, "{spec} {shapes:?}: optimal {opt:?}");
        // The reported cost is the cost of the reported path.
        assert_eq!(
            path_cost(sets.clone(), &output, &dims, &opt.pairs),
            best,
            "{spec}"
        );
        for o in [
            PathOptimizer::Greedy,
            PathOptimizer::LeftToRight,
            PathOptimizer::Auto,
        ] {
            let p = einsum_path(&spec, &shape_refs, o).unwrap();
            assert_eq!(p.pairs.len(), n - 1);
            assert_eq!(
                path_cost(sets.clone(), &output, &dims, &p.pairs),
                p.flops,
                "{spec} {o:?}"
            );
            assert!(p.flops >= best, "{spec} {o:?} beats the optimum?");
        }
        checked += 1;
    }
    assert_eq!(checked, 120);
}

/// Cases where the left-to-right order is known to be poor; greedy must not be worse.
#[test]
fn greedy_never_worse_than_left_to_right_on_chosen_cases() {
    let cases: &[(&str, &[&[usize]])] = &[
        // Matrix chain with a cheap contraction at the end.
        ("ij,jk,kl->il", &[&[100, 100], &[100, 100], &[100, 2]]),
        // Vector-matrix-matrix: contract the vector first.
        ("ij,jk,k->i", &[&[50, 60], &[60, 70], &[70]]),
        // MPS environment update.
        ("ab,asc,bsd->cd", &[&[64, 64], &[64, 2, 64], &[64, 2, 64]]),
        // Outer products first are bad.
        ("i,j,ij->", &[&[100], &[100], &[100, 100]]),
        // Tree message.
        ("bl,br,alr->ba", &[&[40, 16], &[40, 16], &[16, 16, 16]]),
        // Ring of four.
        ("ab,bc,cd,da->", &[&[8, 30], &[30, 8], &[8, 30], &[30, 8]]),
        // Star: hub first is bad.
        ("abc,a,b,c->", &[&[20, 20, 20], &[20], &[20], &[20]]),
    ];
    for (spec, shapes) in cases {
        let g = einsum_path(spec, shapes, PathOptimizer::Greedy).unwrap();
        let l = einsum_path(spec, shapes, PathOptimizer::LeftToRight).unwrap();
        let o = einsum_path(spec, shapes, PathOptimizer::Optimal).unwrap();
        assert!(
            g.flops <= l.flops,
            "{spec}: greedy {} > left-to-right {}",
            g.flops,
            l.flops
        );
        assert!(o.flops <= g.flops, "{spec}");
    }
}

#[test]
fn path_reports_cost_and_largest_intermediate() {
    let p = einsum_path(
        "ij,jk,kl->il",
        &[&[10, 100], &[100, 5], &[5, 50]],
        PathOptimizer::Optimal,
    )
    .unwrap();
    assert_eq!(p.pairs, vec![(0, 1), (0, 1)]);
    assert_eq!(p.flops, 10 * 100 * 5 + 10 * 5 * 50);
    assert_eq!(p.largest_intermediate, 500);
    assert_eq!(p.optimizer, PathOptimizer::Optimal);
    let l = einsum_path(
        "ij,jk,kl->il",
        &[&[10, 100], &[100, 5], &[5, 50]],
        PathOptimizer::LeftToRight,
    )
    .unwrap();
    assert_eq!(l.pairs, vec![(0, 1), (0, 1)]);
    let q = einsum_path(
        "ij,jk,kl->il",
        &[&[10, 100], &[100, 5], &[5, 50]],
        PathOptimizer::Auto,
    )
    .unwrap();
    assert_eq!(q.optimizer, PathOptimizer::Optimal);
    // Single operand: no steps.
    let s = einsum_path("ij->ji", &[&[3, 4]], PathOptimizer::Greedy).unwrap();
    assert!(s.pairs.is_empty());
    assert_eq!(s.flops, 0);
    let plan = ContractionPlan::new(
        "ij,jk,kl->il",
        &[&[10, 100], &[100, 5], &[5, 50]],
        PathOptimizer::Auto,
    )
    .unwrap();
    assert_eq!(plan.flops(), 7500);
    assert_eq!(plan.output_shape(), &[10, 50]);
    assert_eq!(plan.path().pairs.len(), 2);
}
