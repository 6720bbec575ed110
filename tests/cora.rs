//! CORA against independent references: the whole network enumerated densely
//! (every level's full joint distribution, no cones), ancestor sets found by
//! breadth-first search over the Bayesian network, chi-square tests of the sampler.
//!
//! The geometry is re-derived here from the documented rules (not from the crate)
//! and compared with the crate's `Geometry` before being used.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::cora::{Architecture, BlockScheme, Boundary, CoarseGraining, Cora, MapSharing};

// ---------------------------------------------------------------------------
// Independent geometry (from the rules in the docs).

/// Block children of coarse site c: rows (r*fr + u), cols (c*fc + v), row-major.
fn ref_children(
    scheme: BlockScheme,
    coarse: (usize, usize),
    fine: (usize, usize),
    c: usize,
) -> Vec<usize> {
    let (fr, fc) = match scheme {
        BlockScheme::Chain => (1, 2),
        BlockScheme::Square2x2 => (2, 2),
        BlockScheme::Square3x3 => (3, 3),
    };
    let (r, col) = (c / coarse.1, c % coarse.1);
    let mut v = Vec::new();
    for u in 0..fr {
        for w in 0..fc {
            v.push((r * fr + u) * fine.1 + col * fc + w);
        }
    }
    v
}

/// Box groups on the fine lattice, in anchor row-major order.
fn ref_groups(scheme: BlockScheme, boundary: Boundary, fine: (usize, usize)) -> Vec<Vec<usize>> {
    let periodic = boundary == Boundary::Periodic;
    // Per axis: list of group starts (each group covers start, start+1 mod L).
    let starts = |len: usize, b: usize, s0: usize| -> Vec<usize> {
        let mut v = Vec::new();
        let mut a = 0;
        loop {
            let s = s0 + a * b;
            if s >= len {
                break;
            }
            if s + 1 < len || periodic {
                v.push(s);
            }
            a += 1;
        }
        v
    };
    let (rows, cols) = fine;
    let mut out = Vec::new();
    match scheme {
        BlockScheme::Chain => {
            for s in starts(cols, 2, 1) {
                out.push(vec![s, (s + 1) % cols]);
            }
        }
        _ => {
            let (b, s0) = if scheme == BlockScheme::Square2x2 {
                (2, 1)
            } else {
                (3, 2)
            };
            for r in starts(rows, b, s0) {
                for c in starts(cols, b, s0) {
                    let (r1, c1) = ((r + 1) % rows, (c + 1) % cols);
                    out.push(vec![
                        r * cols + c,
                        r * cols + c1,
                        r1 * cols + c,
                        r1 * cols + c1,
                    ]);
                }
            }
        }
    }
    out
}

struct RefGeo {
    dims: Vec<(usize, usize)>,
    children: Vec<Vec<Vec<usize>>>, // [j][c] for j >= 1 (index 0 empty)
    groups: Vec<Vec<Vec<usize>>>,   // [j] for j >= 1
}

fn ref_geo(model: &Cora) -> RefGeo {
    let a = model.architecture();
    let geo = model.geometry();
    let dims: Vec<(usize, usize)> = (0..=a.levels).map(|j| geo.dims(j)).collect();
    // dims from the rules
    let (fr, fc) = a.scheme.factors();
    for j in 1..=a.levels {
        assert_eq!(dims[j], (dims[j - 1].0 / fr, dims[j - 1].1 / fc));
    }
    let mut children = vec![vec![]];
    let mut groups = vec![vec![]];
    for j in 1..=a.levels {
        let ch: Vec<Vec<usize>> = (0..dims[j].0 * dims[j].1)
            .map(|c| ref_children(a.scheme, dims[j], dims[j - 1], c))
            .collect();
        for (c, v) in ch.iter().enumerate() {
            assert_eq!(&geo.children(j, c), v, "children of site {c} at level {j}");
            for (p, &s) in v.iter().enumerate() {
                assert_eq!(geo.parent(j, s), (c, p));
            }
        }
        let gs = if a.boxes {
            ref_groups(a.scheme, a.boundary, dims[j - 1])
        } else {
            vec![]
        };
        assert_eq!(geo.num_groups(j), gs.len(), "number of groups at level {j}");
        for (g, v) in gs.iter().enumerate() {
            assert_eq!(&geo.group_sites(j, g), v, "group {g} at level {j}");
            for (p, &s) in v.iter().enumerate() {
                assert_eq!(geo.group_of(j, s), Some((g, p)));
            }
        }
        children.push(ch);
        groups.push(gs);
    }
    RefGeo {
        dims,
        children,
        groups,
    }
}

// ---------------------------------------------------------------------------
// Dense enumeration of the whole network.

/// Replaces axis `axis` (size `m`) of a dense row-major tensor by `k` axes of size
/// `d` through `M(o | m)` (`o` over `d^k`).
fn replace_axis(
    p: &[f64],
    dims: &[usize],
    axis: usize,
    map: &[f64],
    d: usize,
    k: usize,
) -> (Vec<f64>, Vec<usize>) {
    let left: usize = dims[..axis].iter().product();
    let m = dims[axis];
    let right: usize = dims[axis + 1..].iter().product();
    let no = d.pow(k as u32);
    let mut out = vec![0.0; left * no * right];
    for l in 0..left {
        for i in 0..m {
            for r in 0..right {
                let v = p[(l * m + i) * right + r];
                if v == 0.0 {
                    continue;
                }
                for o in 0..no {
                    out[(l * no + o) * right + r] += v * map[o * m + i];
                }
            }
        }
    }
    let mut nd = dims[..axis].to_vec();
    nd.extend(std::iter::repeat_n(d, k));
    nd.extend_from_slice(&dims[axis + 1..]);
    (out, nd)
}

/// Digits of a flat index (all dims equal to d).
fn digits(mut x: usize, d: usize, n: usize) -> Vec<usize> {
    let mut v = vec![0; n];
    for k in (0..n).rev() {
        v[k] = x % d;
        x /= d;
    }
    v
}
fn undigits(v: &[usize], d: usize) -> usize {
    v.iter().fold(0, |a, &x| a * d + x)
}

/// The full joint distribution of Gamma_0 by pushing the full joint down level by
/// level (every site refined, every box applied), no cones.
fn full_joint(model: &Cora, rg: &RefGeo) -> Vec<f64> {
    let j_top = model.levels();
    let geo = model.geometry();
    let mut p = model.top().values().to_vec();
    for j in (1..=j_top).rev() {
        let d = geo.chi(j - 1);
        let nc = rg.dims[j].0 * rg.dims[j].1;
        let nf = rg.dims[j - 1].0 * rg.dims[j - 1].1;
        let b = rg.children[j][0].len();
        // Refine site by site: axes become (children of 0, children of 1, ...).
        let mut dims = vec![geo.chi(j); nc];
        for c in (0..nc).rev() {
            let map = model
                .refine_map(j, geo.refine_index(j, c))
                .unwrap()
                .values()
                .to_vec();
            let (q, nd) = replace_axis(&p, &dims, c, &map, d, b);
            p = q;
            dims = nd;
        }
        // Axis order -> site order.
        let order: Vec<usize> = rg.children[j].iter().flatten().copied().collect();
        let mut y = vec![0.0; p.len()];
        for (x, &v) in p.iter().enumerate() {
            let dg = digits(x, d, nf);
            let mut site = vec![0; nf];
            for (ax, &s) in order.iter().enumerate() {
                site[s] = dg[ax];
            }
            y[undigits(&site, d)] += v;
        }
        // Boxes one by one.
        for (g, members) in rg.groups[j].iter().enumerate() {
            let bm = model.box_map(j, geo.box_index(j, g)).unwrap();
            let mut z = vec![0.0; y.len()];
            for (x, &v) in y.iter().enumerate() {
                if v == 0.0 {
                    continue;
                }
                let mut dg = digits(x, d, nf);
                let input = undigits(&members.iter().map(|&s| dg[s]).collect::<Vec<_>>(), d);
                for o in 0..bm.outputs() {
                    let od = digits(o, d, members.len());
                    for (k, &s) in members.iter().enumerate() {
                        dg[s] = od[k];
                    }
                    z[undigits(&dg, d)] += v * bm.get(o, input);
                }
            }
            y = z;
        }
        p = y;
    }
    p
}

/// Digits of every configuration, `n` per configuration.
fn digit_table(len: usize, d: usize, n: usize) -> Vec<u8> {
    (0..len)
        .flat_map(|x| digits(x, d, n).into_iter().map(|v| v as u8))
        .collect()
}

fn brute_marginal(joint: &[f64], table: &[u8], n: usize, d: usize, region: &[usize]) -> Vec<f64> {
    let mut m = vec![0.0; d.pow(region.len() as u32)];
    for (x, &v) in joint.iter().enumerate() {
        let dg = &table[x * n..(x + 1) * n];
        m[region.iter().fold(0, |a, &s| a * d + dg[s] as usize)] += v;
    }
    m
}

fn tiny_models() -> Vec<(String, Architecture)> {
    let mut v = Vec::new();
    for boundary in [Boundary::Open, Boundary::Periodic] {
        for boxes in [true, false] {
            for sharing in [MapSharing::PerPosition, MapSharing::PerLevel] {
                let tag = format!("{boundary:?} boxes={boxes} {sharing:?}");
                let base =
                    |a: Architecture| a.boundary(boundary).boxes(boxes).sharing(sharing).chi(2);
                v.push((
                    format!("chain16 {tag}"),
                    base(Architecture::chain(16)).levels(4),
                ));
                v.push((
                    format!("2x2 4x4 {tag}"),
                    base(Architecture::square_2x2(4, 4)).levels(2),
                ));
                v.push((
                    format!("3x3 3x6 {tag}"),
                    base(Architecture::square_3x3(3, 6)).levels(1),
                ));
            }
        }
    }
    // Unequal chi per level and a 3-state data lattice.
    v.push((
        "chain8 chi=[3,2] d=3".into(),
        Architecture::chain(8)
            .levels(2)
            .chi_per_level(vec![3, 2])
            .num_states(3)
            .boundary(Boundary::Periodic),
    ));
    v
}

fn all_regions(model: &Cora) -> Vec<Vec<usize>> {
    let geo = model.geometry();
    let (rows, cols) = geo.dims(0);
    let n = rows * cols;
    let mut out = Vec::new();
    if rows == 1 {
        // every region of up to 3 sites (any sites, in any order of listing)
        for a in 0..n {
            out.push(vec![a]);
            for b in a + 1..n {
                out.push(vec![b, a]);
                for c in b + 1..n {
                    out.push(vec![a, c, b]);
                }
            }
        }
    } else {
        // every region inside a 2x2 window (all positions): all non-empty subsets
        for (h, w) in [(2, 2)] {
            let periodic = model.architecture().boundary == Boundary::Periodic;
            let (nr, nc) = if periodic {
                (rows, cols)
            } else {
                (rows - h + 1, cols - w + 1)
            };
            for r in 0..nr {
                for c in 0..nc {
                    let win = geo.window(0, (r, c), (h, w)).unwrap();
                    for mask in 1u32..16 {
                        let reg: Vec<usize> = (0..4)
                            .filter(|k| mask >> k & 1 == 1)
                            .map(|k| win[k])
                            .collect();
                        out.push(reg);
                    }
                }
            }
        }
        // and some non-local pairs
        out.push(vec![0, n - 1]);
        out.push(vec![n / 2, 1, n - 2]);
    }
    out
}

#[test]
fn marginals_equal_enumeration_of_the_whole_network() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut checked = 0;
    for (name, arch) in tiny_models() {
        let model = Cora::random(arch, &mut rng).unwrap();
        let rg = ref_geo(&model);
        let joint = full_joint(&model, &rg);
        assert!(
            (joint.iter().sum::<f64>() - 1.0).abs() < 1e-12,
            "{name}: joint sums to 1"
        );
        let n = model.num_sites();
        let d = model.num_states();
        let mut worst = 0.0f64;
        let table = digit_table(joint.len(), d, n);
        for region in all_regions(&model) {
            let exact = brute_marginal(&joint, &table, n, d, &region);
            let p = model.marginal(&region).unwrap();
            assert_eq!(p.shape(), vec![d; region.len()].as_slice());
            for (a, b) in p.as_slice().iter().zip(&exact) {
                worst = worst.max((a - b).abs());
            }
            checked += 1;
        }
        assert!(
            worst < 1e-12,
            "{name}: max |cone - enumeration| = {worst:e}"
        );
        eprintln!("{name}: max error {worst:.1e}");
    }
    assert!(checked > 1000);
}

#[test]
fn log_marginal_reads_the_marginal() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let model = Cora::random(Architecture::chain(16).levels(4), &mut rng).unwrap();
    let x: Vec<u8> = (0..16).map(|i| (i % 3 == 0) as u8).collect();
    let p = model.marginal(&[5, 6, 9]).unwrap();
    let lp = model.log_marginal(&x, &[5, 6, 9]).unwrap();
    assert!(
        (lp - p
            .get(&[x[5] as usize, x[6] as usize, x[9] as usize])
            .unwrap()
            .ln())
        .abs()
            < 1e-14
    );
    assert!(model.log_marginal(&x[..15], &[0]).is_err());
    assert!(model.marginal(&[3, 3]).is_err());
    assert!(model.marginal(&[16]).is_err());
    assert!(model.marginal(&[]).is_err());
}

// ---------------------------------------------------------------------------
// Cones against brute-force ancestor sets.

/// Ancestors of `region` at every level: BFS in the Bayesian network z_j -> y_{j-1}
/// (refine) -> z_{j-1} (box, or pass-through).
fn ancestors(rg: &RefGeo, region: &[usize]) -> Vec<Vec<usize>> {
    let levels = rg.dims.len() - 1;
    let mut out = vec![{
        let mut r = region.to_vec();
        r.sort();
        r
    }];
    for j in 1..=levels {
        let nf = rg.dims[j - 1].0 * rg.dims[j - 1].1;
        // z_{j-1}(s) depends on y_{j-1}(t) for t in its group (or t = s).
        let mut need_y = vec![false; nf];
        for &s in out.last().unwrap() {
            need_y[s] = true;
            for g in &rg.groups[j] {
                if g.contains(&s) {
                    for &t in g {
                        need_y[t] = true;
                    }
                }
            }
        }
        let mut parents: Vec<usize> = rg.children[j]
            .iter()
            .enumerate()
            .filter(|(_, ch)| ch.iter().any(|&t| need_y[t]))
            .map(|(c, _)| c)
            .collect();
        parents.sort();
        out.push(parents);
    }
    out
}

#[test]
fn cones_are_the_brute_force_ancestor_sets() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let cases = vec![
        Architecture::chain(256).levels(8),
        Architecture::chain(256)
            .levels(7)
            .boundary(Boundary::Periodic),
        Architecture::square_2x2(32, 32).levels(5),
        Architecture::square_2x2(32, 32)
            .levels(4)
            .boundary(Boundary::Periodic),
        Architecture::square_3x3(27, 27).levels(3),
        Architecture::square_3x3(27, 27)
            .levels(3)
            .boundary(Boundary::Periodic),
        Architecture::chain(64).levels(5).boxes(false),
    ];
    for arch in cases {
        let name = format!(
            "{:?} {:?} {}x{}",
            arch.scheme, arch.boundary, arch.rows, arch.cols
        );
        let model = Cora::random(arch.clone(), &mut rng).unwrap();
        let rg = ref_geo(&model);
        let geo = model.geometry();
        let (rows, cols) = geo.dims(0);
        let shapes: Vec<(usize, usize)> = if rows == 1 {
            vec![(1, 1), (1, 2), (1, 3), (1, 4)]
        } else {
            vec![(1, 1), (2, 2), (3, 3)]
        };
        let mut widest = 0;
        for shape in shapes {
            for r in 0..rows.min(7) {
                for c in 0..cols.min(9) {
                    let Ok(region) = geo.window(0, (r, c), shape) else {
                        continue;
                    };
                    let cone = model.cone(&region).unwrap();
                    let anc = ancestors(&rg, &region);
                    assert_eq!(cone.sites, anc, "{name}: region {region:?}");
                    let tail = if rows == 1 { 5 } else { 3 };
                    widest = widest.max(cone.sites[tail..].iter().map(Vec::len).max().unwrap_or(0));
                }
            }
        }
        // The widths quoted in the docs, beyond the first levels.
        let limit = match arch.scheme {
            BlockScheme::Chain => 3,
            BlockScheme::Square2x2 => 9,
            BlockScheme::Square3x3 => 4,
        };
        assert!(widest <= limit, "{name}: cone width {widest} > {limit}");
    }
}

#[test]
fn one_dimensional_cones_settle_at_three_sites() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let model = Cora::random(Architecture::chain(1 << 12).levels(11), &mut rng).unwrap();
    let widths = |r: &[usize]| {
        model
            .cone(r)
            .unwrap()
            .sites
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>()
    };
    let single = widths(&[1001]);
    assert_eq!(&single[..4], &[1, 2, 3, 3]);
    assert!(single[2..10].iter().all(|&w| w == 3), "{single:?}");
    for start in 1000..1016 {
        let four = widths(&[start, start + 1, start + 2, start + 3]);
        assert!(four[1..].iter().all(|&w| w <= 4), "{four:?}");
        assert!(four[5..].iter().all(|&w| w <= 3), "{four:?}");
    }
}

// ---------------------------------------------------------------------------
// Sampling.

/// Upper 1e-4 quantile of chi-square with `df` degrees of freedom
/// (Wilson-Hilferty; z = 3.719).
fn chi2_critical(df: usize) -> f64 {
    let k = df as f64;
    let a = 2.0 / (9.0 * k);
    k * (1.0 - a + 3.719 * a.sqrt()).powi(3)
}

#[test]
fn samples_match_exact_marginals_chi_square() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let cases = vec![
        (
            Architecture::chain(16)
                .levels(4)
                .boundary(Boundary::Periodic),
            vec![vec![3, 4, 5], vec![0, 15], vec![7, 12]],
        ),
        (
            Architecture::square_2x2(8, 8).levels(3),
            vec![vec![9, 10, 17, 18], vec![0, 63]],
        ),
        (
            Architecture::square_3x3(9, 9)
                .levels(2)
                .sharing(MapSharing::PerPosition),
            vec![vec![20, 21, 29, 30], vec![0, 40, 80]],
        ),
    ];
    let n = 20_000;
    for (arch, regions) in cases {
        let model = Cora::random(arch, &mut rng).unwrap();
        let x = model.sample(n, &mut rng).unwrap();
        for region in regions {
            let p = model.marginal(&region).unwrap();
            let d = model.num_states();
            let mut counts = vec![0.0; p.len()];
            for row in x.rows() {
                let k = region.iter().fold(0, |a, &s| a * d + row[s] as usize);
                counts[k] += 1.0;
            }
            let mut chi2 = 0.0;
            let mut df = 0;
            for (&c, &q) in counts.iter().zip(p.as_slice()) {
                let e = q * n as f64;
                if e > 0.0 {
                    chi2 += (c - e) * (c - e) / e;
                    df += 1;
                }
            }
            let crit = chi2_critical(df - 1);
            assert!(
                chi2 < crit,
                "region {region:?}: chi2 = {chi2:.1} >= {crit:.1} (df {})",
                df - 1
            );
        }
    }
}

#[test]
fn invariant_is_enforced() {
    use tnlearn::cora::StochasticMap;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut model = Cora::random(Architecture::chain(8).levels(2), &mut rng).unwrap();
    assert!(StochasticMap::new(2, 2, vec![0.5, 0.5, 0.5, 0.6]).is_err());
    assert!(StochasticMap::new(2, 2, vec![1.5, 0.5, -0.5, 0.5]).is_err());
    assert!(StochasticMap::new(2, 2, vec![1.0, 0.5, 0.0, 0.5 + 5e-13]).is_ok());
    let bad_shape = StochasticMap::uniform(2, 2).unwrap();
    assert!(model.set_refine_map(1, 0, bad_shape).is_err());
    assert!(model
        .set_refine_map(3, 0, StochasticMap::uniform(4, 2).unwrap())
        .is_err());
    assert!(model
        .set_refine_map(1, 0, StochasticMap::uniform(4, 2).unwrap())
        .is_ok());
    assert!(Architecture::chain(12).levels(3).validate().is_err());
    assert!(Architecture::chain(16).levels(0).validate().is_err());
    assert!(Architecture::chain(16)
        .levels(4)
        .chi_per_level(vec![2, 2])
        .validate()
        .is_err());
}

// ---------------------------------------------------------------------------
// Learning.

use tnlearn::cora::{CoraFitOptions, EmMethod, EmReport, FitControl, StochasticMap};
use tnlearn::Dataset;

fn samples_of(model: &Cora, n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Dataset::new(model.sample(n, &mut rng).unwrap(), model.num_states()).unwrap()
}

/// Runs a fit and checks, iteration by iteration, that EM never decreases the
/// objective (the patch log-likelihood when alpha = 0).
fn check_monotone(reports: &[EmReport], alpha: f64) {
    assert!(reports.len() >= 3);
    for w in reports.windows(2) {
        // (a new level, method or stage: iteration 1 starts a new EM run)
        if w[0].level != w[1].level || w[0].method != w[1].method || w[1].iteration == 1 {
            continue;
        }
        assert!(
            w[1].objective >= w[0].objective - 1e-12,
            "objective decreased: {:?} -> {:?}",
            w[0],
            w[1]
        );
        if alpha == 0.0 {
            assert!(
                w[1].patch_nll <= w[0].patch_nll + 1e-12,
                "{:?} -> {:?}",
                w[0],
                w[1]
            );
        }
    }
}

#[test]
fn em_never_decreases_the_patch_likelihood() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let cases = vec![
        Architecture::chain(16)
            .levels(3)
            .boundary(Boundary::Periodic),
        Architecture::chain(16)
            .levels(3)
            .sharing(MapSharing::PerPosition),
        Architecture::square_2x2(8, 8).levels(2),
        Architecture::square_3x3(9, 9)
            .levels(2)
            .boundary(Boundary::Periodic),
    ];
    for arch in cases {
        let truth = Cora::random(arch.clone(), &mut rng).unwrap();
        let data = samples_of(&truth, 300, 4);
        for alpha in [0.0, 0.1] {
            let opts = CoraFitOptions::new()
                .em_iterations(6)
                .pseudo_count(alpha)
                .tolerance(0.0);
            let mut model = Cora::initial(arch.clone(), 0.5, &mut rng).unwrap();
            let mut reports = Vec::new();
            model
                .fit_layerwise_with(&data, &opts, &mut |r: &EmReport, _: &Cora| {
                    reports.push(*r);
                    FitControl::Continue
                })
                .unwrap();
            assert_eq!(reports.len(), 6 * arch.levels);
            check_monotone(&reports, alpha);
            let before = model.patch_nll(&data, (1, 2).min((arch.rows, 2))).unwrap();
            let mut joint = Vec::new();
            model
                .fit_joint_with(
                    &data,
                    &opts.em_iterations(5),
                    &mut |r: &EmReport, _: &Cora| {
                        joint.push(*r);
                        FitControl::Continue
                    },
                )
                .unwrap();
            assert!(joint.iter().all(|r| r.method == EmMethod::Joint));
            check_monotone(&joint, alpha);
            assert!(before.is_finite());
            // the joint fit's reported patch NLL is the model's exact patch NLL
            let patch = if arch.rows == 1 { (1, 4) } else { (2, 2) };
            let final_nll = model.patch_nll(&data, patch).unwrap();
            assert!(final_nll <= joint.last().unwrap().patch_nll + 1e-12 || alpha > 0.0);
        }
    }
}

/// An EM report with refine map 0 and box map 0 of its level after the M-step.
type Seen = (EmReport, Vec<f64>, Vec<f64>);

#[test]
fn staged_box_schedule_is_monotone_and_holds_the_other_maps() {
    // BoxSchedule::AfterRefine: per level, a tree stage (refine maps and priors
    // learned, boxes the identity) then a box stage (boxes learned from their
    // starting values, the rest held); EM's objective never decreases within a stage.
    use tnlearn::cora::BoxSchedule;
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let cases = vec![
        Architecture::chain(16)
            .levels(3)
            .boundary(Boundary::Periodic),
        Architecture::square_2x2(8, 8).levels(2),
    ];
    for arch in cases {
        let truth = Cora::random(arch.clone(), &mut rng).unwrap();
        let data = samples_of(&truth, 300, 5);
        // The upper levels learn from draws or from the posterior mode: EM stays
        // monotone on whatever data a level is given.
        for (alpha, factorized, how) in [
            (0.0, false, CoarseGraining::Sample),
            (0.1, true, CoarseGraining::Mode),
        ] {
            let opts = CoraFitOptions::new()
                .em_iterations(4)
                .pseudo_count(alpha)
                .tolerance(0.0)
                .factorized_refine(factorized)
                .coarse_graining(how)
                .box_schedule(BoxSchedule::AfterRefine { iterations: 3 });
            let mut model = Cora::initial(arch.clone(), 0.5, &mut rng).unwrap();
            // (report, refine map 0 and box map 0 of the level after the M-step)
            let mut seen: Vec<Seen> = Vec::new();
            model
                .fit_layerwise_with(&data, &opts, &mut |r: &EmReport, m: &Cora| {
                    let refine = m.refine_map(r.level, 0).unwrap().values().to_vec();
                    let boxes = m.box_map(r.level, 0).unwrap().values().to_vec();
                    seen.push((*r, refine, boxes));
                    FitControl::Continue
                })
                .unwrap();
            let reports: Vec<EmReport> = seen.iter().map(|s| s.0).collect();
            check_monotone(&reports, alpha);
            // EM runs: a new one starts at iteration 1; two per level (tree, boxes).
            let mut runs: Vec<&[Seen]> = Vec::new();
            let mut from = 0;
            for i in 1..=seen.len() {
                if i == seen.len() || seen[i].0.iteration == 1 {
                    runs.push(&seen[from..i]);
                    from = i;
                }
            }
            assert_eq!(runs.len(), 2 * arch.levels);
            for (k, pair) in runs.chunks(2).enumerate() {
                let (tree, boxes) = (pair[0], pair[1]);
                assert!(tree.iter().chain(boxes).all(|s| s.0.level == k + 1));
                assert!(tree.len() <= 4 && (1..=3).contains(&boxes.len()));
                // tree stage: boxes are the identity
                let g = tree[0].2.len().isqrt();
                for s in tree {
                    for (i, &v) in s.2.iter().enumerate() {
                        assert_eq!(v, if i / g == i % g { 1.0 } else { 0.0 });
                    }
                }
                // box stage: refine maps held at the tree stage's last values
                let last_refine = &tree.last().unwrap().1;
                assert!(
                    boxes.iter().all(|s| &s.1 == last_refine),
                    "a refine map moved"
                );
                assert_ne!(&boxes[0].2, &tree[0].2, "the boxes stayed the identity");
            }
        }
    }
}

#[test]
fn tree_stage_is_the_box_free_fit() {
    // With identity boxes a model is its latent tree, so the tree stage of
    // BoxSchedule::AfterRefine must learn exactly what a box-free model learns from
    // the same starting maps and seed (same refine maps, priors and coarse-grained
    // data at every level), with a finite objective. Before the fix the tree stage
    // ran EM through cones that also held the blocks behind each identity box (all
    // their children unobserved), whose counts damp every update, and its reported
    // objective was -inf (ln 0 of the identity boxes' zeros in the prior term).
    use tnlearn::cora::BoxSchedule;
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let cases = vec![
        Architecture::square_2x2(8, 8)
            .levels(2)
            .boundary(Boundary::Periodic)
            .sharing(MapSharing::PerLevel),
        Architecture::square_2x2(8, 8).levels(2),
        Architecture::chain(16).levels(3),
    ];
    for arch in cases {
        let truth = Cora::random(arch.clone(), &mut rng).unwrap();
        let data = samples_of(&truth, 200, 6);
        for (alpha, factorized) in [(0.0, false), (0.05, true)] {
            let opts = CoraFitOptions::new()
                .em_iterations(5)
                .pseudo_count(alpha)
                .tolerance(0.0)
                .factorized_refine(factorized)
                .seed(4);
            let mut staged = Cora::initial(arch.clone(), 0.5, &mut rng).unwrap();
            let mut tree = Cora::initial(arch.clone().boxes(false), 0.5, &mut rng).unwrap();
            let levels = arch.levels;
            for j in 1..=levels {
                for m in 0..staged.geometry().num_refine_maps(j) {
                    let r = staged.refine_map(j, m).unwrap().clone();
                    tree.set_refine_map(j, m, r).unwrap();
                    let q = staged.prior(j, m).unwrap().clone();
                    tree.set_prior(j, m, q).unwrap();
                }
            }
            let mut objectives = Vec::new();
            staged
                .fit_layerwise_with(
                    &data,
                    &opts.box_schedule(BoxSchedule::AfterRefine { iterations: 2 }),
                    &mut |r: &EmReport, _: &Cora| {
                        objectives.push(r.objective);
                        FitControl::Continue
                    },
                )
                .unwrap();
            assert!(objectives.iter().all(|o| o.is_finite()), "{objectives:?}");
            tree.fit_layerwise(&data, &opts).unwrap();
            let close = |a: &StochasticMap, b: &StochasticMap| {
                a.values()
                    .iter()
                    .zip(b.values())
                    .all(|(x, y)| (x - y).abs() < 1e-10)
            };
            for j in 1..=levels {
                for m in 0..staged.geometry().num_refine_maps(j) {
                    let (a, b) = (staged.refine_map(j, m), tree.refine_map(j, m));
                    assert!(close(a.unwrap(), b.unwrap()), "refine map {m} of level {j}");
                    let (a, b) = (staged.prior(j, m), tree.prior(j, m));
                    assert!(close(a.unwrap(), b.unwrap()), "prior {m} of level {j}");
                }
            }
            // Coarse-graining with identity boxes is the box-free coarse-graining.
            for g in 0..staged.geometry().num_box_maps(1) {
                let n = staged.box_map(1, g).unwrap().outputs();
                let identity = StochasticMap::near_identity(n, 0.0, &mut rng).unwrap();
                staged.set_box_map(1, g, identity).unwrap();
            }
            let a = staged
                .coarse_grain(&data, 1, &mut ChaCha8Rng::seed_from_u64(2))
                .unwrap();
            let b = tree
                .coarse_grain(&data, 1, &mut ChaCha8Rng::seed_from_u64(2))
                .unwrap();
            assert_eq!(a, b);
        }
    }
}

#[test]
fn layerwise_fit_learns_a_chain() {
    // A model fitted to samples of a random CORA gets close to it in patch NLL.
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let arch = Architecture::chain(32).levels(3).chi(2);
    let truth = Cora::random(arch.clone(), &mut rng).unwrap();
    let train = samples_of(&truth, 2000, 1);
    let test = samples_of(&truth, 2000, 2);
    let mut model = Cora::initial(arch, 0.5, &mut rng).unwrap();
    let uniform = model.patch_nll(&test, (1, 4)).unwrap();
    let opts = CoraFitOptions::new().em_iterations(30);
    model.fit_layerwise(&train, &opts).unwrap();
    let layer = model.patch_nll(&test, (1, 4)).unwrap();
    model.fit_joint(&train, &opts).unwrap();
    let joint = model.patch_nll(&test, (1, 4)).unwrap();
    let best = truth.patch_nll(&test, (1, 4)).unwrap();
    eprintln!(
        "uniform start {uniform:.4}, layerwise {layer:.4}, joint {joint:.4}, truth {best:.4}"
    );
    assert!(layer < uniform);
    assert!(joint <= layer + 1e-9);
    assert!(joint < best + 0.05, "joint {joint} vs truth {best}");
}

#[test]
fn coarse_grain_has_the_lattice_of_the_level() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let model = Cora::random(Architecture::square_2x2(8, 8).levels(3), &mut rng).unwrap();
    let data = samples_of(&model, 10, 3);
    for level in 0..=3 {
        let c = model.coarse_grain(&data, level, &mut rng).unwrap();
        let (r, k) = model.geometry().dims(level);
        assert_eq!(c.dim(), (10, r * k));
        assert!(c
            .iter()
            .all(|&v| (v as usize) < model.geometry().chi(level)));
    }
    assert!(model.coarse_grain(&data, 4, &mut rng).is_err());
}

#[test]
fn mode_coarse_graining_is_the_argmax_of_each_block_posterior() {
    // Without boxes the posterior factorises over blocks: the mode of block c is
    // argmax_h q(h) R(y_block | h), recomputed here from the public maps.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for sharing in [MapSharing::PerLevel, MapSharing::PerPosition] {
        let arch = Architecture::square_2x2(8, 8)
            .levels(2)
            .chi_per_level(vec![3, 2])
            .sharing(sharing)
            .boxes(false);
        let model = Cora::random(arch, &mut rng).unwrap();
        let data = samples_of(&model, 40, 7);
        let geo = model.geometry();
        let mut level_data = data.samples().to_owned();
        for level in 1..=2 {
            let mode = model
                .coarse_grain_with(&data, level, CoarseGraining::Mode, &mut rng)
                .unwrap();
            let again = model
                .coarse_grain_with(&data, level, CoarseGraining::Mode, &mut rng)
                .unwrap();
            assert_eq!(mode, again, "the mode is deterministic");
            let fine = geo.chi(level - 1);
            let mut expected = ndarray::Array2::<u8>::zeros(mode.dim());
            for (x, mut out) in level_data.rows().into_iter().zip(expected.rows_mut()) {
                for (c, o) in out.iter_mut().enumerate() {
                    let idx = geo.refine_index(level, c);
                    let r = model.refine_map(level, idx).unwrap();
                    let q = model.prior(level, idx).unwrap().values();
                    let y = geo
                        .children(level, c)
                        .iter()
                        .fold(0, |a, &s| a * fine + x[s] as usize);
                    let best = (0..q.len())
                        .max_by(|&a, &b| (q[a] * r.get(y, a)).total_cmp(&(q[b] * r.get(y, b))))
                        .unwrap();
                    *o = best as u8;
                }
            }
            assert_eq!(mode, expected, "{sharing:?}, level {level}");
            level_data = mode;
        }
        // A draw differs from the mode somewhere (random maps are far from deterministic).
        let draw = model.coarse_grain(&data, 1, &mut rng).unwrap();
        let mode = model
            .coarse_grain_with(&data, 1, CoarseGraining::Mode, &mut rng)
            .unwrap();
        assert_ne!(draw, mode);
    }
}

/// Exact NLL of a data set by enumeration of the whole network.
fn exact_nll(model: &Cora, data: &Dataset) -> f64 {
    let rg = ref_geo(model);
    let joint = full_joint(model, &rg);
    let d = model.num_states();
    let mut s = 0.0;
    for x in data.samples().rows() {
        s -= joint[x.iter().fold(0, |a, &v| a * d + v as usize)].ln();
    }
    s / data.len() as f64
}

#[test]
fn chain_coarse_graining_is_the_exact_posterior() {
    // One level, top = product of the coarse-graining priors: then the proposal is
    // the exact posterior, every importance weight equals p(x), and the bound is
    // exact for any K.
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for boundary in [Boundary::Open, Boundary::Periodic] {
        let arch = Architecture::chain(8).levels(1).boundary(boundary);
        let mut model = Cora::random(arch, &mut rng).unwrap();
        let mut top = vec![1.0];
        let q = StochasticMap::random(2, 1, &mut rng).unwrap();
        for _ in 0..4 {
            top = top
                .iter()
                .flat_map(|a| q.values().iter().map(move |b| a * b))
                .collect();
        }
        model.set_prior(1, 0, q).unwrap();
        model
            .set_top(StochasticMap::new(16, 1, top).unwrap())
            .unwrap();
        let data = samples_of(&model, 50, 5);
        let exact = exact_nll(&model, &data);
        let bound = model.nll_bound(&data, 1, &mut rng).unwrap();
        assert!(
            (bound - exact).abs() < 1e-10,
            "{boundary:?}: bound {bound} vs exact {exact}"
        );
    }
}

/// Exact `ln p(x)` of every sample by enumeration of the whole network.
fn exact_log_probs(model: &Cora, data: &Dataset) -> Vec<f64> {
    let rg = ref_geo(model);
    let joint = full_joint(model, &rg);
    let d = model.num_states();
    data.samples()
        .rows()
        .into_iter()
        .map(|x| joint[x.iter().fold(0, |a, &v| a * d + v as usize)].ln())
        .collect()
}

#[test]
fn nll_bound_is_above_the_exact_nll_and_tightens() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let cases = vec![
        Architecture::chain(16).levels(4),
        Architecture::chain(16)
            .levels(3)
            .boundary(Boundary::Periodic),
        Architecture::square_2x2(4, 4).levels(2),
    ];
    for arch in cases {
        // a random model (strongly correlated, uniform coarse-graining priors): the
        // proposal is far from the posterior, so the K-dependence is visible
        let model = Cora::random(arch.clone(), &mut rng).unwrap();
        let test = samples_of(&model, 150, 7);
        let exact = exact_log_probs(&model, &test);
        let exact_nll = -exact.iter().sum::<f64>() / exact.len() as f64;
        let mut gaps = Vec::new();
        for k in [1, 10, 100, 500] {
            let mut r = ChaCha8Rng::seed_from_u64(k as u64);
            let lb = model.log_likelihood_bounds(&test, k, &mut r).unwrap();
            // per-sample differences L_K(x) - ln p(x): mean <= 0 in expectation;
            // one-sided test at z = 3.72 (a correct bound fails < 1e-4 of the time)
            let diff: Vec<f64> = lb.iter().zip(&exact).map(|(a, b)| a - b).collect();
            let n = diff.len() as f64;
            let mean = diff.iter().sum::<f64>() / n;
            let var = diff.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let se = (var / n).sqrt();
            assert!(
                mean <= 3.72 * se + 1e-12,
                "K = {k}: mean L - ln p = {mean} > 3.72 x {se}"
            );
            let b = model
                .nll_bound(&test, k, &mut ChaCha8Rng::seed_from_u64(k as u64))
                .unwrap();
            assert!((b + lb.iter().sum::<f64>() / n).abs() < 1e-12);
            gaps.push(-mean);
        }
        eprintln!(
            "exact NLL {exact_nll:.4}, gaps bound - exact for K = 1, 10, 100, 500: {gaps:.4?}"
        );
        assert!(gaps[0] > 0.05, "{gaps:?}");
        assert!(gaps[3] < 0.25 * gaps[0], "{gaps:?}");
    }
}

// ---------------------------------------------------------------------------
// Save / load.

#[test]
fn save_load_is_exact_and_rejects_bad_files() {
    let mut rng = ChaCha8Rng::seed_from_u64(30);
    let dir = std::env::temp_dir().join(format!("tnlearn-cora-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.cora");
    for arch in [
        Architecture::square_3x3(9, 9)
            .levels(2)
            .sharing(MapSharing::PerPosition)
            .boundary(Boundary::Periodic),
        Architecture::chain(16)
            .levels(3)
            .chi_per_level(vec![3, 2, 4])
            .boxes(false),
    ] {
        let model = Cora::random(arch, &mut rng).unwrap();
        model.save(&path).unwrap();
        let back = Cora::load(&path).unwrap();
        assert_eq!(back.architecture(), model.architecture());
        for j in 1..=model.levels() {
            for m in 0..model.geometry().num_refine_maps(j) {
                assert_eq!(
                    back.refine_map(j, m).unwrap(),
                    model.refine_map(j, m).unwrap()
                );
                assert_eq!(back.prior(j, m).unwrap(), model.prior(j, m).unwrap());
            }
            for m in 0..model.geometry().num_box_maps(j) {
                assert_eq!(back.box_map(j, m).unwrap(), model.box_map(j, m).unwrap());
            }
        }
        assert_eq!(back.top(), model.top());
        let region = [0, 1, 2];
        assert_eq!(
            back.marginal(&region).unwrap(),
            model.marginal(&region).unwrap()
        );
    }
    let good = std::fs::read(&path).unwrap();
    let err = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        format!("{}", Cora::load(&path).unwrap_err())
    };
    let mut flipped = good.clone();
    flipped[40] ^= 1;
    assert!(err(&flipped).contains("checksum"));
    assert!(err(&good[..good.len() - 9]).contains("truncated"));
    assert!(err(b"NOTCORA").contains("magic"));
    let mut v2 = good.clone();
    v2[8] = 2;
    assert!(err(&v2).contains("version"));
    let mut extra = good.clone();
    extra.push(0);
    assert!(err(&extra).contains("trailing"));
    assert!(matches!(
        Cora::load(dir.join("missing")),
        Err(tnlearn::Error::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------------------
// Plans, patch likelihoods, options.

#[test]
fn plans_are_cached_per_alignment_not_per_position() {
    let mut rng = ChaCha8Rng::seed_from_u64(40);
    for (n, levels) in [(256usize, 7usize), (4096, 11)] {
        let model = Cora::random(Architecture::chain(n).levels(levels), &mut rng).unwrap();
        for s in (0..n - 3).step_by(7) {
            model.marginal(&[s, s + 1, s + 2]).unwrap();
        }
        // a bounded number of step shapes, whatever the lattice size
        assert!(
            model.cached_plans() <= 40,
            "{} plans for N = {n}",
            model.cached_plans()
        );
    }
}

#[test]
fn patch_nll_is_the_mean_of_window_log_marginals() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let model = Cora::random(
        Architecture::square_2x2(8, 8)
            .levels(3)
            .boundary(Boundary::Periodic),
        &mut rng,
    )
    .unwrap();
    let data = samples_of(&model, 20, 8);
    let nll = model.patch_nll(&data, (2, 3)).unwrap();
    let windows = model.geometry().windows(0, (2, 3)).unwrap();
    assert_eq!(windows.len(), 64);
    let mut s = 0.0;
    for x in data.samples().rows() {
        let x = x.to_vec();
        for w in &windows {
            s -= model.log_marginal(&x, w).unwrap();
        }
    }
    let direct = s / (20.0 * 64.0);
    assert!((nll - direct).abs() < 1e-12, "{nll} vs {direct}");
    assert!(model.patch_nll(&data, (9, 1)).is_err());
    let wrong = Dataset::binary(ndarray::Array2::zeros((2, 10))).unwrap();
    assert!(model.patch_nll(&wrong, (2, 2)).is_err());
}

#[test]
fn bad_options_and_inputs_are_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut model = Cora::random(Architecture::chain(16).levels(2), &mut rng).unwrap();
    let data = samples_of(&model, 5, 1);
    assert!(CoraFitOptions::new().em_iterations(0).validate().is_err());
    assert!(CoraFitOptions::new()
        .pseudo_count(f64::NAN)
        .validate()
        .is_err());
    assert!(CoraFitOptions::new().patch((0, 2)).validate().is_err());
    assert!(CoraFitOptions::new().tolerance(-1.0).validate().is_err());
    assert!(model
        .fit_layerwise(&data, &CoraFitOptions::new().em_iterations(0))
        .is_err());
    assert!(model.nll_bound(&data, 0, &mut rng).is_err());
    assert!(model.sample(0, &mut rng).is_err());
    assert!(Cora::initial(Architecture::chain(16).levels(2), 1.5, &mut rng).is_err());
    assert!(Architecture::chain(16).chi(300).validate().is_err());
    assert!(Architecture::square_2x2(4, 4)
        .levels(1)
        .chi(64)
        .validate()
        .is_err()); // top table too big
                    // a window too large for one cone contraction is an error, not a panic
    let big = Cora::random(Architecture::square_2x2(16, 16).levels(3), &mut rng).unwrap();
    let region = big.geometry().window(0, (4, 4), (5, 5)).unwrap();
    assert!(big.marginal(&region).is_err());
    // a region whose joint table would be huge is an error too
    let wide = Cora::random(
        Architecture::chain(64)
            .levels(3)
            .num_states(200)
            .boxes(false),
        &mut rng,
    )
    .unwrap();
    assert!(wide.marginal(&[0, 1, 2, 3, 4]).is_err());
}

#[test]
fn multi_level_3x3_marginals_are_consistent_across_cones() {
    // 3x3 blocks with several levels are too large to enumerate; check instead that
    // marginals computed through different cones agree: summing a site out of a
    // region's marginal gives the marginal of the smaller region.
    let mut rng = ChaCha8Rng::seed_from_u64(50);
    for boundary in [Boundary::Open, Boundary::Periodic] {
        let arch = Architecture::square_3x3(27, 27)
            .levels(3)
            .boundary(boundary)
            .sharing(MapSharing::PerPosition);
        let model = Cora::random(arch, &mut rng).unwrap();
        let geo = model.geometry();
        for (r, c) in [(0, 0), (1, 1), (2, 2), (4, 5), (8, 8), (12, 13), (25, 25)] {
            let region = geo.window(0, (r, c), (2, 2)).unwrap();
            let p = model.marginal(&region).unwrap();
            for drop in 0..4 {
                let rest: Vec<usize> = (0..4).filter(|&k| k != drop).map(|k| region[k]).collect();
                let q = model.marginal(&rest).unwrap();
                let mut summed = [0.0; 8];
                for (x, &v) in p.as_slice().iter().enumerate() {
                    let dg = digits(x, 2, 4);
                    let kept: Vec<usize> = (0..4).filter(|&k| k != drop).map(|k| dg[k]).collect();
                    summed[undigits(&kept, 2)] += v;
                }
                let err = summed
                    .iter()
                    .zip(q.as_slice())
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                assert!(
                    err < 1e-13,
                    "{boundary:?} window ({r}, {c}) without {drop}: {err:e}"
                );
            }
        }
    }
}

#[test]
fn priors_from_model_are_the_one_site_marginals() {
    let mut rng = ChaCha8Rng::seed_from_u64(60);
    // A latent tree: the data marginal of the block of site c of Gamma_1 is
    // sum_h q_1(h) R_c(block | h) exactly when q_1 is the model's marginal of c.
    let arch = Architecture::chain(16)
        .levels(3)
        .boxes(false)
        .sharing(MapSharing::PerPosition);
    let mut model = Cora::random(arch, &mut rng).unwrap();
    model.priors_from_model().unwrap();
    for c in 0..8 {
        let q = model.prior(1, c).unwrap().values().to_vec();
        let r = model.refine_map(1, c).unwrap();
        let p = model.marginal(&[2 * c, 2 * c + 1]).unwrap();
        for o in 0..4 {
            let expect: f64 = (0..2).map(|h| q[h] * r.get(o, h)).sum();
            assert!((p.as_slice()[o] - expect).abs() < 1e-13);
        }
    }
    // at the top level the prior is the marginal of e
    let e = model.top().values().to_vec(); // 2 top sites
    let q0 = model.prior(3, 0).unwrap().values().to_vec();
    assert!((q0[0] - (e[0] + e[1])).abs() < 1e-14);
    // shared priors are averages, still distributions; the bound stays valid
    let mut shared = Cora::random(Architecture::chain(16).levels(3), &mut rng).unwrap();
    shared.priors_from_model().unwrap();
    let data = samples_of(&shared, 100, 3);
    let exact = exact_log_probs(&shared, &data);
    let lb = shared.log_likelihood_bounds(&data, 5, &mut rng).unwrap();
    let diff: Vec<f64> = lb.iter().zip(&exact).map(|(a, b)| a - b).collect();
    let mean = diff.iter().sum::<f64>() / 100.0;
    let se = (diff.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 99.0 / 100.0).sqrt();
    assert!(mean <= 3.72 * se + 1e-12);
}

/// Max |marginal - enumeration| over every test region of `model`.
fn worst_marginal_error(model: &Cora) -> f64 {
    let rg = ref_geo(model);
    let joint = full_joint(model, &rg);
    let (n, d) = (model.num_sites(), model.num_states());
    let table = digit_table(joint.len(), d, n);
    let mut worst = 0.0f64;
    for region in all_regions(model) {
        let exact = brute_marginal(&joint, &table, n, d, &region);
        let p = model.marginal(&region).unwrap();
        for (a, b) in p.as_slice().iter().zip(&exact) {
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

#[test]
fn marginals_follow_every_change_of_the_maps() {
    // The cone operands are memoised per map: after a marginal, every way of
    // changing a map (set_*, EM in place, in both product and full form) must be
    // seen by the next marginal, which is checked against enumeration of the
    // changed model and against a fresh copy of it.
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    for arch in [
        Architecture::square_2x2(4, 4).levels(2).chi(2),
        Architecture::chain(16)
            .levels(3)
            .boundary(Boundary::Periodic),
    ] {
        let mut model = Cora::random(arch.clone(), &mut rng).unwrap();
        assert!(worst_marginal_error(&model) < 1e-12);
        // replace maps of every kind
        let r = model.refine_map(1, 0).unwrap();
        let (o, i) = (r.outputs(), r.inputs());
        model
            .set_refine_map(1, 0, StochasticMap::random(o, i, &mut rng).unwrap())
            .unwrap();
        let b = model.box_map(1, 0).unwrap();
        let (o, i) = (b.outputs(), b.inputs());
        model
            .set_box_map(1, 0, StochasticMap::random(o, i, &mut rng).unwrap())
            .unwrap();
        let t = model.top();
        let (o, i) = (t.outputs(), t.inputs());
        model
            .set_top(StochasticMap::random(o, i, &mut rng).unwrap())
            .unwrap();
        let w = worst_marginal_error(&model);
        assert!(w < 1e-12, "after set_*: {w:e}");
        // EM updates the maps in place
        let data = samples_of(&model, 200, 5);
        let before = model.marginal(&[0, 1]).unwrap();
        let mut fresh_seen = Vec::new();
        model
            .fit_joint_with(
                &data,
                &CoraFitOptions::new().em_iterations(2).tolerance(0.0),
                &mut |_: &EmReport, m: &Cora| {
                    // the model as EM leaves it at each iteration
                    let (p, q) = (
                        m.marginal(&[0, 1]).unwrap(),
                        m.clone().marginal(&[0, 1]).unwrap(),
                    );
                    fresh_seen.push(p.as_slice() == q.as_slice());
                    FitControl::Continue
                },
            )
            .unwrap();
        let after = model.marginal(&[0, 1]).unwrap();
        assert_ne!(before.as_slice(), after.as_slice(), "EM changed the model");
        let fresh = model.clone().marginal(&[0, 1]).unwrap();
        assert_eq!(after.as_slice(), fresh.as_slice());
        let w = worst_marginal_error(&model);
        assert!(w < 1e-12, "after EM: {w:e}");
        model
            .fit_layerwise(&data, &CoraFitOptions::new().em_iterations(2))
            .unwrap();
        let w = worst_marginal_error(&model);
        assert!(w < 1e-12, "after layer-wise EM: {w:e}");
        assert!(!fresh_seen.is_empty() && fresh_seen.iter().all(|&same| same));
    }
}
