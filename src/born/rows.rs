//! [`ScaledRows`]: per-sample row vectors with separate log scales, the batched
//! environments of the MPS and the batched messages of the TTN.

use ndarray::{Array2, ArrayView1};

/// Row vectors of `n` samples (MPS environments at one site, TTN messages on one
/// leg): unit rows and their log scales, so products over hundreds of sites neither
/// under- nor overflow and `ln |psi(x)|` is a sum of logs.
#[derive(Clone, Debug)]
pub(crate) struct ScaledRows {
    /// `n x D`, each row of norm 1 (or exactly zero).
    pub vecs: Array2<f64>,
    /// `ln` of the norm taken out of each row (`-inf` for a zero row).
    pub logs: Vec<f64>,
}

impl ScaledRows {
    /// The boundary (MPS ends, the TTN root's parent leg): every sample has the
    /// `1 x 1` vector `[1]`.
    pub fn boundary(n: usize) -> Self {
        ScaledRows {
            vecs: Array2::ones((n, 1)),
            logs: vec![0.0; n],
        }
    }

    /// One-hot rows `e_{x_s}` of a site column with `d` states.
    pub fn site(col: ArrayView1<'_, u8>, d: usize) -> Self {
        let mut vecs = Array2::zeros((col.len(), d));
        for (i, &v) in col.iter().enumerate() {
            vecs[(i, usize::from(v))] = 1.0;
        }
        ScaledRows {
            vecs,
            logs: vec![0.0; col.len()],
        }
    }
}
