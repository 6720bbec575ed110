//! Grids of grey images as PNG files, for looking at samples, marginals and
//! inpaintings.
//!
//! ```no_run
//! use tnlearn::io::png::write_image_grid;
//!
//! let (train, _) = tnlearn::data::mnist::shipped()?;
//! // the first 40 training digits, 10 per row, each pixel drawn as 3 x 3
//! write_image_grid("digits.png", train.take(40).samples(), (28, 28), 10, 3)?;
//! # Ok::<(), tnlearn::Error>(())
//! ```

use std::path::Path;

use ndarray::ArrayView2;

use crate::error::{Error, Result};

/// Grey level (0..=255) of the 1-pixel separators and of empty grid cells: a mid grey,
/// distinct from both black (0) and white (1).
pub const SEPARATOR_GREY: u8 = 128;

/// A value that can be drawn as a grey pixel: 0 is black, 1 is white.
///
/// ```
/// use tnlearn::io::png::GreyPixel;
///
/// assert_eq!(1u8.grey(), Some(255)); // a 0/1 pixel
/// assert_eq!(0.5f64.grey(), Some(128));
/// assert_eq!(f64::NAN.grey(), None);
/// ```
pub trait GreyPixel: Copy + std::fmt::Display {
    /// The grey level in `0..=255`, or `None` if the value cannot be drawn (NaN or
    /// infinite).
    fn grey(self) -> Option<u8>;
}

impl GreyPixel for f64 {
    /// Values are clamped to `[0, 1]`, then scaled to `0..=255` and rounded.
    fn grey(self) -> Option<u8> {
        self.is_finite()
            .then(|| (self.clamp(0.0, 1.0) * 255.0).round() as u8)
    }
}

impl GreyPixel for f32 {
    /// As for `f64`.
    fn grey(self) -> Option<u8> {
        f64::from(self).grey()
    }
}

impl GreyPixel for u8 {
    /// Binary samples: 0 is black, any other value (normally 1) is white.
    fn grey(self) -> Option<u8> {
        Some(if self == 0 { 0 } else { 255 })
    }
}

/// Writes `images` (one image per row, `rows * cols` values, row-major) as an 8-bit
/// greyscale PNG: a grid of at most `columns` images per row, each pixel drawn as a
/// `scale x scale` block, with 1-pixel separators of grey [`SEPARATOR_GREY`] between
/// the images and around the grid. Cells after the last image are separator grey.
///
/// Values: `f64`/`f32` in `[0, 1]` (0 black, 1 white; values outside are clamped), or
/// `u8` binary samples (0 black, nonzero white). The picture is
/// `c * (cols * scale + 1) + 1` pixels wide and `r * (rows * scale + 1) + 1` high, with
/// `c = min(columns, n_images)` and `r = ceil(n_images / c)`.
///
/// # Errors
/// [`Error::InvalidArgument`] if there are no images or `columns`, `scale`, `rows` or
/// `cols` is 0, or the picture would exceed `u32` pixels per side;
/// [`Error::ShapeMismatch`] if `images.ncols() != rows * cols`; [`Error::NonFinite`]
/// for a NaN or infinite value; [`Error::Io`] naming the path if writing fails.
pub fn write_image_grid<T: GreyPixel>(
    path: impl AsRef<Path>,
    images: ArrayView2<'_, T>,
    image_shape: (usize, usize),
    columns: usize,
    scale: usize,
) -> Result<()> {
    let path = path.as_ref();
    let (width, height, pixels) = render_grid(images, image_shape, columns, scale)?;
    let io_err = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let png_err = |e: ::png::EncodingError| match e {
        ::png::EncodingError::IoError(source) => io_err(source),
        other => io_err(std::io::Error::other(other)),
    };
    let file = std::fs::File::create(path).map_err(io_err)?;
    let mut encoder = ::png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(::png::ColorType::Grayscale);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(&pixels).map_err(png_err)?;
    writer.finish().map_err(png_err)
}

/// Lays out the grid in memory: `(width, height, grey bytes row-major)`.
fn render_grid<T: GreyPixel>(
    images: ArrayView2<'_, T>,
    (rows, cols): (usize, usize),
    columns: usize,
    scale: usize,
) -> Result<(u32, u32, Vec<u8>)> {
    for (name, v) in [
        ("columns", columns),
        ("scale", scale),
        ("image_shape.0", rows),
        ("image_shape.1", cols),
    ] {
        if v == 0 {
            return Err(Error::invalid_argument(name, "must be at least 1"));
        }
    }
    let n = images.nrows();
    if n == 0 {
        return Err(Error::invalid_argument("images", "no images to draw"));
    }
    if rows.checked_mul(cols) != Some(images.ncols()) {
        return Err(Error::shape_mismatch(
            "write_image_grid (each row of `images` must hold rows * cols values)",
            [n, rows.saturating_mul(cols)],
            [n, images.ncols()],
        ));
    }
    let grid_cols = columns.min(n);
    let grid_rows = n.div_ceil(grid_cols);
    let side = |count: usize, len: usize| {
        len.checked_mul(scale)
            .and_then(|l| l.checked_add(1))
            .and_then(|l| l.checked_mul(count))
            .and_then(|l| l.checked_add(1))
            .and_then(|l| u32::try_from(l).ok())
    };
    let (Some(width), Some(height)) = (side(grid_cols, cols), side(grid_rows, rows)) else {
        return Err(Error::invalid_argument(
            "scale",
            "the picture would be larger than 2^32 - 1 pixels per side",
        ));
    };
    let (w, h) = (width as usize, height as usize);
    let area = w.checked_mul(h).ok_or_else(|| {
        Error::invalid_argument(
            "scale",
            format!("a {w} x {h} picture overflows the address space"),
        )
    })?;
    let mut pixels = Vec::new();
    pixels.try_reserve_exact(area).map_err(|_| {
        Error::invalid_argument(
            "scale",
            format!("cannot allocate a {w} x {h} picture ({area} bytes)"),
        )
    })?;
    pixels.resize(area, SEPARATOR_GREY);
    for (k, image) in images.rows().into_iter().enumerate() {
        let x0 = 1 + (k % grid_cols) * (cols * scale + 1);
        let y0 = 1 + (k / grid_cols) * (rows * scale + 1);
        for (p, &v) in image.iter().enumerate() {
            let g = v.grey().ok_or_else(|| Error::NonFinite {
                context: "write_image_grid".into(),
                position: k * images.ncols() + p,
                value: v.to_string(),
            })?;
            let (r, c) = (p / cols, p % cols);
            for dy in 0..scale {
                let start = (y0 + r * scale + dy) * w + x0 + c * scale;
                pixels[start..start + scale].fill(g);
            }
        }
    }
    Ok((width, height, pixels))
}
