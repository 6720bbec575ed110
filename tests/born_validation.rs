//! Early stopping on a validation set (issue 12), for both Born machines and
//! through `AnyBornMachine`: on a tiny data set that overfits, the fit restores
//! bit for bit the model of the best validation NLL and stops `patience`
//! half-sweeps after it; without a validation set nothing changes.

mod born_common;

use ndarray::{Array2, Array3};
use tnlearn::born::{
    AnyBornMachine, BornMachine, BornOptions, FitControl, HalfSweepReport, MpsBornMachine,
    ProgressLog, TtnBornMachine, Validation,
};
use tnlearn::{Dataset, Error};

const SITES: usize = 12; // 3 x 4 images for the TTN

/// `n` noisy copies of 3 random templates (each bit flipped with probability 0.15).
fn noisy_templates(n: usize, seed: u64) -> Dataset {
    born_common::noisy_templates(n, SITES, 1000, 0.15, seed)
}

fn options() -> BornOptions {
    BornOptions::new()
        .max_bond(16)
        .initial_bond(2)
        .learning_rate(0.1)
        .steps_per_bond(3)
        .sweeps(12)
        .seed(5)
}

/// The property for one model kind: early stopping on an overfitting data set.
fn check_restores_best<M: BornMachine + Clone>(model: M, tensors: impl Fn(&M) -> Vec<Array3<f64>>) {
    let train = noisy_templates(30, 1);
    let valid = noisy_templates(40, 2);
    let patience = 3;
    let mut early = model.clone();
    let mut seen = 0;
    let reports = early
        .fit_validated_with(
            &train,
            Some(Validation::new(&valid).patience(patience)),
            &mut |r: &HalfSweepReport, _m: &M| {
                seen += 1;
                assert_eq!(r.half_sweep(), seen);
                FitControl::Continue
            },
        )
        .unwrap();
    assert_eq!(seen, reports.len());
    let valid_nlls: Vec<f64> = reports.iter().map(|r| r.valid_nll.unwrap()).collect();
    // The best half-sweep: the first one of the lowest validation NLL.
    let min = valid_nlls.iter().cloned().fold(f64::INFINITY, f64::min);
    let best = 1 + valid_nlls.iter().position(|&v| v == min).unwrap();
    let last = reports.last().unwrap();
    assert_eq!(last.best_half_sweep, Some(best), "{valid_nlls:?}");
    assert!(reports[best - 1].is_best());
    // The data overfit: training went on past the best model and stopped exactly
    // `patience` half-sweeps after it, before the sweeps ran out.
    assert!(
        reports.len() < 2 * options().sweeps,
        "did not stop early: {valid_nlls:?}"
    );
    assert_eq!(reports.len(), best + patience, "{valid_nlls:?}");
    assert!(last.train_nll < reports[best - 1].train_nll);
    assert!(valid_nlls[best..].iter().all(|&v| v >= min));
    // The model left in place is bit for bit the one of a fit stopped by an
    // observer after the best half-sweep.
    let mut stopped = model.clone();
    let plain = stopped
        .fit_with(&train, &mut |r: &HalfSweepReport, _m: &M| {
            if r.half_sweep() == best {
                FitControl::Stop
            } else {
                FitControl::Continue
            }
        })
        .unwrap();
    assert_eq!(plain.len(), best);
    for (a, b) in plain.iter().zip(&reports) {
        assert_eq!(a.train_nll.to_bits(), b.train_nll.to_bits());
        assert_eq!((a.valid_nll, a.best_half_sweep), (None, None));
    }
    let (te, ts) = (tensors(&early), tensors(&stopped));
    assert_eq!(te.len(), ts.len());
    for (a, b) in te.iter().zip(&ts) {
        assert_eq!(a.dim(), b.dim());
        assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
    assert!((early.nll(&valid).unwrap() - min).abs() < 1e-9);
}

#[test]
fn mps_early_stopping_restores_the_best_model_bitwise() {
    let model = MpsBornMachine::new(SITES, 2, options()).unwrap();
    check_restores_best(model, |m| m.tensors().to_vec());
}

#[test]
fn ttn_early_stopping_restores_the_best_model_bitwise() {
    let model = TtnBornMachine::for_image(3, 4, 2, options()).unwrap();
    check_restores_best(model, |m| m.tensors().to_vec());
}

#[test]
fn any_born_machine_early_stopping_restores_the_best_model_bitwise() {
    let model: AnyBornMachine = TtnBornMachine::for_image(3, 4, 2, options())
        .unwrap()
        .into();
    check_restores_best(model, |m| match m {
        AnyBornMachine::Mps(m) => m.tensors().to_vec(),
        AnyBornMachine::Ttn(m) => m.tensors().to_vec(),
    });
}

/// Without a validation set the fit is the plain one, bit for bit, and the reports
/// carry no validation fields; a patience larger than the sweeps never stops it.
#[test]
fn without_validation_nothing_changes() {
    let train = noisy_templates(30, 1);
    let valid = noisy_templates(40, 2);
    let opts = options().sweeps(3);
    let mut a = MpsBornMachine::new(SITES, 2, opts).unwrap();
    let mut b = a.clone();
    let mut c = a.clone();
    let ra = a.fit(&train).unwrap();
    let rb = b
        .fit_validated_with(&train, None, &mut tnlearn::born::NoObserver)
        .unwrap();
    let timeless = |r: &[HalfSweepReport]| -> Vec<HalfSweepReport> {
        r.iter()
            .map(|r| HalfSweepReport { seconds: 0.0, ..*r })
            .collect()
    };
    assert_eq!(timeless(&ra), timeless(&rb));
    assert!(ra
        .iter()
        .all(|r| r.valid_nll.is_none() && r.best_half_sweep.is_none()));
    assert_eq!(a.tensors(), b.tensors());
    // Patience beyond the sweeps: all half-sweeps run; the best one is restored.
    let rc = c
        .fit_validated(&train, Validation::new(&valid).patience(100))
        .unwrap();
    assert_eq!(rc.len(), 6);
    for (x, y) in ra.iter().zip(&rc) {
        assert_eq!(x.train_nll.to_bits(), y.train_nll.to_bits());
    }
    let best = rc[5].best_half_sweep.unwrap();
    assert!((c.nll(&valid).unwrap() - rc[best - 1].valid_nll.unwrap()).abs() < 1e-9);
}

/// A validation set of another number of sites or with a bad value, or a patience
/// of 0, is an error naming it, before any training.
#[test]
fn bad_validation_sets_are_errors_naming_them() {
    let train = noisy_templates(10, 1);
    let short = Dataset::binary(Array2::<u8>::zeros((3, SITES - 1))).unwrap();
    let threes = Dataset::new(Array2::from_elem((2, SITES), 2u8), 3).unwrap();
    let name = |r: tnlearn::Result<Vec<HalfSweepReport>>| match r {
        Err(Error::InvalidArgument { name, reason }) => (name, reason),
        other => panic!("expected InvalidArgument, got {other:?}"),
    };
    let mut mps = MpsBornMachine::new(SITES, 2, options()).unwrap();
    let before = mps.tensors().to_vec();
    let (n, reason) = name(mps.fit_validated(&train, Validation::new(&short)));
    assert_eq!(n, "validation");
    assert!(
        reason.contains("11 sites") && reason.contains("12 sites"),
        "{reason}"
    );
    let mut ttn = TtnBornMachine::for_image(3, 4, 2, options()).unwrap();
    let (n, reason) = name(ttn.fit_validated(&train, Validation::new(&threes)));
    assert_eq!(n, "validation");
    assert!(reason.contains("sample 0, site 0 has value 2"), "{reason}");
    let (n, _) = name(mps.fit_validated(&train, Validation::new(&train).patience(0)));
    assert_eq!(n, "patience");
    assert_eq!(mps.tensors(), &before[..]);
}

/// The ready observer writes one line per half-sweep, with the validation NLL and
/// the best mark when there is a validation set; progress calls count every bond.
#[test]
fn progress_log_writes_a_line_per_half_sweep() {
    let train = noisy_templates(20, 1);
    let valid = noisy_templates(20, 2);
    let mut model = MpsBornMachine::new(SITES, 2, options().sweeps(2)).unwrap();
    let mut log = ProgressLog::with_writer(Vec::new());
    model
        .fit_validated_with(&train, Some(Validation::new(&valid)), &mut log)
        .unwrap();
    let text = String::from_utf8(log.into_inner()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with("half-sweep  1/4 (sweep  1 L->R)  NLL"),
        "{text}"
    );
    assert!(lines[0].contains("valid") && lines[0].contains('*') && lines[3].contains("ETA 0 s"));

    struct Count(u64, u64);
    impl<M> tnlearn::fit::FitObserver<HalfSweepReport, M> for Count {
        fn on_report(&mut self, _: &HalfSweepReport, _: &M) -> FitControl {
            FitControl::Continue
        }
        fn on_progress(&mut self, done: u64, total: u64) {
            assert_eq!(done, self.0 + 1);
            (self.0, self.1) = (done, total);
        }
    }
    let mut count = Count(0, 0);
    let mut any: AnyBornMachine = MpsBornMachine::new(SITES, 2, options().sweeps(2))
        .unwrap()
        .into();
    any.fit_with(&train, &mut count).unwrap();
    assert_eq!((count.0, count.1), (44, 44)); // 2 sweeps x 2 halves x 11 bonds
}
