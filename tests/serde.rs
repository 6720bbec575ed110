//! Serde round trips of the options, reports and small result types (the `serde`
//! feature): `cargo test --features serde --test serde`.
#![cfg(feature = "serde")]

use serde::de::DeserializeOwned;
use serde::Serialize;
use tnlearn::born::{HalfSweepReport, StepRule, SweepDirection};
use tnlearn::cora::{CoraFitOptions, EmMethod, EmReport, LevelReport};
use tnlearn::ising::sampling::{ClusterAlgorithm, SamplerOptions};
use tnlearn::{BornOptions, PathOptimizer, Truncation, TruncationMode};

/// JSON out and back in gives an equal value, and the JSON is the one given.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) -> String {
    let json = serde_json::to_string(v).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, v, "{json}");
    json
}

#[test]
fn options_round_trip() {
    let o = BornOptions::new()
        .max_bond(37)
        .cutoff(1e-9)
        .sweeps(3)
        .seed(u64::MAX)
        .step_rule(StepRule::Normalized {
            size_exponent: 0.25,
        })
        .checkpoint_every(Some(5));
    let json = round_trip(&o);
    assert!(json.contains("\"max_bond\":37"), "{json}");
    assert!(
        json.contains("18446744073709551615"),
        "the seed survives exactly: {json}"
    );
    round_trip(
        &Truncation::new()
            .max_bond(8)
            .mode(TruncationMode::DiscardedWeight),
    );
    round_trip(&CoraFitOptions::default());
    round_trip(&SamplerOptions::default());
    for p in [
        PathOptimizer::Greedy,
        PathOptimizer::Optimal,
        PathOptimizer::Auto,
    ] {
        round_trip(&p);
    }
    round_trip(&ClusterAlgorithm::SwendsenWang);
}

#[test]
fn reports_round_trip() {
    let r = HalfSweepReport {
        sweep: 2,
        direction: SweepDirection::RightToLeft,
        train_nll: 101.25,
        max_bond: 64,
        truncation_error: 3.5e-8,
        seconds: 0.125,
        env_bytes: 1 << 20,
        valid_nll: Some(104.5),
        best_half_sweep: Some(3),
    };
    let json = round_trip(&r);
    assert!(json.contains("\"RightToLeft\""), "{json}");
    round_trip(&EmReport {
        method: EmMethod::Layerwise,
        level: 1,
        iteration: 3,
        patch_nll: 2.5,
        objective: -1.0,
        seconds: 0.5,
    });
    round_trip(&LevelReport {
        level: 2,
        iterations: 10,
        patch_nll: 1.5,
        seconds: 2.0,
    });
}

#[test]
fn deserialized_options_are_validated_where_they_are_used() {
    // Serde builds the value as written; the model constructors validate it.
    let mut v = serde_json::to_value(BornOptions::new()).unwrap();
    v["truncation"]["max_bond"] = serde_json::json!(0);
    let o: BornOptions = serde_json::from_value(v).unwrap();
    let e = tnlearn::MpsBornMachine::new(4, 2, o).unwrap_err();
    assert!(e.to_string().contains("max_bond"), "{e}");
    // Unknown enum variants and wrong types are serde errors, not panics.
    assert!(serde_json::from_str::<TruncationMode>("\"Sideways\"").is_err());
    assert!(serde_json::from_str::<Truncation>("{\"max_bond\":\"eight\"}").is_err());
}
