//! Mutated data files: `.npy`, `.npz`, IDX (plain and gzip) and `TNLBITS`.

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use rand::Rng;
use tnlearn::data::Dataset;
use tnlearn::io::{idx, npy, packed};

use crate::common::{mutate, rng_for, special, special_f64, Class, Field, Outcome};

pub const NPY: Class = Class {
    name: "npy",
    run: run_npy,
    describe,
};
pub const NPZ: Class = Class {
    name: "npz",
    run: run_npz,
    describe,
};
pub const IDX_RAW: Class = Class {
    name: "idx",
    run: run_idx_raw,
    describe,
};
pub const IDX_GZ: Class = Class {
    name: "idx-gz",
    run: run_idx_gz,
    describe,
};
pub const TNLBITS: Class = Class {
    name: "tnlbits",
    run: run_tnlbits,
    describe,
};

fn describe(seed: u64, index: u64) -> String {
    format!("data file seed {seed} input {index}: the file is left in the scratch directory")
}

fn write(scratch: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch.join(name);
    std::fs::write(&p, bytes).expect("write the fuzz input");
    p
}

fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// A `Dataset` result: Ok if it is consistent, Err naming the file.
fn check_dataset(r: tnlearn::Result<Dataset>, path: &Path) -> Outcome {
    match r {
        Ok(d) => {
            if d.samples()
                .iter()
                .any(|&v| usize::from(v) >= d.num_states())
            {
                return Outcome::Invalid("a value >= num_states".into());
            }
            Outcome::Ok
        }
        Err(e) => Outcome::from_error(&e, Some(&name_of(path))),
    }
}

/// A small random 0/1 array.
fn bits(rng: &mut impl Rng, max: usize) -> Array2<u8> {
    let (r, c) = (rng.random_range(0..=max), rng.random_range(0..=max));
    Array2::from_shape_fn((r, c), |_| rng.random_range(0..2))
}

/// A valid `.npy` file of 0/1 values in a random dtype and order, or a hand-made
/// header with extreme shapes, dtypes and header lengths; then byte mutations.
fn npy_input(rng: &mut impl Rng) -> Vec<u8> {
    let a = bits(rng, 5);
    let mut out = Vec::new();
    if rng.random_bool(0.35) {
        // Hand-made header: a shape from the special sizes, a dtype, data of some
        // length.
        let descr = [
            "|u1", "|i1", "|b1", "<i2", ">u2", "<i4", "<u8", "<f4", "<f8", ">f8", "<c16", "|O",
            "<U3", "xx",
        ][rng.random_range(0..14)];
        let dim = |rng: &mut dyn rand::RngCore| -> String {
            if rng.random_bool(0.5) {
                rng.random_range(0..5u32).to_string()
            } else {
                special(&mut *rng).to_string()
            }
        };
        let shape = match rng.random_range(0..5) {
            0 => "()".to_string(),
            1 => format!("({},)", dim(rng)),
            2 => format!("({}, {}, {})", dim(rng), dim(rng), dim(rng)),
            _ => format!("({}, {})", dim(rng), dim(rng)),
        };
        let fortran = if rng.random_bool(0.5) {
            "False"
        } else {
            "True"
        };
        let header =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n");
        let version: u8 = [1, 2, 3, 4][rng.random_range(0..4)];
        out.extend_from_slice(b"\x93NUMPY");
        out.extend_from_slice(&[version, 0]);
        let hlen = if rng.random_bool(0.1) {
            special(rng)
        } else {
            header.len() as u64
        };
        if version == 1 {
            out.extend_from_slice(&(hlen as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(hlen as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        let data_len = rng.random_range(0..64);
        out.extend((0..data_len).map(|_| rng.random_range(0..2u8)));
        return out;
    }
    match rng.random_range(0..8) {
        0 => a.write_npy(&mut out),
        1 => a.mapv(|v| v as i8).write_npy(&mut out),
        2 => a.mapv(|v| v != 0).write_npy(&mut out),
        3 => a.mapv(|v| v as i16).write_npy(&mut out),
        4 => a.mapv(|v| v as u32).write_npy(&mut out),
        5 => a.mapv(|v| v as i64).reversed_axes().write_npy(&mut out),
        6 => a.mapv(f32::from).write_npy(&mut out),
        _ => a.mapv(f64::from).write_npy(&mut out),
    }
    .expect("write npy");
    if rng.random_bool(0.8) {
        let fields = [(8, Field::U32Le), (6, Field::U32Le)];
        mutate(rng, &mut out, &fields);
    }
    out
}

fn run_npy(seed: u64, index: u64, scratch: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 11);
    let bytes = npy_input(&mut rng);
    let path = write(scratch, "fuzz-input.npy", &bytes);
    check_dataset(npy::read_binary(&path), &path)
}

fn run_npz(seed: u64, index: u64, scratch: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 12);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if rng.random_bool(0.5) {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    let members = rng.random_range(1..=2);
    for k in 0..members {
        let name = if k == 0 { "data.npy" } else { "other.npy" };
        let mut member = npy_input(&mut rng);
        if rng.random_bool(0.05) {
            // A bomb: far more bytes than the header declares.
            let extra = rng.random_range(1..=4) << 20;
            member.resize(member.len() + extra, 0);
        }
        zip.start_file(name, opts).expect("zip member");
        zip.write_all(&member).expect("zip write");
    }
    let mut bytes = zip.finish().expect("zip finish").into_inner();
    if rng.random_bool(0.25) {
        // The zip structure itself: local header sizes (offsets 18..26), anywhere.
        let fields = [(18, Field::U32Le), (22, Field::U32Le), (26, Field::U32Le)];
        mutate(&mut rng, &mut bytes, &fields);
    }
    let path = write(scratch, "fuzz-input.npz", &bytes);
    if rng.random_bool(0.2) {
        return match npy::npz_names(&path) {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::from_error(&e, Some("fuzz-input.npz")),
        };
    }
    let member = ["data", "data.npy", "other", "missing"][rng.random_range(0..4)];
    check_dataset(npy::read_npz_binary(&path, member), &path)
}

/// A valid IDX image or label file, mutated (dimension fields set to special values,
/// bytes flipped, inserted, deleted), or a bomb (far more data than declared).
fn idx_input(rng: &mut impl Rng) -> (Vec<u8>, bool) {
    let images = rng.random_bool(0.6);
    let mut b = vec![0u8, 0, 8, if images { 3 } else { 1 }];
    let n = rng.random_range(0..5u32);
    let dims: Vec<u32> = if images {
        vec![n, rng.random_range(1..5), rng.random_range(1..5)]
    } else {
        vec![n]
    };
    for d in &dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    let total: u32 = dims.iter().product();
    b.extend((0..total).map(|_| rng.random::<u8>()));
    match rng.random_range(0..10) {
        0 => {
            b.resize(b.len() + (rng.random_range(1..=4) << 18), 0);
        }
        1..=8 => {
            let fields: Vec<(usize, Field)> = (0..4).map(|k| (4 * k, Field::U32Be)).collect();
            mutate(rng, &mut b, &fields);
        }
        _ => {}
    }
    (b, images)
}

fn run_idx(seed: u64, index: u64, scratch: &Path, gz: bool) -> Outcome {
    let mut rng = rng_for(seed, index, if gz { 14 } else { 13 });
    let (mut bytes, images) = idx_input(&mut rng);
    if gz {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).expect("gzip");
        bytes = enc.finish().expect("gzip");
        if rng.random_bool(0.15) {
            mutate(&mut rng, &mut bytes, &[]);
        }
    }
    let name = if gz {
        "fuzz-input-idx.gz"
    } else {
        "fuzz-input.idx"
    };
    let path = write(scratch, name, &bytes);
    let fname = name_of(&path);
    let threshold = if rng.random_bool(0.1) {
        special_f64(&mut rng)
    } else {
        0.5
    };
    match rng.random_range(0..4) {
        0 => match idx::read_grey_images(&path) {
            Ok((grey, (r, c))) => {
                if grey.ncols() != r * c {
                    Outcome::Invalid(format!("{} columns for {r} x {c} images", grey.ncols()))
                } else {
                    Outcome::Ok
                }
            }
            Err(e) => Outcome::from_error(&e, Some(&fname)),
        },
        1 => match idx::read_labels(&path) {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::from_error(&e, Some(&fname)),
        },
        2 if images => {
            // The same file as images and as labels: at least one must fail.
            match idx::read_labeled_images(&path, &path, threshold) {
                Ok(_) => Outcome::Invalid("an image file accepted as a label file".into()),
                Err(e) => Outcome::from_error(&e, None),
            }
        }
        _ => match idx::read_images(&path, threshold) {
            Ok(d) => check_dataset(Ok(d), &path),
            Err(tnlearn::Error::InvalidArgument { name, reason }) if name == "threshold" => {
                Outcome::Err(reason)
            }
            Err(e) => Outcome::from_error(&e, Some(&fname)),
        },
    }
}

fn run_idx_raw(seed: u64, index: u64, scratch: &Path) -> Outcome {
    run_idx(seed, index, scratch, false)
}

fn run_idx_gz(seed: u64, index: u64, scratch: &Path) -> Outcome {
    run_idx(seed, index, scratch, true)
}

fn run_tnlbits(seed: u64, index: u64, scratch: &Path) -> Outcome {
    let mut rng = rng_for(seed, index, 15);
    let rows = rng.random_range(1..4);
    let cols = rng.random_range(1..6);
    let make = |rng: &mut rand_chacha::ChaCha8Rng, n: usize, labelled: bool| {
        let d = Dataset::binary(Array2::from_shape_fn((n, rows * cols), |_| {
            rng.random_range(0..2)
        }))
        .expect("binary")
        .with_image_shape((rows, cols))
        .expect("shape");
        if labelled {
            d.with_labels((0..n).map(|_| rng.random()).collect())
                .expect("labels")
        } else {
            d
        }
    };
    let labelled = rng.random_bool(0.5);
    let (n1, n2) = (rng.random_range(0..5), rng.random_range(0..3));
    let train = make(&mut rng, n1, labelled);
    let test = make(&mut rng, n2, labelled);
    let mut bytes = packed::encode_packed(&train, &test).expect("encode");
    bytes.truncate(bytes.len() - 4);
    let fields: Vec<(usize, Field)> = (2..8).map(|k| (4 * k, Field::U32Le)).collect();
    mutate(&mut rng, &mut bytes, &fields);
    // Usually with the right CRC-32 so the mutation reaches the parser.
    if rng.random_bool(0.9) {
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
    }
    let path = write(scratch, "fuzz-input.tnlbits", &bytes);
    let r = if rng.random_bool(0.5) {
        packed::read_packed(&path)
    } else {
        packed::parse_packed(&bytes, &path)
    };
    match r {
        Ok((a, b)) => {
            if a.num_sites() != b.num_sites() {
                return Outcome::Invalid("train and test differ in n_sites".into());
            }
            Outcome::Ok
        }
        Err(e) => Outcome::from_error(&e, Some("fuzz-input.tnlbits")),
    }
}
