//! Causal cones: [`Cone`], the part of a CORA a region of the data depends on.
//!
//! A stochastic map none of whose outputs is needed sums to 1 and drops out of a
//! marginal. So the marginal of a region `A` of `Gamma_0` depends only on
//!
//! ```text
//! cone_0     = A
//! boxes_j    = the box groups of level j with an output in cone_{j-1}
//! refined_j  = cone_{j-1} + all inputs of boxes_j          (sites of Gamma_{j-1})
//! cone_j     = the parents in Gamma_j of the sites of refined_j
//! ```
//!
//! In 1D any window settles at 3 sites wide (a single site: 2, 3, 3, ...); in 2D
//! with 2x2 blocks at 3x3; with 3x3 blocks at most 2x2.

use super::geometry::Geometry;
use crate::error::{Error, Result};

/// The causal cone of a region, level by level (inspectable: `cone.sites[j]` is the
/// part of `Gamma_j` the region depends on).
///
/// Indices are relative to `base_level` (0 for [`Cora::cone`](super::Cora::cone)):
/// entry `k` describes level `base_level + k`.
///
/// ```
/// use tnlearn::cora::{Architecture, Cora};
/// use tnlearn::rand::{rngs::StdRng, SeedableRng};
///
/// let arch = Architecture::chain(16).levels(3).boxes(false);
/// let model = Cora::random(arch, &mut StdRng::seed_from_u64(0))?;
/// let cone = model.cone(&[4, 5])?;
/// assert_eq!(cone.sites[0], vec![4, 5]); // the region
/// assert_eq!(cone.sites[1], vec![2]); // both sites come from one block
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cone {
    /// The level of the region (0 for data regions).
    pub base_level: usize,
    /// `sites[k]`: the cone on `Gamma_{base_level + k}`, sorted; `sites[0]` is the region.
    pub sites: Vec<Vec<usize>>,
    /// `boxes[k]` (`k >= 1`): box groups of level `base_level + k` with an output in
    /// `sites[k - 1]`, sorted; `boxes[0]` is empty.
    pub boxes: Vec<Vec<usize>>,
    /// `refined[k]` (`k >= 1`): sites of `Gamma_{base_level + k - 1}` whose refined
    /// value (before the boxes) is needed: `sites[k - 1]` plus the inputs of
    /// `boxes[k]`, sorted; `refined[0]` is empty.
    pub refined: Vec<Vec<usize>>,
}

impl Cone {
    /// The cone of `region` (sites of `Gamma_base`) up to `Gamma_top`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty region, a site out of range or a
    /// repeated site, or naming `base` or `top` unless `base <= top <= J`.
    pub fn compute(geometry: &Geometry, base: usize, region: &[usize], top: usize) -> Result<Self> {
        geometry.try_dims(top).map_err(|_| {
            Error::invalid_argument(
                "top",
                format!("must be in 0..={} (got {top})", geometry.levels()),
            )
        })?;
        if base > top {
            return Err(Error::invalid_argument(
                "base",
                format!("must be at most top = {top} (got {base})"),
            ));
        }
        let n = geometry.num_sites(base);
        if region.is_empty() {
            return Err(Error::invalid_argument("region", "is empty"));
        }
        let mut sorted = region.to_vec();
        sorted.sort_unstable();
        if let Some(&s) = sorted.iter().find(|&&s| s >= n) {
            return Err(Error::invalid_argument(
                "region",
                format!("site {s} is out of range (level {base} has {n} sites)"),
            ));
        }
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::invalid_argument(
                "region",
                format!("site {} appears twice", w[0]),
            ));
        }
        let mut sites = vec![sorted];
        let mut boxes = vec![Vec::new()];
        let mut refined = vec![Vec::new()];
        for j in base + 1..=top {
            let below = sites.last().expect("non-empty");
            let mut groups: Vec<usize> = below
                .iter()
                .filter_map(|&s| geometry.group_of(j, s).map(|(g, _)| g))
                .collect();
            groups.sort_unstable();
            groups.dedup();
            let mut need: Vec<usize> = below.clone();
            for &g in &groups {
                need.extend(geometry.group_sites(j, g));
            }
            need.sort_unstable();
            need.dedup();
            let mut parents: Vec<usize> = need.iter().map(|&s| geometry.parent(j, s).0).collect();
            parents.sort_unstable();
            parents.dedup();
            boxes.push(groups);
            refined.push(need);
            sites.push(parents);
        }
        Ok(Cone {
            base_level: base,
            sites,
            boxes,
            refined,
        })
    }

    /// The widest level of the cone (number of sites).
    pub fn max_width(&self) -> usize {
        self.sites.iter().map(Vec::len).max().unwrap_or(0)
    }
}
