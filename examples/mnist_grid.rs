//! Draws the first training digits of the shipped binarized MNIST subset into a PNG.
//!
//! ```sh
//! cargo run --example mnist_grid [OUTPUT.png]   # default: out/mnist_grid.png
//! ```

use tnlearn::data::mnist;
use tnlearn::io::png::write_image_grid;

fn main() -> tnlearn::Result<()> {
    let output = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "out/mnist_grid.png".to_string());
    if let Some(dir) = std::path::Path::new(&output).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|source| tnlearn::Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
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
    println!("wrote {output}");
    Ok(())
}
