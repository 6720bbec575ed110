//! Helpers shared by the MPS and TTN Born machine tests: enumeration of
//! configurations, random data, chi-square statistics, bars-and-stripes.
#![allow(dead_code)]

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tnlearn::born::BornMachine;
use tnlearn::Dataset;

/// All configurations of `n` sites with `d` states, site 0 most significant.
pub fn configs(n: usize, d: usize) -> Vec<Vec<u8>> {
    let total = d.pow(n as u32);
    (0..total)
        .map(|mut i| {
            let mut x = vec![0u8; n];
            for k in (0..n).rev() {
                x[k] = (i % d) as u8;
                i /= d;
            }
            x
        })
        .collect()
}

pub fn random_data(n: usize, sites: usize, d: usize, rng: &mut StdRng) -> Dataset {
    let s = Array2::from_shape_fn((n, sites), |_| rng.random_range(0..d as u8));
    Dataset::new(s, d).unwrap()
}

/// `n` noisy copies of 3 random templates of `sites` bits: the templates are drawn
/// from `template_seed`, then every bit of a copy is flipped with probability
/// `flip` (draws from `seed`). A distribution with structure, of which a few dozen
/// samples are easy to memorise.
pub fn noisy_templates(
    n: usize,
    sites: usize,
    template_seed: u64,
    flip: f64,
    seed: u64,
) -> Dataset {
    let mut t = StdRng::seed_from_u64(template_seed);
    let templates: Vec<Vec<u8>> = (0..3)
        .map(|_| (0..sites).map(|_| t.random_range(0..2u8)).collect())
        .collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Array2::zeros((n, sites));
    for mut row in x.rows_mut() {
        let tpl = &templates[rng.random_range(0..3)];
        for (k, v) in row.iter_mut().enumerate() {
            *v = tpl[k] ^ u8::from(rng.random_bool(flip));
        }
    }
    Dataset::binary(x).unwrap()
}

/// Upper quantile of chi-square with `k` degrees of freedom at significance 1e-4
/// (Wilson-Hilferty, z_{1-1e-4} = 3.7190), with a 3% safety margin.
pub fn chi2_critical(k: usize) -> f64 {
    let k = k as f64;
    let z = 3.719_016;
    let c = 2.0 / (9.0 * k);
    1.03 * k * (1.0 - c + z * c.sqrt()).powi(3)
}

/// Pearson chi-square of observed counts against probabilities, pooling cells
/// with expected count < 5; returns (statistic, degrees of freedom).
pub fn chi2(counts: &[usize], probs: &[f64], n: usize) -> (f64, usize) {
    let mut stat = 0.0;
    let mut cells = 0;
    let (mut pool_o, mut pool_e) = (0.0, 0.0);
    for (&o, &p) in counts.iter().zip(probs) {
        let e = p * n as f64;
        if e < 5.0 {
            pool_o += o as f64;
            pool_e += e;
        } else {
            stat += (o as f64 - e).powi(2) / e;
            cells += 1;
        }
    }
    if pool_e > 0.0 {
        stat += (pool_o - pool_e).powi(2) / pool_e.max(1e-300);
        cells += 1;
    }
    (stat, cells - 1)
}

pub fn bars_and_stripes(side: usize) -> Array2<u8> {
    let mut set = std::collections::BTreeSet::new();
    for mask in 0..(1u32 << side) {
        let stripes: Vec<u8> = (0..side * side)
            .map(|i| ((mask >> (i / side)) & 1) as u8)
            .collect();
        let bars: Vec<u8> = (0..side * side)
            .map(|i| ((mask >> (i % side)) & 1) as u8)
            .collect();
        set.insert(stripes);
        set.insert(bars);
    }
    let rows: Vec<u8> = set.iter().flatten().copied().collect();
    Array2::from_shape_vec((set.len(), side * side), rows).unwrap()
}

/// Conditional samples against the enumerated distribution `p` over the
/// configurations `cs` (binary, site 0 most significant): for each mask of observed
/// sites, condition on a configuration drawn from the model, draw `draws` samples of
/// `p(x_free | x_observed)`, check that observed sites are copied, and compare the
/// counts of the consistent cells with the renormalised `p` by chi-square.
pub fn conditional_samples_match_enumeration<M: BornMachine>(
    model: &M,
    cs: &[Vec<u8>],
    p: &[f64],
    masks: &[&[usize]],
    draws: usize,
    rng: &mut StdRng,
) {
    let n = model.num_sites();
    for (mi, obs_sites) in masks.iter().enumerate() {
        let mut observed = vec![false; n];
        for &k in obs_sites.iter() {
            observed[k] = true;
        }
        // Condition on a configuration drawn from the model.
        let x = model.sample(1, rng).unwrap().row(0).to_vec();
        let consistent = |c: &[u8]| (0..n).all(|k| !observed[k] || c[k] == x[k]);
        let pc: Vec<f64> = cs
            .iter()
            .zip(p)
            .map(|(c, &q)| if consistent(c) { q } else { 0.0 })
            .collect();
        let norm: f64 = pc.iter().sum();
        let pc: Vec<f64> = pc.iter().map(|q| q / norm).collect();
        let s = model.sample_conditional(&x, &observed, draws, rng).unwrap();
        let mut counts = vec![0usize; p.len()];
        for r in s.rows() {
            for k in 0..n {
                if observed[k] {
                    assert_eq!(r[k], x[k], "observed site {k} changed");
                }
            }
            counts[r.iter().fold(0usize, |a, &v| a * 2 + v as usize)] += 1;
        }
        // Only consistent cells take part (the others are structurally zero).
        let (cnt, pr): (Vec<usize>, Vec<f64>) = counts
            .iter()
            .zip(&pc)
            .zip(cs)
            .filter(|(_, c)| consistent(c))
            .map(|((&o, &q), _)| (o, q))
            .unzip();
        let (stat, dof) = chi2(&cnt, &pr, draws);
        let crit = chi2_critical(dof.max(1));
        assert!(stat < crit, "mask {mi}: chi2 {stat} > {crit} (dof {dof})");
    }
}
