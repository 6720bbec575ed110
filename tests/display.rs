//! `Display` summaries of tensors and models: what they say is checked against the
//! models' own accessors.

use rand::SeedableRng;
use tnlearn::born::{AnyBornMachine, BornOptions, TtnBornMachine};
use tnlearn::cora::Architecture;
use tnlearn::{Cora, Mps, Tensor};

#[test]
fn ttn_born_machine_summary_names_its_sizes() {
    let m = TtnBornMachine::for_image(4, 4, 3, BornOptions::new().initial_bond(2)).unwrap();
    let s = m.to_string();
    let params: usize = m.tensors().iter().map(|t| t.len()).sum();
    assert!(
        s.starts_with("TTN Born machine: 16 sites with 3 states each"),
        "{s}"
    );
    assert!(
        s.contains(&format!("{} nodes", m.tree().num_nodes())),
        "{s}"
    );
    assert!(s.contains(&format!("{params} parameters")), "{s}");
    assert!(s.ends_with("(the root)"), "{s}");
    let any: AnyBornMachine = m.clone().into();
    assert_eq!(any.to_string(), s);
    let ttn = m.ttn().to_string();
    assert!(ttn.starts_with("TTN of 16 sites"), "{ttn}");
}

#[test]
fn mps_summary_lists_unequal_dimensions_and_unknown_form() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let psi = Mps::<f64>::random(&[2, 3, 2], 4, &mut rng).unwrap();
    let s = psi.to_string();
    assert!(s.contains("physical dimension [2, 3, 2]"), "{s}");
    assert!(s.ends_with("no canonical form"), "{s}");
}

#[test]
fn cora_and_tensor_summaries() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let cora = Cora::random(Architecture::chain(16).levels(2), &mut rng).unwrap();
    let s = cora.to_string();
    assert_eq!(
        s,
        format!(
            "CORA: 16 sites with {} states each, 2 levels, {} parameters",
            cora.num_states(),
            cora.num_parameters()
        )
    );
    let t = Tensor::<f64>::zeros(&[1000, 1000]);
    let text = t.to_string();
    assert!(
        text.starts_with("Tensor of shape [1000, 1000]:"),
        "{}",
        &text[..40]
    );
    assert!(text.contains("..."), "a large tensor is elided");
    assert!(text.len() < 2000, "{} characters", text.len());
}
