//! The one implementation of [`BornMachine`](super::BornMachine)'s primitives for
//! every model: [`impl_born_machine!`] writes the trait impl once, forwarding each
//! primitive through a dispatch macro: [`via_inherent!`] (a model's inherent
//! method of the same name) or `via_variant!` in `any.rs` (the model inside an
//! [`AnyBornMachine`](super::AnyBornMachine)). The items that differ (options,
//! training) are passed in.

/// `Self::f(self, args)`: the model's inherent method of the trait method's name.
macro_rules! via_inherent {
    ($s:ident, $f:ident($($a:expr),*)) => {
        Self::$f($s, $($a),*)
    };
}

/// `impl BornMachine for $ty`, forwarding the shared primitives through `$via`
/// (a macro `$via!(self, method(args))`) and adding the items in braces.
macro_rules! impl_born_machine {
    ($ty:ty, $via:ident { $($extra:tt)* }) => {
        impl BornMachine for $ty {
            fn num_sites(&self) -> usize {
                $via!(self, num_sites())
            }
            fn num_states(&self) -> usize {
                $via!(self, num_states())
            }
            fn log_probs(&self, samples: ArrayView2<'_, u8>) -> Result<Vec<f64>> {
                $via!(self, log_probs(samples))
            }
            fn sample_given(
                &self,
                ev: &Evidence<'_>,
                n: usize,
                rng: &mut dyn RngCore,
            ) -> Result<Array2<u8>> {
                $via!(self, sample_given(ev, n, rng))
            }
            fn marginal(&self, sites: &[usize]) -> Result<ArrayD<f64>> {
                $via!(self, marginal(sites))
            }
            fn max_bond(&self) -> usize {
                $via!(self, max_bond())
            }
            fn save(&self, path: impl AsRef<Path>) -> Result<()> {
                $via!(self, save(path.as_ref()))
            }
            $($extra)*
        }
    };
}

/// The items of a concrete model (one with an `options` field and an inherent
/// `fit_validated_with`).
macro_rules! model_items {
    () => {
        fn options(&self) -> &BornOptions {
            &self.options
        }
        fn set_options(&mut self, options: BornOptions) -> Result<()> {
            options.validate()?;
            self.options = options;
            Ok(())
        }
        fn fit_validated_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
            &mut self,
            train: &Dataset,
            validation: Option<Validation<'_>>,
            observer: &mut O,
        ) -> Result<Vec<HalfSweepReport>> {
            Self::fit_validated_with(self, train, validation, observer)
        }
    };
}
