//! Exact ancestral sampling: [`Cora::sample`].

use ndarray::Array2;
use rand::Rng;

use super::model::Cora;
use super::params::StochasticMap;
use crate::error::{Error, Result};

/// Draws an output of column `input` of `map` (inverse CDF).
#[inline]
pub(crate) fn draw<R: Rng + ?Sized>(map: &StochasticMap, input: usize, rng: &mut R) -> usize {
    let u: f64 = rng.random();
    let ni = map.inputs();
    let vals = map.values();
    let mut acc = 0.0;
    for o in 0..map.outputs() {
        acc += vals[o * ni + input];
        if u < acc {
            return o;
        }
    }
    // Rounding: the last output with positive probability.
    (0..map.outputs())
        .rev()
        .find(|&o| vals[o * ni + input] > 0.0)
        .unwrap_or(map.outputs() - 1)
}

/// Writes the digits of `value` (`sites` digits base `dim`, first slowest) into
/// `out` at `positions`.
#[inline]
pub(crate) fn scatter(mut value: usize, dim: usize, positions: &[usize], out: &mut [usize]) {
    for &p in positions.iter().rev() {
        out[p] = value % dim;
        value /= dim;
    }
}

/// The row-major index of the values at `positions`.
#[inline]
pub(crate) fn gather(dim: usize, positions: &[usize], values: &[usize]) -> usize {
    positions.iter().fold(0, |k, &p| k * dim + values[p])
}

impl Cora {
    /// `n` independent exact samples of `mu`, one per row (`n x N`): draw the top
    /// sites from `e`, then push down through every level (refine every site, then
    /// every box), `O(N)` per sample.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `n = 0`, or if the `n x N` bytes of the output
    /// overflow or cannot be allocated (the message names `n` and the byte count).
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<Array2<u8>> {
        if n == 0 {
            return Err(Error::invalid_argument("n", "must be at least 1"));
        }
        let mut out = crate::data::try_zeros_u8(n, self.num_sites(), "n")?;
        for mut row in out.rows_mut() {
            let x = self.sample_levels(rng, 0).pop().expect("level 0");
            for (dst, &v) in row.iter_mut().zip(&x) {
                *dst = v as u8;
            }
        }
        Ok(out)
    }

    /// One ancestral sample at every level from the top down to `down_to`:
    /// returns `[x_J, x_{J-1}, ..., x_{down_to}]`.
    pub(crate) fn sample_levels<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        down_to: usize,
    ) -> Vec<Vec<usize>> {
        let geo = &self.geometry;
        let big_j = self.levels();
        let top_sites: Vec<usize> = (0..geo.num_sites(big_j)).collect();
        let mut h = vec![0usize; top_sites.len()];
        scatter(draw(&self.top, 0, rng), geo.chi(big_j), &top_sites, &mut h);
        let mut levels = vec![h];
        for j in (down_to + 1..=big_j).rev() {
            let h = levels.last().expect("non-empty");
            let fine = geo.chi(j - 1);
            let mut y = vec![0usize; geo.num_sites(j - 1)];
            for (c, &hc) in h.iter().enumerate() {
                let children = geo.children(j, c);
                scatter(draw(self.refine_of(j, c), hc, rng), fine, &children, &mut y);
            }
            let mut z = y.clone();
            for g in 0..geo.num_groups(j) {
                let members = geo.group_sites(j, g);
                let input = gather(fine, &members, &y);
                scatter(draw(self.box_of(j, g), input, rng), fine, &members, &mut z);
            }
            levels.push(z);
        }
        levels
    }
}
