//! PNG pictures for the examples (included with `#[path = "common/plot.rs"] mod plot;`):
//! line charts with axes, labels and a legend ([`line_chart`]), and image grids
//! with a label per row of images ([`labelled_grid`]).
//!
//! Drawn with `plotters` (bitmap backend only, a dev-dependency) in memory and
//! written with the `png` crate; text uses an ASCII subset of DejaVu Sans shipped
//! next to this file (`DejaVuSans-ascii.ttf`, its licence beside it) through
//! plotters' pure-Rust `ab_glyph` renderer, so no system font or library is needed.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Once;

use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::FontStyle;
use tnlearn::{Error, Result};

const FONT: &[u8] = include_bytes!("DejaVuSans-ascii.ttf");

/// One curve of a [`line_chart`]: its legend entry and its points.
pub struct Series<'a> {
    /// The legend entry.
    pub name: &'a str,
    /// The points `(x, y)`; non-finite ones are left out.
    pub points: Vec<(f64, f64)>,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the shipped font is valid"));
    });
}

fn plot_err(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("drawing the picture: {e}")),
    }
}

/// Writes an RGB buffer as a PNG.
fn write_rgb(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    let io_err = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io_err)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc
        .write_header()
        .map_err(|e| io_err(std::io::Error::other(e)))?;
    w.write_image_data(rgb)
        .map_err(|e| io_err(std::io::Error::other(e)))?;
    w.finish().map_err(|e| io_err(std::io::Error::other(e)))
}

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// A line chart (900 x 560 pixels) of the series, with a title, axis labels, a
/// grid and a legend; the axes span the finite points (y with a 5% margin).
pub fn line_chart(
    path: impl AsRef<Path>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
) -> Result<()> {
    let path = path.as_ref();
    register_font();
    let err = plot_err(path);
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite).copied())
        .collect();
    if all.is_empty() {
        return Err(Error::invalid_argument("series", "no finite point to plot"));
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in &all {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let (w, h) = (900u32, 560u32);
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 24))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (i, s) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let pts: Vec<(f64, f64)> = s.points.iter().filter(finite).copied().collect();
            chart
                .draw_series(LineSeries::new(pts, colour.stroke_width(2)).point_size(3))
                .map_err(|e| err(e.to_string()))?
                .label(s.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    write_rgb(path, w, h, &rgb)
}

/// A grid of grey images (`values` in `[0, 1]`, 0 black; one image per row of
/// `images`, `shape` pixels each, drawn `scale` times larger) with `columns`
/// images per grid row, a title on top and `row_labels[r]` left of grid row `r`
/// (a label may be empty; missing labels are empty).
pub fn labelled_grid(
    path: impl AsRef<Path>,
    title: &str,
    images: ArrayView2<'_, f64>,
    (rows, cols): (usize, usize),
    columns: usize,
    scale: usize,
    row_labels: &[&str],
) -> Result<()> {
    let path = path.as_ref();
    register_font();
    let err = plot_err(path);
    if images.ncols() != rows * cols || images.nrows() == 0 || columns == 0 {
        return Err(Error::invalid_argument(
            "images",
            format!(
                "{} images of {} pixels for {rows} x {cols} images in {columns} columns",
                images.nrows(),
                images.ncols()
            ),
        ));
    }
    let grid_rows = images.nrows().div_ceil(columns);
    let label_w = if row_labels.iter().any(|l| !l.is_empty()) {
        12 + 9 * row_labels.iter().map(|l| l.len()).max().unwrap_or(0)
    } else {
        0
    };
    let (cell_w, cell_h) = (cols * scale + 2, rows * scale + 2);
    let title_h = if title.is_empty() { 4 } else { 34 };
    // Wide enough for the title (about 10 pixels per character at 20 px).
    let w = (label_w + columns * cell_w + 8).max(label_w + 12 + 10 * title.len());
    let h = title_h + grid_rows * cell_h + 6;
    let mut rgb = vec![255u8; w * h * 3];
    for (i, img) in images.outer_iter().enumerate() {
        let (gr, gc) = (i / columns, i % columns);
        let (ox, oy) = (label_w + 4 + gc * cell_w + 1, title_h + gr * cell_h + 1);
        for y in 0..rows * scale {
            for x in 0..cols * scale {
                let v = img[(y / scale) * cols + x / scale];
                let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                let o = ((oy + y) * w + ox + x) * 3;
                rgb[o..o + 3].copy_from_slice(&[g, g, g]);
            }
        }
    }
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w as u32, h as u32)).into_drawing_area();
        if !title.is_empty() {
            root.draw(&Text::new(
                title.to_string(),
                (label_w as i32 + 6, 8),
                ("sans-serif", 20).into_font().color(&BLACK),
            ))
            .map_err(|e| err(e.to_string()))?;
        }
        for (r, label) in row_labels.iter().enumerate().take(grid_rows) {
            let y = title_h + r * cell_h + cell_h / 2;
            root.draw(&Text::new(
                label.to_string(),
                (6, y as i32 - 8),
                ("sans-serif", 16).into_font().color(&BLACK),
            ))
            .map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    write_rgb(path, w as u32, h as u32, &rgb)
}
