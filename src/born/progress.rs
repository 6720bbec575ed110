//! Ready observers for long fits: [`ProgressLog`] (one line per half-sweep) and,
//! with the cargo feature `progress`, `FitProgressBar` (an `indicatif` bar that
//! advances per bond update).

use std::io::Write;
use std::time::Instant;

use super::observer::{HalfSweepReport, SweepDirection};
use super::BornMachine;
use crate::fit::{FitControl, FitObserver};

/// An observer that writes one line per half-sweep (to standard error by default):
/// the half-sweep and sweep, the training NLL, the validation NLL (marked `*` when it
/// is the best so far), the largest bond, the largest truncation error, the seconds
/// of the half-sweep's updates and an ETA for the remaining half-sweeps of
/// `options().sweeps` (from the wall time since the first progress call or
/// report, so it includes validation and observer time; with early stopping the
/// fit may end sooner). It never stops a fit.
///
/// ```text
/// half-sweep  3/16 (sweep  2 L->R)  NLL  123.456  valid  125.012*  bond  32  trunc 1.2e-5     4.1 s  ETA 53 s
/// ```
///
/// ```
/// use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine, ProgressLog};
/// use tnlearn::Dataset;
///
/// let data = Dataset::binary(ndarray::array![[0, 1, 1, 0], [1, 0, 0, 1]])?;
/// let mut model = MpsBornMachine::new(4, 2, BornOptions::new().max_bond(4).sweeps(2))?;
/// let mut log = ProgressLog::with_writer(Vec::new());
/// model.fit_with(&data, &mut log)?;
/// let text = String::from_utf8(log.into_inner()).unwrap();
/// assert_eq!(text.lines().count(), 4);
/// assert!(text.starts_with("half-sweep  1/4 (sweep  1 L->R)  NLL"));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Debug)]
pub struct ProgressLog<W: Write = std::io::Stderr> {
    out: W,
    start: Option<Instant>,
}

impl ProgressLog<std::io::Stderr> {
    /// A log written to standard error.
    pub fn new() -> Self {
        Self::with_writer(std::io::stderr())
    }
}

impl Default for ProgressLog<std::io::Stderr> {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressLog<std::io::Stdout> {
    /// A log written to standard output.
    pub fn stdout() -> Self {
        Self::with_writer(std::io::stdout())
    }
}

impl<W: Write> ProgressLog<W> {
    /// A log written to `out` (write errors are ignored: a log never fails a fit).
    pub fn with_writer(out: W) -> Self {
        ProgressLog { out, start: None }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The line [`FitObserver::on_report`] writes for `report` (without the
    /// newline), for callers that add their own columns; it advances the ETA clock
    /// like a report does. `total_half_sweeps` is `2 * options().sweeps`.
    pub fn line(&mut self, report: &HalfSweepReport, total_half_sweeps: usize) -> String {
        let start = *self.start.get_or_insert_with(Instant::now);
        let h = report.half_sweep();
        let elapsed = start.elapsed().as_secs_f64();
        let remaining = total_half_sweeps.saturating_sub(h) as f64;
        let eta = elapsed / h as f64 * remaining;
        let dir = match report.direction {
            SweepDirection::LeftToRight => "L->R",
            SweepDirection::RightToLeft => "R->L",
        };
        let width = total_half_sweeps.to_string().len().max(2);
        let valid = match report.valid_nll {
            Some(v) => format!(
                "  valid {v:8.3}{}",
                if report.is_best() { "*" } else { " " }
            ),
            None => String::new(),
        };
        format!(
            "half-sweep {h:>width$}/{total_half_sweeps} (sweep {:>2} {dir})  NLL {:8.3}{valid}  \
             bond {:>3}  trunc {:.1e}  {:7.2} s  ETA {}",
            report.sweep,
            report.train_nll,
            report.max_bond,
            report.truncation_error,
            report.seconds,
            format_seconds(eta)
        )
    }
}

/// `53 s`, `4 min 05 s`, `1 h 02 min`.
pub(crate) fn format_seconds(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

impl<W: Write, M: BornMachine> FitObserver<HalfSweepReport, M> for ProgressLog<W> {
    fn on_report(&mut self, report: &HalfSweepReport, model: &M) -> FitControl {
        let line = self.line(report, 2 * model.options().sweeps);
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
        FitControl::Continue
    }

    fn on_progress(&mut self, _done: u64, _total: u64) {
        self.on_progress_clock();
    }
}

/// An `indicatif` progress bar for a Born machine fit (cargo feature `progress`):
/// it advances after every bond (edge) update with an ETA, and prints the
/// [`ProgressLog`] line of every half-sweep above the bar. It never stops a fit;
/// the bar is cleared when the value is dropped (or by [`FitProgressBar::finish`]).
///
/// ```
/// use tnlearn::born::{BornMachine, BornOptions, FitProgressBar, MpsBornMachine};
/// use tnlearn::Dataset;
///
/// let data = Dataset::binary(ndarray::array![[0, 1, 1, 0], [1, 0, 0, 1]])?;
/// let mut model = MpsBornMachine::new(4, 2, BornOptions::new().max_bond(4).sweeps(2))?;
/// let mut bar = FitProgressBar::new();
/// model.fit_with(&data, &mut bar)?;
/// assert_eq!(bar.position(), 12); // 2 sweeps x 2 halves x 3 bonds
/// bar.finish();
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[cfg(feature = "progress")]
#[derive(Debug)]
pub struct FitProgressBar {
    bar: indicatif::ProgressBar,
    log: ProgressLog<std::io::Sink>,
}

#[cfg(feature = "progress")]
impl FitProgressBar {
    /// A bar drawn on standard error (hidden when it is not a terminal).
    pub fn new() -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {percent:>3}% bond {pos}/{len} ETA {eta} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        FitProgressBar {
            bar,
            log: ProgressLog::with_writer(std::io::sink()),
        }
    }

    /// The bond (edge) updates done so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Prints a line above the bar (for observers that add their own columns).
    pub fn println(&self, line: impl AsRef<str>) {
        self.bar.println(line);
    }

    /// Clears the bar (the printed lines stay).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(feature = "progress")]
impl Default for FitProgressBar {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "progress")]
impl<M: BornMachine> FitObserver<HalfSweepReport, M> for FitProgressBar {
    fn on_report(&mut self, report: &HalfSweepReport, model: &M) -> FitControl {
        let line = self.log.line(report, 2 * model.options().sweeps);
        self.bar.println(line);
        self.bar.set_message(format!("NLL {:.3}", report.train_nll));
        FitControl::Continue
    }

    fn on_progress(&mut self, done: u64, total: u64) {
        self.log.on_progress_clock();
        if self.bar.length() != Some(total) {
            self.bar.set_length(total);
        }
        self.bar.set_position(done);
    }
}

#[cfg(feature = "progress")]
impl Drop for FitProgressBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl<W: Write> ProgressLog<W> {
    /// Starts the ETA clock if it has not started.
    fn on_progress_clock(&mut self) {
        self.start.get_or_insert_with(Instant::now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_formatted_for_people() {
        assert_eq!(format_seconds(53.4), "53 s");
        assert_eq!(format_seconds(245.0), "4 min 05 s");
        assert_eq!(format_seconds(3720.0), "1 h 02 min");
        assert_eq!(format_seconds(f64::NAN), "0 s");
    }
}
