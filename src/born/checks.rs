//! Input checks and sampling pieces shared by the MPS and TTN Born machines.

use ndarray::{Array3, ArrayView2};

use crate::error::{Error, Result};

/// `x` must hold one value `< d` per site; the error names the site.
pub(crate) fn check_config(x: &[u8], nsites: usize, d: usize, name: &str) -> Result<()> {
    if x.len() != nsites {
        return Err(Error::shape_mismatch(
            format!(
                "{name}: a configuration needs one value per site ({nsites} sites), got {}",
                x.len()
            ),
            vec![nsites],
            vec![x.len()],
        ));
    }
    if let Some(k) = x.iter().position(|&v| usize::from(v) >= d) {
        return Err(Error::invalid_argument(
            name,
            format!(
                "site {k} has value {}, but values must be < num_states = {d}",
                x[k]
            ),
        ));
    }
    Ok(())
}

/// Samples must be a non-empty `n x nsites` array of values `< d`; the error names
/// the sample and the site.
pub(crate) fn check_samples(
    samples: ArrayView2<'_, u8>,
    nsites: usize,
    d: usize,
    name: &str,
) -> Result<()> {
    if samples.nrows() == 0 {
        return Err(Error::invalid_argument(name, "no samples (0 rows)"));
    }
    if samples.ncols() != nsites {
        return Err(Error::invalid_argument(
            name,
            format!(
                "samples have {} sites but the model has {nsites} sites",
                samples.ncols()
            ),
        ));
    }
    if let Some(((i, k), &v)) = samples.indexed_iter().find(|(_, &v)| usize::from(v) >= d) {
        return Err(Error::invalid_argument(
            name,
            format!("sample {i}, site {k} has value {v}, but values must be < num_states = {d}"),
        ));
    }
    Ok(())
}

/// The evidence of a conditional sampler, checked once
/// ([`BornMachine::sample_conditional`](crate::born::BornMachine::sample_conditional)
/// builds it): a mask `observed` with one entry per site and the configuration `x`
/// whose values at the observed sites are kept (each `< d`; the values at free
/// sites are ignored).
///
/// ```
/// use tnlearn::born::Evidence;
///
/// let ev = Evidence::new(&[1, 0, 0], &[true, false, false], 3, 2)?;
/// assert_eq!(ev.last_observed(), Some(0));
/// // An observed value out of range names the site.
/// let e = Evidence::new(&[0, 0, 5], &[false, false, true], 3, 2).unwrap_err();
/// assert!(e.to_string().contains("site 2"));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Evidence<'a> {
    x: &'a [u8],
    observed: &'a [bool],
}

impl<'a> Evidence<'a> {
    /// Checks `x` and `observed` against a model of `num_sites` sites with
    /// `num_states` states each.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` or `observed` does not have `num_sites`
    /// entries; [`Error::InvalidArgument`] naming the site for an observed value
    /// `>= num_states`.
    pub fn new(
        x: &'a [u8],
        observed: &'a [bool],
        num_sites: usize,
        num_states: usize,
    ) -> Result<Self> {
        let (nsites, d) = (num_sites, num_states);
        if observed.len() != nsites {
            return Err(Error::shape_mismatch(
                format!(
                    "sample_conditional: the mask needs one entry per site ({nsites}), got {}",
                    observed.len()
                ),
                vec![nsites],
                vec![observed.len()],
            ));
        }
        if x.len() != nsites {
            check_config(x, nsites, d, "x")?;
        }
        if let Some(k) = (0..nsites).find(|&k| observed[k] && usize::from(x[k]) >= d) {
            return Err(Error::invalid_argument(
                "x",
                format!(
                    "observed site {k} has value {}, but values must be < num_states = {d}",
                    x[k]
                ),
            ));
        }
        Ok(Evidence { x, observed })
    }

    /// The configuration (its values at observed sites are the evidence).
    pub fn values(&self) -> &'a [u8] {
        self.x
    }

    /// The mask: `true` at observed sites.
    pub fn observed(&self) -> &'a [bool] {
        self.observed
    }

    /// The last observed site, if any.
    pub fn last_observed(&self) -> Option<usize> {
        self.observed.iter().rposition(|&o| o)
    }
}

/// Draws one index from unnormalised weights (negative ones count as 0) with a
/// uniform `u`; `None` if they do not sum to a positive finite total.
pub(crate) fn draw(weights: impl Iterator<Item = f64> + Clone, u: f64) -> Option<usize> {
    let total: f64 = weights.clone().map(|w| w.max(0.0)).sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let target = u * total;
    let mut acc = 0.0;
    let mut last = None;
    for (s, w) in weights.enumerate() {
        if w > 0.0 {
            last = Some(s);
            acc += w;
            if target < acc {
                return Some(s);
            }
        }
    }
    last
}

/// The error of a sampler whose conditional weights all vanish.
pub(crate) fn zero_state() -> Error {
    Error::NoConvergence {
        routine: "Born machine sampling".into(),
        detail: "all conditional weights are zero or non-finite (zero state?)".into(),
    }
}

/// Above this many entries `marginal` refuses (`2^20`), for both models.
pub const MAX_MARGINAL_ENTRIES: usize = 1 << 20;

/// `num_states` must be in `2..=256` (data values are `u8`).
pub(crate) fn check_num_states(d: usize) -> Result<()> {
    if !(2..=256).contains(&d) {
        return Err(Error::invalid_argument(
            "num_states",
            format!("must be in 2..=256 (values are u8), got {d}"),
        ));
    }
    Ok(())
}

/// The sites of a marginal: each `< nsites`, none twice, and at most
/// [`MAX_MARGINAL_ENTRIES`] entries `d^sites.len()` (checked); returns that count.
pub(crate) fn check_marginal_sites(sites: &[usize], nsites: usize, d: usize) -> Result<usize> {
    for (i, &k) in sites.iter().enumerate() {
        if k >= nsites {
            return Err(Error::invalid_argument(
                "sites",
                format!("site {k} is out of range for {nsites} sites"),
            ));
        }
        if sites[..i].contains(&k) {
            return Err(Error::invalid_argument(
                "sites",
                format!("site {k} is listed twice"),
            ));
        }
    }
    match (0..sites.len()).try_fold(1usize, |acc, _| acc.checked_mul(d)) {
        Some(e) if e <= MAX_MARGINAL_ENTRIES => Ok(e),
        _ => Err(Error::invalid_argument(
            "sites",
            format!(
                "{}^{} entries exceed the limit of {MAX_MARGINAL_ENTRIES}",
                d,
                sites.len()
            ),
        )),
    }
}

/// Divides a density matrix of the evidence (a conditional sampler's environment)
/// by its trace and returns the trace; a zero or non-finite trace means the
/// observed values have probability zero, an error naming `x`.
pub(crate) fn normalise_density(m: &mut ndarray::Array2<f64>) -> Result<f64> {
    let tr: f64 = m.diag().sum();
    if !(tr > 0.0 && tr.is_finite()) {
        return Err(Error::invalid_argument(
            "x",
            "the observed values have probability zero under the model; \
             the conditional distribution does not exist",
        ));
    }
    m.mapv_inplace(|v| v / tr);
    Ok(tr)
}

/// The largest number of sampled values (`n * num_sites`) one call to `sample` or
/// `sample_conditional` returns: `2^32` (4 GiB of `u8`).
pub const MAX_SAMPLE_ENTRIES: usize = 1 << 32;

/// `n` samples of `nsites` sites must fit in [`MAX_SAMPLE_ENTRIES`] values (checked
/// arithmetic), so a huge `n` is an error naming `n`, not an allocation failure.
pub(crate) fn check_sample_count(n: usize, nsites: usize) -> Result<()> {
    match n.checked_mul(nsites) {
        Some(total) if total <= MAX_SAMPLE_ENTRIES => Ok(()),
        _ => Err(Error::invalid_argument(
            "n",
            format!(
                "{n} samples of {nsites} sites exceed the limit of {MAX_SAMPLE_ENTRIES} \
                 sampled values per call; draw them in smaller batches"
            ),
        )),
    }
}

/// The largest random initial model [`MpsBornMachine::new`](super::MpsBornMachine::new)
/// and [`TtnBornMachine::new`](super::TtnBornMachine::new) build: `2^30` values
/// (8 GiB), counted as `num_sites * D * max(d, D)^2`, a bound on both networks.
pub const MAX_INITIAL_ENTRIES: usize = 1 << 30;

/// The random initial network of `nsites` sites, `d` states and bond `bond` must
/// fit in [`MAX_INITIAL_ENTRIES`] values (checked arithmetic); the error names
/// `initial_bond` (or `num_sites` at bond 1) and every size.
pub(crate) fn check_initial_size(nsites: usize, d: usize, bond: usize) -> Result<()> {
    let w = d.max(bond);
    let entries = w
        .checked_mul(w)
        .and_then(|x| x.checked_mul(bond))
        .and_then(|x| x.checked_mul(nsites));
    match entries {
        Some(e) if e <= MAX_INITIAL_ENTRIES => Ok(()),
        _ => Err(Error::invalid_argument(
            if bond > 1 {
                "initial_bond"
            } else {
                "num_sites"
            },
            format!(
                "a random initial model of {nsites} sites, {d} states and bond dimension \
                 {bond} needs more than {MAX_INITIAL_ENTRIES} values; lower initial_bond \
                 or the number of sites"
            ),
        )),
    }
}

/// `ln ||t||_F^2` of the centre tensor: `ln Z` of a Born machine in canonical form
/// (plain sum of squares: the centre is normalised, so nothing can overflow).
pub(crate) fn log_sq_norm(t: &Array3<f64>) -> f64 {
    t.iter().map(|v| v * v).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use crate::born::{BornMachine, BornOptions, MpsBornMachine, TtnBornMachine};
    use crate::Error;

    fn names_n<T: std::fmt::Debug>(r: crate::Result<T>) {
        match r {
            Err(Error::InvalidArgument { name, .. }) => assert_eq!(name, "n"),
            other => panic!("expected an InvalidArgument naming n, got {other:?}"),
        }
    }

    /// A sample count whose `n * N` overflows, or exceeds the limit, is an error
    /// naming `n` (before any allocation), for both models and both samplers.
    #[test]
    fn huge_sample_counts_are_errors_naming_n() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mps = MpsBornMachine::new(4, 2, BornOptions::new()).unwrap();
        let ttn = TtnBornMachine::for_image(2, 2, 2, BornOptions::new()).unwrap();
        let (x, obs) = ([0u8; 4], [true, false, false, false]);
        for n in [usize::MAX, usize::MAX / 4 + 1, (1 << 30) + 1] {
            names_n(mps.sample(n, &mut rng));
            names_n(ttn.sample(n, &mut rng));
            names_n(mps.sample_conditional(&x, &obs, n, &mut rng));
            names_n(ttn.sample_conditional(&x, &obs, n, &mut rng));
        }
        assert_eq!(mps.sample(3, &mut rng).unwrap().dim(), (3, 4));
    }

    /// Absurd model sizes (overflowing or beyond the limit) are errors naming the
    /// setting, before any allocation.
    #[test]
    fn huge_initial_models_are_errors() {
        let name = |r: crate::Result<()>| match r {
            Err(Error::InvalidArgument { name, .. }) => name,
            other => panic!("expected an InvalidArgument, got {other:?}"),
        };
        let opts = BornOptions::new().max_bond(1 << 20).initial_bond(1 << 20);
        let r = MpsBornMachine::new(4, 2, opts).map(|_| ());
        assert_eq!(name(r), "initial_bond");
        let r = MpsBornMachine::new(usize::MAX / 2, 2, BornOptions::new().initial_bond(1));
        assert_eq!(name(r.map(|_| ())), "num_sites");
        let tree = crate::ttn::Tree::image(2, 2).unwrap();
        let r = TtnBornMachine::new(tree, 2, opts).map(|_| ());
        assert_eq!(name(r), "initial_bond");
        assert_eq!(
            name(super::check_initial_size(usize::MAX, 256, 1 << 40)),
            "initial_bond"
        );
        assert!(super::check_initial_size(784, 2, 8).is_ok());
    }

    /// The former public names still work (deprecated aliases for one release).
    #[test]
    #[allow(deprecated)]
    fn deprecated_names_still_work() {
        use crate::linalg::TruncationMode;
        let o = BornOptions::new().cutoff_mode(TruncationMode::Absolute);
        assert_eq!(o, BornOptions::new().mode(TruncationMode::Absolute));
        let data = crate::Dataset::binary(ndarray::array![[0, 1, 1], [1, 0, 0]])
            .unwrap()
            .with_labels(vec![3, 4])
            .unwrap();
        assert_eq!(data.n_sites(), data.num_sites());
        assert_eq!(data.with_label(4).samples(), data.filter_label(4).samples());
        assert_eq!(data.filter_label(4).len(), 1);
    }
}
