//! [`AnyBornMachine`]: an MPS or a TTN Born machine, chosen at run time.

use std::path::Path;

use ndarray::{Array2, ArrayD, ArrayView2};
use rand::RngCore;

use super::observer::HalfSweepReport;
use super::options::BornOptions;
use super::validation::Validation;
use super::{BornMachine, Evidence, MpsBornMachine, TtnBornMachine};
use crate::data::Dataset;
use crate::distributed::Communicator;
use crate::error::Result;
use crate::fit::{FitControl, FitObserver};
use crate::io::{format_error, read_file};

/// Either Born machine, for programs that choose the model at run time (a
/// command-line flag, a saved file of either kind). Every method forwards to the
/// model inside (through [`BornMachine`]); [`AnyBornMachine::load`] recognises the file by its magic.
///
/// ```
/// use tnlearn::born::{AnyBornMachine, BornMachine, BornOptions, TtnBornMachine};
/// let model: AnyBornMachine = TtnBornMachine::for_image(2, 3, 2, BornOptions::new())?.into();
/// assert_eq!(model.num_sites(), 6);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub enum AnyBornMachine {
    /// A matrix product state Born machine.
    Mps(MpsBornMachine),
    /// A tree tensor network Born machine.
    Ttn(TtnBornMachine),
}

impl From<MpsBornMachine> for AnyBornMachine {
    fn from(m: MpsBornMachine) -> Self {
        AnyBornMachine::Mps(m)
    }
}

impl From<TtnBornMachine> for AnyBornMachine {
    fn from(m: TtnBornMachine) -> Self {
        AnyBornMachine::Ttn(m)
    }
}

/// An observer of [`AnyBornMachine`] seen by the model inside: reports come with
/// the model wrapped (a clone), progress calls pass through.
struct Wrapped<'o, O: ?Sized>(&'o mut O);

impl<O, M> FitObserver<HalfSweepReport, M> for Wrapped<'_, O>
where
    O: FitObserver<HalfSweepReport, AnyBornMachine> + ?Sized,
    M: Clone + Into<AnyBornMachine>,
{
    fn on_report(&mut self, report: &HalfSweepReport, model: &M) -> FitControl {
        self.0.on_report(report, &model.clone().into())
    }
    fn on_progress(&mut self, done: u64, total: u64) {
        self.0.on_progress(done, total);
    }
}

macro_rules! forward {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            AnyBornMachine::Mps($m) => $e,
            AnyBornMachine::Ttn($m) => $e,
        }
    };
}

/// `m.f(args)` on the model inside (for [`impl_born_machine!`]).
macro_rules! via_variant {
    ($s:ident, $f:ident($($a:expr),*)) => {
        forward!($s, m => m.$f($($a),*))
    };
}

impl AnyBornMachine {
    /// Loads a model saved by [`MpsBornMachine::save`] or [`TtnBornMachine::save`],
    /// whichever the file holds.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the file cannot be read,
    /// [`Error::Format`](crate::Error::Format) if it is neither
    /// (or a damaged one, as the model's own `load`).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        if bytes.starts_with(super::mps::MAGIC) {
            Ok(MpsBornMachine::load(path)?.into())
        } else if bytes.starts_with(super::ttn::MAGIC) {
            Ok(TtnBornMachine::load(path)?.into())
        } else {
            Err(format_error(
                path,
                "not a tnlearn Born machine file (magic neither \"TNLBORN\" nor \"TNLTTN\")",
            ))
        }
    }

    /// `"mps"` or `"ttn"`.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyBornMachine::Mps(_) => "mps",
            AnyBornMachine::Ttn(_) => "ttn",
        }
    }

    /// Data-parallel training of the model inside over the ranks of `comm`: see
    /// [`MpsBornMachine::fit_distributed_with`] (each rank passes its shard of the
    /// data). The observer sees the model as in [`BornMachine::fit_validated_with`].
    ///
    /// # Errors
    /// Those of [`MpsBornMachine::fit_distributed_with`];
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming `comm` for a
    /// TTN on more than one rank (distributed training is the MPS's only; on one
    /// rank the TTN trains as usual).
    pub fn fit_distributed_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
        &mut self,
        train: &Dataset,
        validation: Option<Validation<'_>>,
        comm: &dyn Communicator,
        observer: &mut O,
    ) -> Result<Vec<HalfSweepReport>> {
        match self {
            AnyBornMachine::Mps(m) => {
                m.fit_distributed_with(train, validation, comm, &mut Wrapped(observer))
            }
            AnyBornMachine::Ttn(_) if comm.size() > 1 => Err(crate::Error::invalid_argument(
                "comm",
                format!(
                    "distributed training ({} ranks) is implemented for the MPS Born machine \
                     only; train the TTN on one rank",
                    comm.size()
                ),
            )),
            AnyBornMachine::Ttn(m) => {
                m.fit_validated_with(train, validation, &mut Wrapped(observer))
            }
        }
    }
}

impl_born_machine!(AnyBornMachine, via_variant {
    fn options(&self) -> &BornOptions {
        forward!(self, m => m.options())
    }
    fn set_options(&mut self, options: BornOptions) -> Result<()> {
        forward!(self, m => m.set_options(options))
    }
    /// Trains the model inside (see [`MpsBornMachine::fit_validated_with`] and
    /// [`TtnBornMachine::fit_validated_with`]). The observer sees a copy of the model
    /// wrapped as an `AnyBornMachine` after each half-sweep (one clone per
    /// half-sweep), and every progress call.
    fn fit_validated_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
        &mut self,
        train: &Dataset,
        validation: Option<Validation<'_>>,
        observer: &mut O,
    ) -> Result<Vec<HalfSweepReport>> {
        match self {
            AnyBornMachine::Mps(m) => {
                m.fit_validated_with(train, validation, &mut Wrapped(observer))
            }
            AnyBornMachine::Ttn(m) => {
                m.fit_validated_with(train, validation, &mut Wrapped(observer))
            }
        }
    }
});

impl std::fmt::Display for AnyBornMachine {
    /// The summary of the model inside.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        forward!(self, m => std::fmt::Display::fmt(m, f))
    }
}
