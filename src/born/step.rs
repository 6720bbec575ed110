//! What the MPS and TTN trainers share: the start of a fit ([`start_fit`]) and
//! one gradient step on a merged two-site (MPS) or two-node (TTN) tensor
//! ([`gradient_step`]): the step rule of the options ([`StepRule`]: plain with the
//! length-1 safeguard, or normalised), then `B <- B / ||B||`.

use ndarray::{Array, Dimension};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::checks::check_samples;
use super::options::{BornOptions, StepRule};
use super::validation::Validation;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::linalg::sum_sq;

/// What every fit does before any work: validate the options, the training set
/// (`nsites` sites, values `< d`; errors name `train`) and the validation set if
/// any (errors name `validation` or `patience`), and seed the minibatch generator
/// from `options.seed` (offset from the seed of the initial tensors).
pub(crate) fn start_fit(
    options: &BornOptions,
    train: &Dataset,
    validation: Option<Validation<'_>>,
    nsites: usize,
    d: usize,
) -> Result<StdRng> {
    options.validate()?;
    check_samples(train.samples(), nsites, d, "train")?;
    if let Some(v) = validation {
        v.check(nsites, d)?;
    }
    Ok(StdRng::seed_from_u64(
        options.seed.wrapping_add(0x9E37_79B9_7F4A_7C15),
    ))
}

/// `B <- (B - eta' G) / ||B - eta' G||` with `eta' = learning_rate * factor` of
/// the step rule. A non-finite or zero result is [`Error::NonFinite`] whose context
/// is `what()` and the setting to blame: `learning_rate` for the plain rule, the
/// normalised step length `learning_rate * 2 n^size_exponent` for the normalised one.
pub(crate) fn gradient_step<D: Dimension>(
    b: &mut Array<f64, D>,
    grad: &Array<f64, D>,
    options: &BornOptions,
    what: impl FnOnce() -> String,
) -> Result<()> {
    let grad_norm = norm_sq(grad).sqrt();
    let eta = options.learning_rate;
    let factor = options.step_rule.factor(eta, grad_norm, b.len());
    b.scaled_add(-(eta * factor), grad);
    let nrm = norm_sq(b).sqrt();
    if !nrm.is_finite() || nrm == 0.0 {
        let blame = match options.step_rule {
            StepRule::Plain => format!("learning_rate = {eta} too large?"),
            StepRule::Normalized { size_exponent } => format!(
                "the normalised step length learning_rate * 2 n^size_exponent = {eta} * 2 * \
                 {}^{size_exponent} = {:e} too large? (lower size_exponent or learning_rate)",
                b.len(),
                eta * 2.0 * (b.len() as f64).powf(size_exponent)
            ),
        };
        return Err(Error::NonFinite {
            context: format!("{} after a gradient step ({blame})", what()),
            position: 0,
            value: format!("{nrm}"),
        });
    }
    let inv = 1.0 / nrm;
    b.mapv_inplace(|v| v * inv);
    Ok(())
}

/// `||a||^2`, vectorised when `a` is contiguous.
fn norm_sq<D: Dimension>(a: &Array<f64, D>) -> f64 {
    a.as_slice_memory_order()
        .map_or_else(|| a.iter().map(|v| v * v).sum(), sum_sq)
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    fn context(options: &BornOptions) -> String {
        let mut b = Array2::from_elem((2, 2), 0.5);
        let grad = Array2::from_elem((2, 2), 1.0);
        match gradient_step(&mut b, &grad, options, || "the test tensor".into()) {
            Err(Error::NonFinite { context, .. }) => context,
            other => panic!("expected NonFinite, got {other:?}"),
        }
    }

    /// A divergent step blames the setting that made it: `learning_rate` for the
    /// plain rule, the normalised step length (`size_exponent`) for the normalised one.
    #[test]
    fn a_divergent_step_blames_the_right_setting() {
        let plain = context(&BornOptions::new().learning_rate(1e300));
        assert!(
            plain.contains("(learning_rate = 1000") && plain.ends_with(" too large?)"),
            "{plain}"
        );
        assert!(!plain.contains("size_exponent"), "{plain}");
        let huge_exponent =
            BornOptions::new().step_rule(StepRule::Normalized { size_exponent: 1e6 });
        let normalised = context(&huge_exponent);
        assert!(normalised.contains("size_exponent"), "{normalised}");
        assert!(normalised.starts_with("the test tensor"), "{normalised}");
        let mut b = Array2::from_elem((2, 2), 0.5);
        let grad = Array2::from_elem((2, 2), 1.0);
        gradient_step(&mut b, &grad, &BornOptions::new(), String::new).unwrap();
        assert!((b.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
