//! Data sets and file formats: the shipped MNIST subset, IDX, npy/npz, TNLBITS, PNG.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{array, Array2, Array3};
use ndarray_npy::{NpzWriter, WriteNpyExt};
use tnlearn::data::{mnist, Dataset};
use tnlearn::io::{idx, npy, packed, png as tpng};
use tnlearn::Error;

/// A fresh path in cargo's per-test-target scratch directory.
fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("data_io");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Asserts a `Format` error whose message names the file and contains `needle`.
fn assert_format(err: Error, path: &Path, needle: &str) {
    let msg = err.to_string();
    assert!(
        matches!(err, Error::Format { .. }),
        "expected Error::Format, got {err:?}"
    );
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(msg.contains(name), "message does not name {name}: {msg}");
    assert!(msg.contains(needle), "message lacks {needle:?}: {msg}");
}

fn assert_io(err: Error, path: &Path) {
    let msg = err.to_string();
    assert!(
        matches!(err, Error::Io { .. }),
        "expected Error::Io, got {err:?}"
    );
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(msg.contains(name), "message does not name {name}: {msg}");
}

fn fnv1a64(h: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes
        .into_iter()
        .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001B3))
}

/// FNV-1a 64 of the samples (row-major, one byte per value) then the labels: the same
/// number `tools/prepare_mnist/prepare_mnist.py` prints.
fn content_hash(d: &Dataset) -> u64 {
    let h = fnv1a64(0xCBF29CE484222325, d.samples().iter().copied());
    fnv1a64(h, d.labels().unwrap().iter().copied())
}

// ---------------------------------------------------------------- shipped MNIST

#[test]
fn shipped_mnist_loads_with_expected_content() {
    let (train, test) = mnist::shipped().unwrap();
    assert_eq!((train.len(), test.len()), (8000, 2000));
    for d in [&train, &test] {
        assert_eq!(d.num_sites(), 784);
        assert_eq!(d.num_states(), 2);
        assert_eq!(d.image_shape(), Some((28, 28)));
        assert!(d.samples().iter().all(|&v| v <= 1));
        assert_eq!(d.labels().unwrap().len(), d.len());
    }
    for digit in 0..10u8 {
        let count = |d: &Dataset| d.labels().unwrap().iter().filter(|&&l| l == digit).count();
        assert_eq!(count(&train), mnist::TRAIN_PER_CLASS[digit as usize]);
        assert_eq!(count(&test), mnist::TEST_PER_CLASS[digit as usize]);
        // 80/20 within every class
        let total = count(&train) + count(&test);
        assert_eq!(count(&test), (total + 2) / 5);
    }
    assert_eq!(mnist::TRAIN_PER_CLASS.iter().sum::<usize>(), 8000);
    assert_eq!(mnist::TEST_PER_CLASS.iter().sum::<usize>(), 2000);

    let (d_train, d_test) = (train.mean_value(), test.mean_value());
    println!("shipped MNIST pixel density: train {d_train:.6}, test {d_test:.6}");
    assert!((0.10..0.20).contains(&d_train), "{d_train}");
    assert!((0.10..0.20).contains(&d_test), "{d_test}");

    // Fixed content: an accidental change of the file, the split or the parser fails.
    assert_eq!(content_hash(&train), 0x3733_f6cf_9b6b_6415);
    assert_eq!(content_hash(&test), 0xe241_a16e_9ca1_4d7c);
    let n = mnist::SHIPPED_BYTES.len();
    assert_eq!(n, 990_036);
    assert_eq!(
        u32::from_le_bytes(mnist::SHIPPED_BYTES[n - 4..].try_into().unwrap()),
        0x22bd_fca4
    );

    // Train and test are disjoint, and no image repeats.
    let mut seen = HashSet::new();
    for d in [&train, &test] {
        for row in d.samples().rows() {
            assert!(seen.insert(row.to_vec()), "repeated image");
        }
    }
    // Every image has ink, none is all ink.
    assert!(train
        .samples()
        .rows()
        .into_iter()
        .all(|r| (1..784).contains(&r.iter().map(|&v| v as usize).sum::<usize>())));
}

#[test]
fn shipped_bytes_round_trip_through_the_writer() {
    let (train, test) = mnist::shipped().unwrap();
    let bytes = packed::encode_packed(&train, &test).unwrap();
    assert!(
        bytes == mnist::SHIPPED_BYTES,
        "re-encoding differs from the file"
    );
}

// ---------------------------------------------------------------- Dataset

#[test]
fn dataset_constructors_validate() {
    let err = Dataset::binary(array![[0, 1], [1, 2]]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    assert!(msg.contains("sample 1, site 1"), "{msg}");
    assert!(Dataset::new(array![[0, 2], [1, 0]], 3).is_ok());
    assert!(Dataset::new(array![[0]], 1).is_err());
    let d = Dataset::binary(array![[0, 1], [1, 1], [0, 0]]).unwrap();
    assert!(matches!(
        d.clone().with_labels(vec![1, 2]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        d.clone().with_image_shape((3, 1)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert_eq!(
        d.clone().with_image_shape((2, 1)).unwrap().image_shape(),
        Some((2, 1))
    );
}

#[test]
fn dataset_subset_take_and_labels() {
    let d = Dataset::binary(array![[0, 1], [1, 1], [0, 0], [1, 0]])
        .unwrap()
        .with_labels(vec![5, 6, 5, 7])
        .unwrap();
    assert_eq!(d.len(), 4);
    assert!(!d.is_empty());
    assert_eq!(d.num_sites(), 2);
    assert_eq!(d.mean_value(), 0.5);

    let s = d.subset([3, 0, 3]).unwrap();
    assert_eq!(s.samples(), array![[1, 0], [0, 1], [1, 0]]);
    assert_eq!(s.labels(), Some(&[7, 5, 7][..]));
    let r = d.subset(1..3).unwrap();
    assert_eq!(r.samples(), array![[1, 1], [0, 0]]);
    assert_eq!(r.labels(), Some(&[6, 5][..]));
    let err = d.subset(vec![0, 4]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    assert!(err.to_string().contains("4"), "{err}");

    assert_eq!(d.take(2).samples(), array![[0, 1], [1, 1]]);
    assert_eq!(d.take(10).len(), 4);
    assert!(d.take(0).is_empty());

    let fives = d.filter_label(5);
    assert_eq!(fives.samples(), array![[0, 1], [0, 0]]);
    assert_eq!(fives.labels(), Some(&[5, 5][..]));
    assert!(d.filter_label(9).is_empty());
    assert_eq!(d.sample(1).to_vec(), vec![1, 1]);
}

// ---------------------------------------------------------------- TNLBITS

#[test]
fn packed_round_trip_and_bad_files() {
    // 3 x 3 images: 9 sites, so 2 bytes per image with 7 padding bits.
    let train = Dataset::binary(Array2::from_shape_fn((5, 9), |(i, j)| {
        ((i + j) % 3 == 0) as u8
    }))
    .unwrap()
    .with_image_shape((3, 3))
    .unwrap()
    .with_labels(vec![0, 1, 2, 3, 4])
    .unwrap();
    let test = train.subset([4, 2]).unwrap();
    let path = tmp("small.tnlb");
    packed::write_packed(&path, &train, &test).unwrap();
    let (a, b) = packed::read_packed(&path).unwrap();
    assert_eq!((a, b), (train.clone(), test.clone()));

    // unlabelled and without image shape
    let plain = Dataset::binary(array![[1, 0, 1]]).unwrap();
    let bytes = packed::encode_packed(&plain, &plain).unwrap();
    let (a, _) = packed::parse_packed(&bytes, Path::new("mem")).unwrap();
    assert_eq!(a.samples(), plain.samples());
    assert_eq!(a.labels(), None);

    let good = std::fs::read(&path).unwrap();
    let bad = tmp("bad.tnlb");
    let mut corrupt = good.clone();
    corrupt[40] ^= 0x10;
    write(&bad, &corrupt);
    assert_format(
        packed::read_packed(&bad).unwrap_err(),
        &bad,
        "CRC-32 mismatch",
    );

    let mut magic = good.clone();
    magic[0] = b'X';
    write(&bad, &magic);
    assert_format(packed::read_packed(&bad).unwrap_err(), &bad, "bytes 0..8");

    let mut version = good.clone();
    version[8] = 2;
    write(&bad, &version);
    assert_format(
        packed::read_packed(&bad).unwrap_err(),
        &bad,
        "version 2 at byte 8",
    );

    write(&bad, &good[..good.len() - 3]);
    assert_format(packed::read_packed(&bad).unwrap_err(), &bad, "truncated");
    write(&bad, &good[..10]);
    assert_format(packed::read_packed(&bad).unwrap_err(), &bad, "too short");

    // nonzero padding bit, with a recomputed checksum
    let mut pad = good[..good.len() - 4].to_vec();
    let first_image = 32 + 7;
    pad[first_image + 1] |= 0x01;
    let crc = crc32fast::hash(&pad);
    pad.extend_from_slice(&crc.to_le_bytes());
    write(&bad, &pad);
    assert_format(
        packed::read_packed(&bad).unwrap_err(),
        &bad,
        "image 0: padding bits",
    );

    let missing = tmp("missing.tnlb");
    assert_io(packed::read_packed(&missing).unwrap_err(), &missing);
}

// ---------------------------------------------------------------- IDX

/// An IDX image file (magic 0x00000803) of `n` images `rows x cols`.
fn idx_images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for d in [n, rows, cols] {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(pixels);
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 1];
    b.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    b.extend_from_slice(labels);
    b
}

#[test]
fn idx_round_trip_plain_and_gz_with_threshold_boundary() {
    // Two 2 x 3 images.
    let grey = [0u8, 50, 51, 127, 128, 255, 255, 128, 127, 51, 50, 0];
    let raw = idx_images(2, 2, 3, &grey);
    let plain = tmp("images-idx3-ubyte");
    let gz = tmp("images-idx3-ubyte.gz");
    write(&plain, &raw);
    write(&gz, &gzip(&raw));

    for path in [&plain, &gz] {
        let (g, shape) = idx::read_grey_images(path).unwrap();
        assert_eq!(shape, (2, 3));
        assert_eq!(g.as_slice().unwrap(), &grey);

        // threshold 0.5: grey/255 > 0.5 iff grey >= 128
        let d = idx::read_images(path, 0.5).unwrap();
        assert_eq!(d.image_shape(), Some((2, 3)));
        assert_eq!(d.samples(), array![[0, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 0]]);
        // strictly greater: grey == threshold * 255 is 0
        let d = idx::read_images(path, 127.0 / 255.0).unwrap();
        assert_eq!(d.samples(), array![[0, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 0]]);
        let d = idx::read_images(path, 50.0 / 255.0).unwrap();
        assert_eq!(d.samples(), array![[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]]);
        // extremes
        assert!(idx::read_images(path, 1.0)
            .unwrap()
            .samples()
            .iter()
            .all(|&v| v == 0));
        let all = idx::read_images(path, -0.01).unwrap();
        assert!(all.samples().iter().all(|&v| v == 1));
        // below grey 0 but above -1/255: grey 0 -> 0 / 255 = 0 > -0.001 -> 1
        assert_eq!(idx::read_images(path, -0.001).unwrap().samples()[(0, 0)], 1);
        assert_eq!(idx::read_images(path, 0.0).unwrap().samples()[(0, 0)], 0);
    }
    let err = idx::read_images(&plain, f64::NAN).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");

    let lab_plain = tmp("labels-idx1-ubyte");
    let lab_gz = tmp("labels-idx1-ubyte.gz");
    write(&lab_plain, &idx_labels(&[7, 3]));
    write(&lab_gz, &gzip(&idx_labels(&[7, 3])));
    assert_eq!(idx::read_labels(&lab_plain).unwrap(), vec![7, 3]);
    assert_eq!(idx::read_labels(&lab_gz).unwrap(), vec![7, 3]);
    let d = idx::read_labeled_images(&gz, &lab_plain, 0.5).unwrap();
    assert_eq!(d.labels(), Some(&[7, 3][..]));

    let three = tmp("three-labels-idx1-ubyte");
    write(&three, &idx_labels(&[1, 2, 3]));
    assert_format(
        idx::read_labeled_images(&plain, &three, 0.5).unwrap_err(),
        &three,
        "holds 3 labels",
    );
}

#[test]
fn idx_bad_files_are_format_errors_naming_the_file() {
    let grey = [10u8; 12];
    let good = idx_images(2, 2, 3, &grey);
    let bad = tmp("bad-idx3-ubyte");

    write(&bad, &good[..good.len() - 5]);
    assert_format(idx::read_images(&bad, 0.5).unwrap_err(), &bad, "truncated");
    write(&bad, &gzip(&good[..good.len() - 5]));
    assert_format(
        idx::read_images(&bad, 0.5).unwrap_err(),
        &bad,
        "decompressed",
    );

    let mut long = good.clone();
    long.extend_from_slice(&[1, 2, 3]);
    write(&bad, &long);
    assert_format(
        idx::read_images(&bad, 0.5).unwrap_err(),
        &bad,
        "3 unexpected bytes after the last image, from offset 28",
    );

    write(&bad, &good[..10]);
    assert_format(
        idx::read_images(&bad, 0.5).unwrap_err(),
        &bad,
        "truncated header",
    );
    write(&bad, &good[..2]);
    assert_format(idx::read_images(&bad, 0.5).unwrap_err(), &bad, "too short");
    write(&bad, b"");
    assert_format(
        idx::read_images(&bad, 0.5).unwrap_err(),
        &bad,
        "0 bytes long",
    );

    write(&bad, &idx_labels(&[1, 2]));
    assert_format(idx::read_images(&bad, 0.5).unwrap_err(), &bad, "label file");
    write(&bad, &good);
    assert_format(idx::read_labels(&bad).unwrap_err(), &bad, "image file");

    let mut float = good.clone();
    float[2] = 0x0D;
    write(&bad, &float);
    assert_format(
        idx::read_images(&bad, 0.5).unwrap_err(),
        &bad,
        "element type 0x0d",
    );

    write(&bad, b"\x89PNG\r\n\x1a\n....");
    assert_format(
        idx::read_images(&bad, 0.5).unwrap_err(),
        &bad,
        "not an IDX file",
    );

    // corrupt gzip: valid magic, garbage after
    write(
        &bad,
        &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff],
    );
    assert_format(idx::read_images(&bad, 0.5).unwrap_err(), &bad, "gzip");

    write(&bad, &idx_images(1, 0, 3, &[]));
    assert_format(idx::read_images(&bad, 0.5).unwrap_err(), &bad, "zero side");

    // huge dimensions must not allocate or overflow
    write(&bad, &idx_images(u32::MAX, u32::MAX, u32::MAX, &[]));
    let err = idx::read_images(&bad, 0.5).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err:?}");

    let missing = tmp("missing-idx3-ubyte.gz");
    assert_io(idx::read_images(&missing, 0.5).unwrap_err(), &missing);
    assert_io(idx::read_labels(&missing).unwrap_err(), &missing);
}

// ---------------------------------------------------------------- npy / npz

#[test]
fn npy_round_trip_and_dtypes() {
    let bits = array![[0u8, 1, 1], [1, 0, 0]];
    let d = Dataset::binary(bits.clone()).unwrap();
    let path = tmp("bits_u8.npy");
    npy::write_samples(&path, &d).unwrap();
    assert_eq!(npy::read_binary(&path).unwrap(), d);

    fn save<T: ndarray_npy::WritableElement>(name: &str, a: Array2<T>) -> PathBuf {
        let p = tmp(name);
        a.write_npy(std::fs::File::create(&p).unwrap()).unwrap();
        p
    }
    let paths = [
        save("i8.npy", bits.mapv(|v| v as i8)),
        save("i64.npy", bits.mapv(|v| v as i64)),
        save("u16.npy", bits.mapv(|v| v as u16)),
        save("bool.npy", bits.mapv(|v| v == 1)),
        save("f64.npy", bits.mapv(f64::from)),
        save("f32.npy", bits.mapv(f32::from)),
        save(
            "fortran.npy",
            bits.t().as_standard_layout().to_owned().reversed_axes(),
        ),
    ];
    for p in &paths {
        assert_eq!(npy::read_binary(p).unwrap().samples(), bits, "{p:?}");
    }
    // Fortran order really is Fortran order.
    let f = std::fs::read(&paths[6]).unwrap();
    assert!(String::from_utf8_lossy(&f[..128]).contains("'fortran_order': True"));
}

#[test]
fn npy_bad_files_are_format_errors_naming_the_file() {
    let p = tmp("two.npy");
    array![[0i64, 1], [2, 0]]
        .write_npy(std::fs::File::create(&p).unwrap())
        .unwrap();
    assert_format(
        npy::read_binary(&p).unwrap_err(),
        &p,
        "value 2 at sample 1, site 0",
    );

    let p = tmp("half.npy");
    array![[0.5f64, 1.0]]
        .write_npy(std::fs::File::create(&p).unwrap())
        .unwrap();
    assert_format(
        npy::read_binary(&p).unwrap_err(),
        &p,
        "value 0.5 at sample 0, site 0",
    );

    let p = tmp("cube.npy");
    Array3::<u8>::zeros((2, 2, 2))
        .write_npy(std::fs::File::create(&p).unwrap())
        .unwrap();
    assert_format(
        npy::read_binary(&p).unwrap_err(),
        &p,
        "has 3 dimensions (shape [2, 2, 2]), expected 2",
    );

    let p = tmp("vector.npy");
    ndarray::arr1(&[0u8, 1])
        .write_npy(std::fs::File::create(&p).unwrap())
        .unwrap();
    assert_format(npy::read_binary(&p).unwrap_err(), &p, "has 1 dimensions");

    // a version-1 .npy file with a hand-written header (data from byte 128)
    fn npy_with_header(header: &str, data: &[u8]) -> Vec<u8> {
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        let padded = format!("{header:<117}\n");
        b.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        b.extend_from_slice(padded.as_bytes());
        b.extend_from_slice(data);
        b
    }
    // complex128: a dtype we do not take
    let p = tmp("complex.npy");
    let header = "{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1), }";
    write(&p, &npy_with_header(header, &[0u8; 16]));
    assert_format(npy::read_binary(&p).unwrap_err(), &p, "unsupported dtype");

    // a hostile shape must not allocate: reported as truncated
    let p = tmp("huge.npy");
    let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000000000, 784), }";
    write(&p, &npy_with_header(header, &[0u8; 16]));
    assert_format(
        npy::read_binary(&p).unwrap_err(),
        &p,
        "truncated: shape [1000000000000000, 784]",
    );
    let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
    write(&p, &npy_with_header(header, &[0u8; 16]));
    assert_format(npy::read_binary(&p).unwrap_err(), &p, "truncated");

    let good = tmp("good.npy");
    Array2::<u8>::zeros((4, 5))
        .write_npy(std::fs::File::create(&good).unwrap())
        .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let p = tmp("truncated.npy");
    write(&p, &bytes[..bytes.len() - 3]);
    assert_format(npy::read_binary(&p).unwrap_err(), &p, "truncated");
    assert_format(npy::read_binary(&p).unwrap_err(), &p, "from byte 128");

    let p = tmp("extra.npy");
    let mut long = bytes.clone();
    long.push(0);
    write(&p, &long);
    assert_format(npy::read_binary(&p).unwrap_err(), &p, "1 unexpected bytes");

    let p = tmp("header_cut.npy");
    write(&p, &bytes[..40]);
    let err = npy::read_binary(&p).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err:?}");

    let p = tmp("not.npy");
    write(&p, b"hello world");
    assert_format(npy::read_binary(&p).unwrap_err(), &p, "not the .npy magic");

    let missing = tmp("missing.npy");
    assert_io(npy::read_binary(&missing).unwrap_err(), &missing);
}

#[test]
fn npz_members() {
    let p = tmp("pair.npz");
    let mut npz = NpzWriter::new_compressed(std::fs::File::create(&p).unwrap());
    npz.add_array("data", &array![[0u8, 1], [1, 1]]).unwrap();
    npz.add_array("data_test", &array![[1i8, 0]]).unwrap();
    npz.add_array("idx", &ndarray::arr1(&[5i64, 9])).unwrap();
    npz.add_array("bad", &array![[0u8, 3]]).unwrap();
    npz.finish().unwrap();

    let mut names = npy::npz_names(&p).unwrap();
    names.sort();
    assert_eq!(names, ["bad", "data", "data_test", "idx"]);
    assert_eq!(
        npy::read_npz_binary(&p, "data").unwrap().samples(),
        array![[0, 1], [1, 1]]
    );
    assert_eq!(
        npy::read_npz_binary(&p, "data_test.npy").unwrap().samples(),
        array![[1, 0]]
    );
    assert_format(
        npy::read_npz_binary(&p, "nope").unwrap_err(),
        &p,
        "no array named \"nope\"",
    );
    assert_format(
        npy::read_npz_binary(&p, "idx").unwrap_err(),
        &p,
        "member \"idx\"",
    );
    assert_format(
        npy::read_npz_binary(&p, "bad").unwrap_err(),
        &p,
        "value 3 at sample 0, site 1 (member \"bad\")",
    );

    let bytes = std::fs::read(&p).unwrap();
    let cut = tmp("cut.npz");
    write(&cut, &bytes[..bytes.len() / 2]);
    assert_format(npy::read_npz_binary(&cut, "data").unwrap_err(), &cut, "zip");
    let not = tmp("not.npz");
    write(&not, b"\x93NUMPY");
    assert_format(
        npy::read_npz_binary(&not, "data").unwrap_err(),
        &not,
        "not a zip",
    );
}

/// The reference data sets of Han et al. (2018), if this machine has them (they are
/// not shipped with the crate).
#[test]
fn han2018_reference_files_if_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/han2018");
    let dir = if dir.exists() {
        dir
    } else {
        PathBuf::from("/work/shared/data/han2018")
    };
    let train = dir.join("rand1k_thr50_train.npy");
    if !train.exists() {
        println!("skipped: {} not present", train.display());
        return;
    }
    let d = npy::read_binary(&train)
        .unwrap()
        .with_image_shape((28, 28))
        .unwrap();
    assert_eq!((d.len(), d.num_sites()), (1000, 784));
    println!("rand1k_thr50_train density {:.4}", d.mean_value());
    let test = npy::read_binary(dir.join("others1k_thr50_test.npy")).unwrap();
    assert_eq!((test.len(), test.num_sites()), (1000, 784));

    let npz = dir.join("mnist28_thr127.5_100perclass.npz");
    for member in ["data", "data_test"] {
        let d = npy::read_npz_binary(&npz, member).unwrap();
        assert_eq!((d.len(), d.num_sites()), (1000, 784));
        println!("{member} density {:.4}", d.mean_value());
    }
}

// ---------------------------------------------------------------- PNG

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn png_grid_decodes_to_expected_pixels() {
    // Three 2 x 2 images, two per row, scale 2.
    let images = array![
        [0.0, 1.0, 0.5, 0.25],
        [1.0, 1.0, 1.0, 1.0],
        [-0.5, 2.0, 0.0, 0.0], // clamped
    ];
    let path = tmp("grid.png");
    tpng::write_image_grid(&path, images.view(), (2, 2), 2, 2).unwrap();
    let (w, h, px) = decode_png(&path);
    // width 2 * (2 * 2 + 1) + 1 = 11, height 2 * (2 * 2 + 1) + 1 = 11
    assert_eq!((w, h), (11, 11));
    let at = |x: usize, y: usize| px[y * w as usize + x];
    let s = tpng::SEPARATOR_GREY;
    // borders and separators
    for k in 0..11 {
        assert_eq!(at(k, 0), s);
        assert_eq!(at(0, k), s);
        assert_eq!(at(5, k), s);
        assert_eq!(at(k, 5), s);
        assert_eq!(at(10, k), s);
    }
    // image 0 at x 1..5, y 1..5: pixel (r, c) is the 2 x 2 block at (1 + 2c, 1 + 2r)
    for (r, c, g) in [(0, 0, 0u8), (0, 1, 255), (1, 0, 128), (1, 1, 64)] {
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            assert_eq!(at(1 + 2 * c + dx, 1 + 2 * r + dy), g, "image 0 ({r}, {c})");
        }
    }
    // image 1 at x 6..10: all white
    assert!((6..10).all(|x| (1..5).all(|y| at(x, y) == 255)));
    // image 2 at x 1..5, y 6..10: clamped to 0 and 1
    assert_eq!(at(1, 6), 0);
    assert_eq!(at(3, 6), 255);
    // the empty cell after the last image is separator grey
    assert!((6..10).all(|x| (6..10).all(|y| at(x, y) == s)));

    // binary samples, one per row, scale 1
    let bits = array![[0u8, 1, 1, 0], [1, 0, 0, 1]];
    let path = tmp("bits.png");
    tpng::write_image_grid(&path, bits.view(), (1, 4), 1, 1).unwrap();
    let (w, h, px) = decode_png(&path);
    assert_eq!((w, h), (6, 5));
    assert_eq!(&px[6 + 1..6 + 5], &[0, 255, 255, 0]);
    assert_eq!(&px[3 * 6 + 1..3 * 6 + 5], &[255, 0, 0, 255]);

    // The shipped digits draw.
    let (train, _) = mnist::shipped().unwrap();
    let path = tmp("digits.png");
    tpng::write_image_grid(&path, train.take(20).samples(), (28, 28), 10, 2).unwrap();
    assert_eq!(decode_png(&path).0, 10 * (56 + 1) + 1);
}

#[test]
fn png_grid_rejects_bad_arguments() {
    let images = array![[0.0, 1.0, 0.5, 0.25]];
    let p = tmp("never.png");
    let e = tpng::write_image_grid(&p, images.view(), (2, 3), 2, 2).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e:?}");
    let e = tpng::write_image_grid(&p, images.view(), (2, 2), 0, 2).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    let e = tpng::write_image_grid(&p, images.view(), (2, 2), 2, 0).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    let e =
        tpng::write_image_grid(&p, images.slice(ndarray::s![..0, ..]), (2, 2), 2, 1).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    let nan = array![[0.0, f64::NAN, 0.5, 0.25]];
    let e = tpng::write_image_grid(&p, nan.view(), (2, 2), 2, 1).unwrap_err();
    assert!(matches!(e, Error::NonFinite { position: 1, .. }), "{e:?}");
    assert!(!p.exists());
    let dir_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no/such/dir/x.png");
    let e = tpng::write_image_grid(&dir_path, images.view(), (2, 2), 2, 1).unwrap_err();
    assert_io(e, &dir_path);
}

#[test]
fn npy_with_more_states_reads_every_value_and_names_a_bad_one() {
    // int64 grey levels in 0..4, exactly as numpy writes them.
    let a: Array2<i64> = Array2::from_shape_fn((5, 7), |(i, j)| ((i * 7 + j) % 4) as i64);
    let p = tmp("states4.npy");
    let mut buf = Vec::new();
    a.write_npy(&mut buf).unwrap();
    write(&p, &buf);
    let d = npy::read_states(&p, 4).unwrap();
    assert_eq!(d.num_states(), 4);
    for ((i, j), &v) in a.indexed_iter() {
        assert_eq!(i64::from(d.samples()[(i, j)]), v);
    }
    // Too few states for the data: the first value out of range is named.
    let e = npy::read_states(&p, 3).unwrap_err();
    assert_format(e, &p, "sample 0, site 3");
    let e = npy::read_binary(&p).unwrap_err();
    assert_format(e, &p, "not 0 or 1");
    // Impossible settings are argument errors, before the file is read.
    for bad in [0, 1, 257, usize::MAX] {
        let e = npy::read_states("/nonexistent.npy", bad).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    }
    // Floats must be whole numbers; negative integers are never states.
    let f: Array2<f64> = array![[0.0, 2.0], [1.0, 2.5]];
    let pf = tmp("states_float.npy");
    let mut buf = Vec::new();
    f.write_npy(&mut buf).unwrap();
    write(&pf, &buf);
    assert_format(
        npy::read_states(&pf, 3).unwrap_err(),
        &pf,
        "sample 1, site 1",
    );
    let n: Array2<i8> = array![[0, -1]];
    let pn = tmp("states_neg.npy");
    let mut buf = Vec::new();
    n.write_npy(&mut buf).unwrap();
    write(&pn, &buf);
    assert_format(npy::read_states(&pn, 3).unwrap_err(), &pn, "value -1");
    // The same through an .npz member, 256 states.
    let big: Array2<u16> = Array2::from_shape_fn((2, 256), |(_, j)| j as u16);
    let pz = tmp("states256.npz");
    let mut z = NpzWriter::new(std::fs::File::create(&pz).unwrap());
    z.add_array("grey", &big).unwrap();
    z.finish().unwrap();
    let d = npy::read_npz_states(&pz, "grey", 256).unwrap();
    assert_eq!(d.samples()[(1, 255)], 255);
    assert_format(
        npy::read_npz_states(&pz, "grey", 255).unwrap_err(),
        &pz,
        "site 255",
    );
}
