//! A first look at tnlearn: einsum with a reusable plan, and a matrix product state.
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```

mod common;

use tnlearn::rand::rngs::StdRng;
use tnlearn::rand::SeedableRng;
use tnlearn::{einsum, ContractionPlan, Mps, PathOptimizer, Tensor, Truncation};

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run()?))
}

fn run() -> tnlearn::Result<()> {
    let mut rng = StdRng::seed_from_u64(7);

    // A three-operand contraction; the path optimiser picks the pairwise order.
    let a = Tensor::<f64>::random(&[8, 32], &mut rng);
    let b = Tensor::<f64>::random(&[32, 64], &mut rng);
    let c = Tensor::<f64>::random(&[64, 4], &mut rng);
    let abc = einsum("ij,jk,kl->il", &[&a, &b, &c])?;
    println!("einsum ij,jk,kl->il: shape {:?}", abc.shape());

    // Plan once, run many times on new data of the same shapes.
    let plan = ContractionPlan::new(
        "ab,asc,bsd->cd",
        &[&[16, 16], &[16, 2, 16], &[16, 2, 16]],
        PathOptimizer::Optimal,
    )?;
    println!(
        "environment update: {} multiply-adds per call",
        plan.flops()
    );
    let env = Tensor::<f64>::eye(16);
    let site = Tensor::<f64>::random(&[16, 2, 16], &mut rng);
    let next = plan.execute(&[&env, &site, &site])?;
    println!("environment after one site: norm {:.4}", next.norm());

    // A 1000-site random MPS: its norm is far outside f64's range, its log is not.
    let big = Mps::<f64>::random(&vec![2; 1000], 16, &mut rng)?;
    println!("1000 sites: ln||psi|| = {:.4}", big.log_norm());

    // Canonical form, compression and entanglement of a 40-site state.
    let mut psi = Mps::<f64>::random(&vec![2; 40], 16, &mut rng)?;
    psi.canonicalize(20)?;
    let error = psi.compress(&Truncation::new().max_bond(12))?;
    println!(
        "compressed to max bond {}: discarded weight {error:.3e} of ||psi||^2",
        psi.max_bond()
    );
    let entropies = psi.entanglement_entropies()?;
    println!(
        "entanglement entropy at the middle bond: {:.4}",
        entropies[19]
    );
    Ok(())
}
