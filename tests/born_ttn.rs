//! TTN Born machine against independent references: enumeration with a naive
//! recursive contraction, the equivalent MPS, finite differences, chi-square
//! goodness of fit, a learning task with a known optimum, file round trips and
//! failure modes.

mod born_common;
use born_common::{
    bars_and_stripes, chi2, chi2_critical, conditional_samples_match_enumeration, configs,
    random_data,
};
use ndarray::{Array2, Array3, Array4};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tnlearn::born::{
    BornMachine, BornOptions, FitControl, HalfSweepReport, MpsBornMachine, TtnBornMachine,
};
use tnlearn::ttn::{Child, Tree, Ttn};
use tnlearn::{Dataset, Error, Mps};

// ------------------------------------------------------------------ references

/// The message of a child by plain loops: one-hot for a site, the contraction
/// `sum_{b,c} T[a,b,c] m_l[b] m_r[c]` for a node.
fn message(tree: &Tree, tensors: &[Array3<f64>], c: Child, x: &[u8], d: usize) -> Vec<f64> {
    match c {
        Child::Site(s) => {
            let mut e = vec![0.0; d];
            e[x[s] as usize] = 1.0;
            e
        }
        Child::Node(v) => {
            let [l, r] = tree.children(v);
            let ml = message(tree, tensors, l, x, d);
            let mr = message(tree, tensors, r, x, d);
            let t = &tensors[v];
            let (da, db, dc) = t.dim();
            (0..da)
                .map(|a| {
                    let mut s = 0.0;
                    for b in 0..db {
                        for c in 0..dc {
                            s += t[[a, b, c]] * ml[b] * mr[c];
                        }
                    }
                    s
                })
                .collect()
        }
    }
}

fn psi(tree: &Tree, tensors: &[Array3<f64>], x: &[u8], d: usize) -> f64 {
    message(tree, tensors, Child::Node(tree.root()), x, d)[0]
}

/// p(x) for every configuration by enumeration.
fn enumerate_p(model: &TtnBornMachine) -> (Vec<Vec<u8>>, Vec<f64>) {
    let d = model.num_states();
    let cs = configs(model.num_sites(), d);
    let amps: Vec<f64> = cs
        .iter()
        .map(|x| psi(model.tree(), model.tensors(), x, d).powi(2))
        .collect();
    let z: f64 = amps.iter().sum();
    (cs, amps.iter().map(|a| a / z).collect())
}

fn random_model(tree: Tree, d: usize, bond: usize, seed: u64) -> TtnBornMachine {
    TtnBornMachine::new(
        tree,
        d,
        BornOptions::new()
            .initial_bond(bond)
            .max_bond(bond.max(8))
            .seed(seed),
    )
    .unwrap()
}

// ------------------------------------------------------------------- trees

#[test]
fn image_trees_cover_rectangles() {
    for (rows, cols) in [(3, 3), (4, 2), (28, 28), (5, 7), (1, 6)] {
        let t = Tree::image(rows, cols).unwrap();
        assert_eq!(t.num_sites(), rows * cols);
        assert_eq!(t.num_nodes(), rows * cols - 1);
        // Every subtree covers a full rectangle of pixels.
        for v in 0..t.num_nodes() {
            let mut sites = Vec::new();
            let mut stack = vec![Child::Node(v)];
            while let Some(c) = stack.pop() {
                match c {
                    Child::Site(s) => sites.push(s),
                    Child::Node(u) => stack.extend(t.children(u)),
                }
            }
            let rs: Vec<usize> = sites.iter().map(|s| s / cols).collect();
            let cs: Vec<usize> = sites.iter().map(|s| s % cols).collect();
            let (r0, r1) = (*rs.iter().min().unwrap(), *rs.iter().max().unwrap());
            let (c0, c1) = (*cs.iter().min().unwrap(), *cs.iter().max().unwrap());
            assert_eq!(sites.len(), (r1 - r0 + 1) * (c1 - c0 + 1), "node {v}");
        }
        let mut leaves = t.leaf_order().to_vec();
        leaves.sort_unstable();
        assert_eq!(leaves, (0..rows * cols).collect::<Vec<_>>());
    }
    // 28 x 28: depth ceil(log2 784) = 10; the first pairs are horizontal neighbours.
    let t = Tree::image(28, 28).unwrap();
    assert_eq!(t.depth(), 10);
    let (v, _) = t.site_parent(0);
    assert_eq!(t.children(v), [Child::Site(0), Child::Site(1)]);
    assert_eq!(Tree::balanced(5).unwrap().depth(), 3);
    assert_eq!(Tree::chain(6).unwrap().depth(), 5);
}

#[test]
fn explicit_trees_are_validated() {
    use Child::{Node, Site};
    let msg = |c: Vec<[Child; 2]>| match Tree::new(c) {
        Err(Error::InvalidArgument { reason, .. }) => reason,
        other => panic!("expected an error, got {other:?}"),
    };
    assert!(msg(vec![]).contains("at least one node"));
    assert!(msg(vec![[Site(0), Site(0)]]).contains("site 0"));
    assert!(msg(vec![[Site(0), Site(2)]]).contains("site 2"));
    assert!(msg(vec![[Site(0), Node(0)], [Site(1), Site(2)]]).contains("own child"));
    assert!(msg(vec![[Site(0), Node(1)], [Site(1), Node(0)]]).contains("root"));
    assert!(msg(vec![[Site(0), Node(5)], [Site(1), Site(2)]]).contains("node 5"));
    assert!(msg(vec![
        [Site(0), Site(1)],
        [Site(2), Site(3)],
        [Node(0), Node(0)]
    ])
    .contains("node 0"));
    let t = Tree::new(vec![[Node(1), Site(2)], [Site(0), Site(1)]]).unwrap();
    assert_eq!(t.root(), 0);
    assert_eq!(t.leaf_order(), &[0, 1, 2]);
}

#[test]
fn canonical_forms_keep_the_state_and_are_isometric() {
    let mut rng = StdRng::seed_from_u64(4);
    let tree = Tree::image(3, 3).unwrap();
    let t0 = Ttn::<f64>::random(tree.clone(), 2, 3, &mut rng).unwrap();
    let cs = configs(9, 2);
    let amps = |t: &Ttn<f64>| -> Vec<f64> {
        cs.iter()
            .map(|x| {
                let xs: Vec<usize> = x.iter().map(|&v| v as usize).collect();
                t.log_amplitude(&xs).unwrap().to_value()
            })
            .collect()
    };
    let a0 = amps(&t0);
    let naive: Vec<f64> = cs.iter().map(|x| psi(&tree, t0.tensors(), x, 2)).collect();
    for (a, b) in a0.iter().zip(&naive) {
        assert!((a - b).abs() < 1e-12 * (1.0 + b.abs()));
    }
    let norm2: f64 = naive.iter().map(|a| a * a).sum();
    assert!((t0.log_norm().unwrap() - 0.5 * norm2.ln()).abs() < 1e-10);
    for c in 0..tree.num_nodes() {
        let mut t = t0.clone();
        t.canonicalize(c).unwrap();
        assert_eq!(t.center(), Some(c));
        for (a, b) in amps(&t).iter().zip(&a0) {
            assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()), "centre {c}");
        }
        // Every other node is an isometry towards c.
        for v in 0..tree.num_nodes() {
            if v == c {
                continue;
            }
            let path = tree_path(&tree, v, c);
            let leg = if tree.parent(v).map(|p| p.0) == Some(path[1]) {
                0
            } else if tree.children(v)[0] == Child::Node(path[1]) {
                1
            } else {
                2
            };
            let tv = &t.tensors()[v];
            let k = tv.shape()[leg];
            let mut g = Array2::<f64>::zeros((k, k));
            for (idx, &x) in tv.indexed_iter() {
                for (idy, &y) in tv.indexed_iter() {
                    let (ix, iy) = ([idx.0, idx.1, idx.2], [idy.0, idy.1, idy.2]);
                    if (0..3).all(|l| l == leg || ix[l] == iy[l]) {
                        g[(ix[leg], iy[leg])] += x * y;
                    }
                }
            }
            let err = (&g - &Array2::<f64>::eye(k)).mapv(f64::abs).sum();
            assert!(err < 1e-10, "centre {c}, node {v}: not an isometry ({err})");
        }
        // Moving the centre along the tree from c to the root keeps everything.
        t.move_center(tree.root()).unwrap();
        for (a, b) in amps(&t).iter().zip(&a0) {
            assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()));
        }
    }
}

fn tree_path(tree: &Tree, from: usize, to: usize) -> Vec<usize> {
    let up = |mut v: usize| {
        let mut a = vec![v];
        while let Some((p, _)) = tree.parent(v) {
            v = p;
            a.push(v);
        }
        a
    };
    let (a, b) = (up(from), up(to));
    let lca = *a.iter().find(|v| b.contains(v)).unwrap();
    let mut p: Vec<usize> = a.iter().copied().take_while(|&v| v != lca).collect();
    p.push(lca);
    let tail: Vec<usize> = b.iter().copied().take_while(|&v| v != lca).collect();
    p.extend(tail.iter().rev());
    p
}

// --------------------------------------------------------------- exactness

fn check_exact(tree: Tree, d: usize, bond: usize) {
    let n = tree.num_sites();
    let model = random_model(tree, d, bond, 11);
    let (cs, p) = enumerate_p(&model);
    let total: f64 = cs.iter().map(|x| model.log_prob(x).unwrap().exp()).sum();
    assert!((total - 1.0).abs() < 1e-10, "sum p = {total}");
    for (x, &px) in cs.iter().zip(&p) {
        let lp = model.log_prob(x).unwrap();
        assert!(
            (lp - px.ln()).abs() < 1e-10,
            "x = {x:?}: {lp} vs {}",
            px.ln()
        );
    }
    let mut rng = StdRng::seed_from_u64(5);
    let data = random_data(60, n, d, &mut rng);
    let index = |x: &[u8]| x.iter().fold(0usize, |acc, &v| acc * d + v as usize);
    let want = -data
        .samples()
        .rows()
        .into_iter()
        .map(|r| p[index(r.as_slice().unwrap())].ln())
        .sum::<f64>()
        / 60.0;
    let got = model.nll(&data).unwrap();
    assert!((got - want).abs() < 1e-10, "nll {got} vs {want}");
    assert_eq!(got, BornMachine::nll(&model, &data).unwrap());
    let lps = model.log_probs(data.samples()).unwrap();
    assert!((-lps.iter().sum::<f64>() / 60.0 - want).abs() < 1e-10);
    // Marginal of three sites, out of order.
    let sites = [n - 2, 1, n / 2 - 1];
    let m = model.marginal(&sites).unwrap();
    assert_eq!(m.shape(), &[d, d, d]);
    let mut want = ndarray::ArrayD::<f64>::zeros(vec![d, d, d]);
    for (x, &px) in cs.iter().zip(&p) {
        want[[
            x[sites[0]] as usize,
            x[sites[1]] as usize,
            x[sites[2]] as usize,
        ]] += px;
    }
    let diff = (&m - &want).mapv(f64::abs).fold(0.0_f64, |a, &b| a.max(b));
    assert!(diff < 1e-10, "marginal differs by {diff}");
    for k in 0..n {
        let m = model.marginal(&[k]).unwrap();
        for s in 0..d {
            let w: f64 = cs
                .iter()
                .zip(&p)
                .filter(|(x, _)| x[k] as usize == s)
                .map(|(_, p)| p)
                .sum();
            assert!((m[[s]] - w).abs() < 1e-10);
        }
    }
}

#[test]
fn probabilities_nll_marginals_match_enumeration() {
    check_exact(Tree::image(3, 3).unwrap(), 2, 4);
    check_exact(Tree::image(4, 2).unwrap(), 2, 3);
    check_exact(Tree::balanced(6).unwrap(), 3, 4);
    check_exact(Tree::chain(7).unwrap(), 2, 3);
}

#[test]
fn caterpillar_ttn_equals_the_mps() {
    // The MPS A_k[l, s, r] is node k of the chain tree with T_k[l, s, r] (parent leg
    // = left bond), the last two sites merged into one node.
    let n = 9;
    let mut rng = StdRng::seed_from_u64(12);
    let mps = Mps::<f64>::random(&[2; 9], 4, &mut rng).unwrap();
    let mps_model = MpsBornMachine::from_mps(&mps, BornOptions::new().max_bond(8)).unwrap();
    // MPS and TTN share their site-tensor type (Array3).
    let a: Vec<Array3<f64>> = mps.tensors().to_vec();
    let mut tensors: Vec<Array3<f64>> = a[..n - 2].to_vec();
    // Last node: T[l, s, s'] = sum_m A_{n-2}[l, s, m] A_{n-1}[m, s', 0].
    let (dl, d, dm) = a[n - 2].dim();
    let last = Array3::from_shape_fn((dl, d, d), |(l, s, t)| {
        (0..dm)
            .map(|m| a[n - 2][[l, s, m]] * a[n - 1][[m, t, 0]])
            .sum()
    });
    tensors.push(last);
    let ttn = Ttn::from_tensors(Tree::chain(n).unwrap(), 2, tensors).unwrap();
    let model = TtnBornMachine::from_ttn(&ttn, BornOptions::new().max_bond(8)).unwrap();
    for x in configs(n, 2) {
        let (a, b) = (model.log_prob(&x).unwrap(), mps_model.log_prob(&x).unwrap());
        assert!((a - b).abs() < 1e-10, "x = {x:?}: TTN {a} vs MPS {b}");
    }
    let m1 = model.marginal(&[0, 4, 8]).unwrap();
    let m2 = mps_model.marginal(&[0, 4, 8]).unwrap();
    assert!((&m1 - &m2).mapv(f64::abs).sum() < 1e-10);
}

// ----------------------------------------------------------------- samplers

#[test]
fn unconditional_samples_pass_chi_square() {
    for (tree, d) in [
        (Tree::image(3, 3).unwrap(), 2usize),
        (Tree::balanced(5).unwrap(), 3),
    ] {
        let model = random_model(tree, d, 3, 21);
        let (_, p) = enumerate_p(&model);
        let mut rng = StdRng::seed_from_u64(2024);
        let draws = 100_000;
        let s = model.sample(draws, &mut rng).unwrap();
        let mut counts = vec![0usize; p.len()];
        for r in s.rows() {
            counts[r.iter().fold(0usize, |a, &v| a * d + v as usize)] += 1;
        }
        let (stat, dof) = chi2(&counts, &p, draws);
        let crit = chi2_critical(dof);
        assert!(stat < crit, "d={d}: chi2 {stat} > {crit} (dof {dof})");
        let again = model
            .sample(draws, &mut StdRng::seed_from_u64(2024))
            .unwrap();
        assert_eq!(s, again);
    }
}

#[test]
fn conditional_samples_pass_chi_square() {
    let model = random_model(Tree::image(3, 3).unwrap(), 2, 3, 31);
    let (cs, p) = enumerate_p(&model);
    let masks: [&[usize]; 7] = [
        &[0, 1, 2],
        &[1, 4, 6],
        &[8],
        &[0, 3, 5, 7],
        &[],
        &[2, 3, 4, 5],
        &[0, 1, 2, 3, 4, 5, 6, 7],
    ];
    let mut rng = StdRng::seed_from_u64(77);
    conditional_samples_match_enumeration(&model, &cs, &p, &masks, 60_000, &mut rng);
    let x = vec![1u8, 0, 1, 1, 0, 0, 1, 0, 1];
    let s = model
        .sample_conditional(&x, &[true; 9], 3, &mut rng)
        .unwrap();
    assert!(s.rows().into_iter().all(|r| r.to_vec() == x));
}

#[test]
fn edge_gradient_matches_finite_differences() {
    // (tree, d, child node of the edge): edges at the root, in the middle, at the
    // bottom, of an image tree, a balanced tree with d = 3 and a chain.
    let cases: Vec<(Tree, usize)> = vec![
        (Tree::image(3, 3).unwrap(), 2),
        (Tree::balanced(6).unwrap(), 3),
        (Tree::chain(6).unwrap(), 2),
    ];
    for (tree, d) in cases {
        let n = tree.num_sites();
        let edges: Vec<usize> = (0..tree.num_nodes())
            .filter(|&v| tree.parent(v).is_some())
            .collect();
        for &c in &edges {
            let mut model = random_model(tree.clone(), d, 3, 3);
            let mut rng = StdRng::seed_from_u64(9);
            let data = Dataset::new(model.sample(40, &mut rng).unwrap(), d).unwrap();
            let (b, g) = model.edge_gradient(&data, c).unwrap();
            let (p, side) = tree.parent(c).unwrap();
            let tensors = model.tensors().to_vec();
            let (da, dob, dl, dr) = b.dim();
            // psi with B replacing (T_p, T_c): T_p' carries B with the edge leg of
            // size dl*dr, T_c' is the identity reshaped (dl*dr, dl, dr).
            let with_b = |b: &Array4<f64>| -> Vec<Array3<f64>> {
                let mut t = tensors.clone();
                t[p] = if side == 0 {
                    Array3::from_shape_fn((da, dl * dr, dob), |(a, e, o)| b[[a, o, e / dr, e % dr]])
                } else {
                    Array3::from_shape_fn((da, dob, dl * dr), |(a, o, e)| b[[a, o, e / dr, e % dr]])
                };
                t[c] = Array3::from_shape_fn((dl * dr, dl, dr), |(e, l, r)| {
                    if e == l * dr + r {
                        1.0
                    } else {
                        0.0
                    }
                });
                t
            };
            let cs = configs(n, d);
            let nll_of = |b: &Array4<f64>| {
                let t = with_b(b);
                let z: f64 = cs.iter().map(|x| psi(&tree, &t, x, d).powi(2)).sum();
                let s: f64 = data
                    .samples()
                    .rows()
                    .into_iter()
                    .map(|r| psi(&tree, &t, r.as_slice().unwrap(), d).abs().ln())
                    .sum();
                z.ln() - 2.0 * s / data.len() as f64
            };
            assert!((nll_of(&b) - model.nll(&data).unwrap()).abs() < 1e-10);
            let h = 1e-5;
            let mut worst: f64 = 0.0;
            for idx in ndarray::indices(b.dim()) {
                let mut bp = b.clone();
                bp[idx] += h;
                let mut bm = b.clone();
                bm[idx] -= h;
                let fd = (nll_of(&bp) - nll_of(&bm)) / (2.0 * h);
                worst = worst.max((fd - g[idx]).abs() / (1.0 + g[idx].abs()));
            }
            assert!(
                worst < 1e-6,
                "d = {d}, edge above node {c}: worst relative error {worst}"
            );
        }
    }
}

#[test]
fn root_bond_gradient_matches_finite_differences() {
    // The root bond (both root children nodes) is updated through the root:
    // B[l1, l2, r1, r2] = sum T_L[b, l1, l2] T_root[0, b, c] T_R[c, r1, r2].
    for (tree, d) in [
        (Tree::image(3, 3).unwrap(), 2usize),
        (Tree::balanced(6).unwrap(), 3),
    ] {
        let n = tree.num_sites();
        let mut model = random_model(tree.clone(), d, 3, 4);
        let mut rng = StdRng::seed_from_u64(10);
        let data = Dataset::new(model.sample(40, &mut rng).unwrap(), d).unwrap();
        let (b, g) = model.root_bond_gradient(&data).unwrap();
        let root = tree.root();
        let (l, r) = match tree.children(root) {
            [Child::Node(l), Child::Node(r)] => (l, r),
            other => panic!("root children {other:?}"),
        };
        let tensors = model.tensors().to_vec();
        let (l1, l2, r1, r2) = b.dim();
        // T_L' = identity (l1 l2, l1, l2), T_root' = B as (1, l1 l2, r1 r2), T_R' = identity.
        let with_b =
            |b: &Array4<f64>| -> Vec<Array3<f64>> {
                let mut t = tensors.clone();
                t[l] = Array3::from_shape_fn((l1 * l2, l1, l2), |(e, x, y)| {
                    if e == x * l2 + y {
                        1.0
                    } else {
                        0.0
                    }
                });
                t[r] = Array3::from_shape_fn((r1 * r2, r1, r2), |(e, x, y)| {
                    if e == x * r2 + y {
                        1.0
                    } else {
                        0.0
                    }
                });
                t[root] = Array3::from_shape_fn((1, l1 * l2, r1 * r2), |(_, e, f)| {
                    b[[e / l2, e % l2, f / r2, f % r2]]
                });
                t
            };
        let cs = configs(n, d);
        let nll_of = |b: &Array4<f64>| {
            let t = with_b(b);
            let z: f64 = cs.iter().map(|x| psi(&tree, &t, x, d).powi(2)).sum();
            let s: f64 = data
                .samples()
                .rows()
                .into_iter()
                .map(|row| psi(&tree, &t, row.as_slice().unwrap(), d).abs().ln())
                .sum();
            z.ln() - 2.0 * s / data.len() as f64
        };
        assert!((nll_of(&b) - model.nll(&data).unwrap()).abs() < 1e-10);
        let h = 1e-5;
        let mut worst: f64 = 0.0;
        for idx in ndarray::indices(b.dim()) {
            let mut bp = b.clone();
            bp[idx] += h;
            let mut bm = b.clone();
            bm[idx] -= h;
            let fd = (nll_of(&bp) - nll_of(&bm)) / (2.0 * h);
            worst = worst.max((fd - g[idx]).abs() / (1.0 + g[idx].abs()));
        }
        assert!(
            worst < 1e-6,
            "d = {d}: root bond, worst relative error {worst}"
        );
    }
    // A chain has no root bond.
    let mut chain = random_model(Tree::chain(5).unwrap(), 2, 2, 1);
    let data = Dataset::binary(Array2::zeros((3, 5))).unwrap();
    assert!(chain.root_bond_gradient(&data).is_err());
}

// ----------------------------------------------------------------- learning

#[test]
fn learns_bars_and_stripes_to_ln_30() {
    let data = Dataset::binary(bars_and_stripes(4)).unwrap();
    assert_eq!(data.len(), 30);
    let opts = BornOptions::new()
        .max_bond(16)
        .cutoff(1e-9)
        .learning_rate(0.05)
        .steps_per_bond(2)
        .sweeps(30)
        .seed(1);
    let mut model = TtnBornMachine::for_image(4, 4, 2, opts).unwrap();
    let start = std::time::Instant::now();
    let floor = 30f64.ln();
    let reports = model
        .fit_with(&data, &mut |r: &HalfSweepReport, _m: &TtnBornMachine| {
            if r.train_nll < floor + 1e-3 {
                FitControl::Stop
            } else {
                FitControl::Continue
            }
        })
        .unwrap();
    let nll = model.nll(&data).unwrap();
    let last = reports.last().unwrap();
    eprintln!(
        "bars-and-stripes (TTN): NLL {nll:.5} (ln 30 = {floor:.5}) after {} half-sweeps, \
         max bond {}, {:.2} s",
        reports.len(),
        last.max_bond,
        start.elapsed().as_secs_f64()
    );
    assert!((nll - floor).abs() < 0.01, "NLL {nll}");
    assert!(
        (last.train_nll - nll).abs() < 1e-9,
        "report {} vs {nll}",
        last.train_nll
    );
    assert_eq!(model.center(), model.tree().root());
    let set: std::collections::HashSet<Vec<u8>> = data
        .samples()
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    let s = model.sample(1000, &mut StdRng::seed_from_u64(3)).unwrap();
    let valid = s
        .rows()
        .into_iter()
        .filter(|r| set.contains(&r.to_vec()))
        .count();
    assert!(valid >= 980, "{valid} of 1000 samples are bars or stripes");
}

#[test]
fn observer_can_stop_training_and_minibatches_learn() {
    let data = Dataset::binary(bars_and_stripes(3)).unwrap();
    let mut model = TtnBornMachine::for_image(3, 3, 2, BornOptions::new().sweeps(10)).unwrap();
    let mut calls = 0;
    let reports = model
        .fit_with(&data, &mut |_r: &HalfSweepReport, _m: &TtnBornMachine| {
            calls += 1;
            if calls == 3 {
                FitControl::Stop
            } else {
                FitControl::Continue
            }
        })
        .unwrap();
    assert_eq!(reports.len(), 3);
    assert_eq!(model.center(), model.tree().root());
    // Minibatch training from a fresh model decreases the NLL.
    let mut model = TtnBornMachine::for_image(3, 3, 2, BornOptions::new().seed(5)).unwrap();
    let before = model.nll(&data).unwrap();
    model
        .set_options(
            BornOptions::new()
                .batch_size(Some(5))
                .steps_per_bond(3)
                .sweeps(2),
        )
        .unwrap();
    model.fit(&data).unwrap();
    let after = model.nll(&data).unwrap();
    eprintln!(
        "minibatch training: NLL {before} -> {after} (floor ln 14 = {})",
        14f64.ln()
    );
    assert!(after < before);
}

/// Every two-node update keeps or lowers the exact training NLL, even with steps
/// far too long for the rank bound (learning rate 5, max bond 2, minibatches):
/// the updated merged tensor is split only if the split improves on the old one.
/// The NLL before training is the exact one by enumeration; after every
/// half-sweep the reported training NLL must not exceed the previous one, and
/// the final model's enumerated NLL equals the last report.
#[test]
fn updates_never_raise_the_training_nll() {
    let data = random_data(40, 12, 2, &mut StdRng::seed_from_u64(7));
    for batch in [None, Some(9)] {
        let opts = BornOptions::new()
            .max_bond(2)
            .learning_rate(5.0)
            .steps_per_bond(2)
            .batch_size(batch)
            .sweeps(4)
            .seed(3);
        let mut model = TtnBornMachine::for_image(4, 3, 2, opts).unwrap();
        let nll_by_enumeration = |model: &TtnBornMachine| {
            let (xs, p) = enumerate_p(model);
            let index: std::collections::HashMap<Vec<u8>, f64> = xs.into_iter().zip(p).collect();
            -data
                .samples()
                .rows()
                .into_iter()
                .map(|r| index[&r.to_vec()].ln())
                .sum::<f64>()
                / data.len() as f64
        };
        let mut prev = nll_by_enumeration(&model);
        let start = prev;
        let reports = model.fit(&data).unwrap();
        for r in &reports {
            assert!(
                r.train_nll <= prev + 1e-9,
                "batch {batch:?}: NLL rose from {prev} to {} (half-sweep {})",
                r.train_nll,
                r.half_sweep()
            );
            prev = r.train_nll;
        }
        let end = nll_by_enumeration(&model);
        assert!((end - prev).abs() < 1e-9, "{end} vs report {prev}");
        eprintln!("batch {batch:?}: NLL {start:.4} -> {end:.4}");
    }
}

// --------------------------------------------------------------- save / load

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tnlearn_born_ttn_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn save_load_round_trip_and_bad_files() {
    let data = Dataset::binary(bars_and_stripes(3)).unwrap();
    let mut model =
        TtnBornMachine::for_image(3, 3, 2, BornOptions::new().sweeps(2).max_bond(6)).unwrap();
    model.fit(&data).unwrap();
    let path = temp_path("model.tnlttn");
    model.save(&path).unwrap();
    let loaded = TtnBornMachine::load(&path).unwrap();
    assert_eq!(loaded.options(), model.options());
    assert_eq!(loaded.center(), model.center());
    assert_eq!(loaded.tree(), model.tree());
    for x in configs(9, 2) {
        assert_eq!(
            model.log_prob(&x).unwrap().to_bits(),
            loaded.log_prob(&x).unwrap().to_bits()
        );
    }
    let a = model.sample(500, &mut StdRng::seed_from_u64(8)).unwrap();
    let b = loaded.sample(500, &mut StdRng::seed_from_u64(8)).unwrap();
    assert_eq!(a, b);

    let bytes = std::fs::read(&path).unwrap();
    let expect_format = |p: &std::path::Path, what: &str| match TtnBornMachine::load(p) {
        Err(Error::Format { path, reason }) => {
            assert_eq!(path, p);
            eprintln!("{what}: {reason}");
            reason
        }
        other => panic!("{what}: expected a format error, got {other:?}"),
    };
    for cut in [0, 5, 12, 23, 40, 130, bytes.len() / 2, bytes.len() - 1] {
        let p = temp_path(&format!("cut{cut}.tnlttn"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        expect_format(&p, &format!("truncated at {cut}"));
    }
    for pos in (0..bytes.len()).step_by(7) {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x10;
        let p = temp_path("flipped.tnlttn");
        std::fs::write(&p, &bad).unwrap();
        expect_format(&p, &format!("flipped byte {pos}"));
    }
    // Consistent checksum but impossible contents.
    let patch = |offset: usize, value: &[u8], what: &str| {
        let mut bad = bytes.clone();
        bad[offset..offset + value.len()].copy_from_slice(value);
        let end = bad.len() - 4;
        let crc = crc32fast::hash(&bad[..end]);
        bad[end..].copy_from_slice(&crc.to_le_bytes());
        let p = temp_path("patched.tnlttn");
        std::fs::write(&p, &bad).unwrap();
        expect_format(&p, what)
    };
    patch(20, &u64::MAX.to_le_bytes(), "num_sites = u64::MAX");
    patch(28, &1000u64.to_le_bytes(), "num_nodes = 1000");
    patch(36, &300u64.to_le_bytes(), "num_states = 300");
    patch(44, &8u64.to_le_bytes(), "centre out of range");
    patch(77, &(-1.0f64).to_le_bytes(), "negative learning rate");
    patch(125, &[9], "unknown step rule");
    patch(142, &[7], "unknown child kind");
    let r = patch(143, &5u64.to_le_bytes(), "a child used twice");
    assert!(r.contains("invalid tree"), "{r}");
    patch(286, &(1u64 << 40).to_le_bytes(), "huge bond");
    patch(286, &2u64.to_le_bytes(), "root parent dimension 2");
    patch(310, &f64::NAN.to_le_bytes(), "NaN entry");
    // Foreign files, an MPS model file, a missing file.
    let p = temp_path("foreign.txt");
    std::fs::write(&p, b"P5\n28 28\n255\nnot a model at all").unwrap();
    expect_format(&p, "foreign file");
    let mps = MpsBornMachine::new(9, 2, BornOptions::new()).unwrap();
    let p = temp_path("mps.tnlborn");
    mps.save(&p).unwrap();
    assert!(expect_format(&p, "MPS file").contains("MpsBornMachine::load"));
    match TtnBornMachine::load(temp_path("missing.tnlttn")) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("missing.tnlttn")),
        other => panic!("expected Io error, got {other:?}"),
    }
}

// ------------------------------------------------------------ bad input

#[test]
fn bad_input_is_an_error_naming_the_culprit() {
    let name = |r: Result<TtnBornMachine, Error>| match r {
        Err(Error::InvalidArgument { name, .. }) => name,
        other => panic!("expected InvalidArgument, got {other:?}"),
    };
    let t = || Tree::image(3, 3).unwrap();
    assert_eq!(
        name(TtnBornMachine::new(t(), 2, BornOptions::new().max_bond(0))),
        "max_bond"
    );
    assert_eq!(
        name(TtnBornMachine::new(t(), 2, BornOptions::new().sweeps(0))),
        "sweeps"
    );
    assert_eq!(
        name(TtnBornMachine::new(t(), 1, BornOptions::new())),
        "num_states"
    );
    assert_eq!(
        name(TtnBornMachine::new(
            Tree::chain(2).unwrap(),
            2,
            BornOptions::new()
        )),
        "tree"
    );
    assert_eq!(
        name(TtnBornMachine::for_image(1, 1, 2, BornOptions::new())),
        "rows, cols"
    );
    let mut model = TtnBornMachine::new(t(), 2, BornOptions::new()).unwrap();
    assert!(matches!(
        model.log_prob(&[0; 8]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        model.log_prob(&[0, 0, 2, 0, 0, 0, 0, 0, 0]),
        Err(Error::InvalidArgument { .. })
    ));
    let wrong = Dataset::binary(Array2::zeros((4, 8))).unwrap();
    assert!(matches!(
        model.fit(&wrong),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        model.nll(&wrong),
        Err(Error::InvalidArgument { .. })
    ));
    let mut rng = StdRng::seed_from_u64(0);
    assert!(model
        .sample_conditional(&[0; 9], &[true; 8], 1, &mut rng)
        .is_err());
    assert!(model
        .sample_conditional(&[3; 9], &[true; 9], 1, &mut rng)
        .is_err());
    assert!(model.marginal(&[9]).is_err());
    assert!(model.marginal(&[1, 1]).is_err());
    assert!(model.marginal(&[0; 0]).is_ok());
    // A learning rate that blows up is an error, not a NaN model.
    let data = Dataset::binary(bars_and_stripes(3)).unwrap();
    model
        .set_options(BornOptions::new().learning_rate(1e300))
        .unwrap();
    let _ = model.fit(&data); // the step safeguard may keep it finite; no panic, no NaN
    assert!(!model.log_prob(&[0; 9]).unwrap().is_nan());
}

#[test]
fn ttn_construction_is_validated_and_complex_canonical_forms_work() {
    let tree = Tree::image(2, 2).unwrap(); // root (node 0) over two horizontal pairs
    let ok = |shape: (usize, usize, usize)| Array3::<f64>::ones(shape);
    let good = vec![ok((1, 2, 2)), ok((2, 2, 2)), ok((2, 2, 2))];
    assert!(Ttn::from_tensors(tree.clone(), 2, good.clone()).is_ok());
    assert!(Ttn::from_tensors(tree.clone(), 2, good[..2].to_vec()).is_err());
    let mut bad = good.clone();
    bad[0] = ok((2, 2, 2)); // root parent leg must be 1
    assert!(matches!(
        Ttn::from_tensors(tree.clone(), 2, bad),
        Err(Error::ShapeMismatch { .. })
    ));
    let mut bad = good.clone();
    bad[1] = ok((3, 2, 2)); // does not match the root's child leg
    assert!(Ttn::from_tensors(tree.clone(), 2, bad).is_err());
    let mut bad = good.clone();
    bad[2][[0, 1, 1]] = f64::NAN;
    assert!(matches!(
        Ttn::from_tensors(tree.clone(), 2, bad),
        Err(Error::NonFinite { .. })
    ));
    // Complex TTN: canonical forms keep the norm and the amplitudes.
    let mut rng = StdRng::seed_from_u64(3);
    let t = Ttn::<tnlearn::Complex64>::random(Tree::image(3, 3).unwrap(), 2, 3, &mut rng).unwrap();
    let ln = t.log_norm().unwrap();
    let amp = t.log_amplitude(&[1, 0, 1, 1, 0, 0, 1, 0, 1]).unwrap();
    for c in 0..8 {
        let mut u = t.clone();
        u.canonicalize(c).unwrap();
        assert!((u.log_norm().unwrap() - ln).abs() < 1e-10);
        let a = u.log_amplitude(&[1, 0, 1, 1, 0, 0, 1, 0, 1]).unwrap();
        assert!((a.to_value() - amp.to_value()).norm() < 1e-10 * amp.to_value().norm());
    }
}
