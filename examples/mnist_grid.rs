//! Draws the first training digits of the shipped binarized MNIST subset into a PNG.
//!
//! ```sh
//! cargo run --example mnist_grid [OUTPUT.png]   # default: out/mnist_grid.png
//! ```

mod common;

use std::path::PathBuf;

use clap::Parser;
use tnlearn::data::mnist;
use tnlearn::io::png::write_image_grid;

/// Draws ten training digits of each class of the shipped MNIST subset into a PNG.
#[derive(Parser)]
#[command(name = "mnist_grid", version)]
struct Args {
    /// The PNG file to write
    #[arg(default_value = "out/mnist_grid.png")]
    output: PathBuf,
}

fn main() -> std::process::ExitCode {
    common::main(|| Ok(run(Args::parse())?))
}

fn run(args: Args) -> tnlearn::Result<()> {
    let output = args.output;
    if let Some(dir) = output.parent() {
        if !dir.as_os_str().is_empty() {
            common::create_dir(dir)?;
        }
    }
    let (train, test) = mnist::shipped()?;
    println!(
        "train: {} images, test: {} images, {} sites, pixel density {:.4} / {:.4}",
        train.len(),
        test.len(),
        train.num_sites(),
        train.mean_value(),
        test.mean_value()
    );
    // Ten of each digit, one digit per row.
    let mut indices = Vec::new();
    for digit in 0..10u8 {
        let labels = train.labels().expect("the shipped data is labelled");
        indices.extend((0..train.len()).filter(|&i| labels[i] == digit).take(10));
    }
    let grid = train.subset(indices)?;
    write_image_grid(&output, grid.samples(), (mnist::SIDE, mnist::SIDE), 10, 2)?;
    println!("wrote {}", output.display());
    Ok(())
}
