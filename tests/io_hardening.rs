//! Regression tests for hostile data files (issue 10): headers that announce more
//! data than the file holds, decompression bombs, sizes that overflow. Each test
//! failed (panic, abort, or a different message) before the fix.

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use tnlearn::data::Dataset;
use tnlearn::io::{idx, npy, packed, png as tpng};
use tnlearn::Error;

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("io_hardening");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A `Format` error naming the file and containing `needle`.
fn assert_format(r: Result<impl std::fmt::Debug, Error>, path: &Path, needle: &str) {
    let err = r.expect_err("expected an error");
    let msg = err.to_string();
    assert!(matches!(err, Error::Format { .. }), "not Format: {err:?}");
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(msg.contains(name), "message does not name {name}: {msg}");
    assert!(msg.contains(needle), "message lacks {needle:?}: {msg}");
}

fn npy_bytes(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    h.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(h.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out
}

#[test]
fn npy_header_length_beyond_the_file_is_an_error_not_an_allocation() {
    let p = tmp("hlen.npy");
    let mut b = npy_bytes(
        2,
        "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }",
        &[0, 1],
    );
    b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&p, &b).unwrap();
    assert_format(npy::read_binary(&p), &p, "header length at byte 8");
}

#[test]
fn npy_shape_times_item_size_is_checked() {
    let p = tmp("items.npy");
    // 4 elements of 8 bytes need 32 bytes, the file holds 4.
    let b = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
        &[0; 4],
    );
    std::fs::write(&p, &b).unwrap();
    assert_format(npy::read_binary(&p), &p, "needs 32 bytes");
    let p = tmp("huge.npy");
    let b = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
        &[0; 4],
    );
    std::fs::write(&p, &b).unwrap();
    assert_format(npy::read_binary(&p), &p, "more bytes than can be addressed");
    // No elements, but an axis too large for ndarray (it panicked inside ndarray-npy).
    let p = tmp("empty-huge.npy");
    let b = npy_bytes(
        1,
        "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 18446744073709551615), }",
        &[],
    );
    std::fs::write(&p, &b).unwrap();
    assert_format(npy::read_binary(&p), &p, "more bytes than can be addressed");
}

fn zip_with(name: &str, member: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file(name, opts).unwrap();
    w.write_all(member).unwrap();
    w.finish().unwrap().into_inner()
}

#[test]
fn npz_member_bomb_is_rejected_by_its_header() {
    let p = tmp("bomb.npz");
    // The header declares 1 x 10 bytes; the member inflates to 16 MiB.
    let mut member = npy_bytes(
        1,
        "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 10), }",
        &[0; 10],
    );
    member.resize(16 << 20, 0);
    std::fs::write(&p, zip_with("data.npy", &member)).unwrap();
    assert_format(
        npy::read_npz_binary(&p, "data"),
        &p,
        "declares 16777216 uncompressed bytes",
    );
}

#[test]
fn npz_member_with_a_huge_header_length_is_rejected() {
    let p = tmp("hlen.npz");
    let mut member = npy_bytes(
        2,
        "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }",
        &[0, 1],
    );
    member[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&p, zip_with("data.npy", &member)).unwrap();
    assert_format(npy::read_npz_binary(&p, "data"), &p, "header length");
}

fn idx_header(dims: &[u32]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b
}

#[test]
fn gzip_idx_bomb_stops_after_the_declared_data() {
    let p = tmp("bomb-images.gz");
    let mut b = idx_header(&[1, 2, 2]);
    b.resize(b.len() + (32 << 20), 0);
    std::fs::write(&p, gzip(&b)).unwrap();
    assert_format(idx::read_grey_images(&p), &p, "holds more than the 4 bytes");
    let p = tmp("bomb-labels.gz");
    let mut b = idx_header(&[3]);
    b.resize(b.len() + (32 << 20), 0);
    std::fs::write(&p, gzip(&b)).unwrap();
    assert_format(idx::read_labels(&p), &p, "holds more than the 3 bytes");
}

#[test]
fn gzip_idx_announcing_more_than_the_stream_holds_is_truncated() {
    let p = tmp("short-images.gz");
    let mut b = idx_header(&[u32::MAX, u32::MAX, u32::MAX]);
    b.extend_from_slice(&[7; 100]);
    std::fs::write(&p, gzip(&b)).unwrap();
    let r = idx::read_grey_images(&p);
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("short-images.gz"), "{msg}");
    let p = tmp("short-images2.gz");
    let mut b = idx_header(&[1000, 28, 28]);
    b.extend_from_slice(&[7; 100]);
    std::fs::write(&p, gzip(&b)).unwrap();
    assert_format(idx::read_grey_images(&p), &p, "stream ends after 100");
    let p = tmp("short-header.gz");
    std::fs::write(&p, gzip(&[0, 0])).unwrap();
    assert_format(idx::read_grey_images(&p), &p, "too short");
}

#[test]
fn idx_with_no_images_of_an_unaddressable_shape_is_an_error() {
    for gz in [false, true] {
        let p = tmp(if gz { "zero-images.gz" } else { "zero-images" });
        let b = idx_header(&[0, u32::MAX, u32::MAX]);
        std::fs::write(&p, if gz { gzip(&b) } else { b }).unwrap();
        assert_format(idx::read_grey_images(&p), &p, "too large to address");
    }
}

fn packed_file(rows: u32, cols: u32, n_train: u32, n_test: u32, flags: u32) -> Vec<u8> {
    let mut b = packed::MAGIC.to_vec();
    for v in [packed::VERSION, rows, cols, n_train, n_test, flags] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

#[test]
fn packed_with_no_images_of_an_unaddressable_shape_is_an_error() {
    let p = tmp("zero.tnlbits");
    std::fs::write(&p, packed_file(u32::MAX, u32::MAX, 0, 0, 0)).unwrap();
    assert_format(packed::read_packed(&p), &p, "too large to address");
    // A valid empty file still loads.
    std::fs::write(&p, packed_file(2, 3, 0, 0, 1)).unwrap();
    let (train, test) = packed::read_packed(&p).unwrap();
    assert_eq!((train.len(), test.len(), train.num_sites()), (0, 0, 6));
}

#[test]
fn packed_counts_from_the_header_are_checked_against_the_length() {
    let p = tmp("counts.tnlbits");
    std::fs::write(&p, packed_file(28, 28, u32::MAX, u32::MAX, 1)).unwrap();
    assert_format(packed::read_packed(&p), &p, "(truncated)");
}

#[test]
fn png_grid_too_large_to_allocate_is_an_error() {
    let images = Array2::<f64>::zeros((1, 1));
    let p = tmp("huge.png");
    let err = tpng::write_image_grid(&p, images.view(), (1, 1), 1, 4_000_000_000).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    assert!(err.to_string().contains("scale"), "{err}");
}

#[test]
fn dataset_from_packed_round_trip_still_works() {
    let d = Dataset::binary(Array2::from_shape_fn((3, 10), |(i, j)| ((i + j) % 2) as u8))
        .unwrap()
        .with_labels(vec![1, 2, 3])
        .unwrap();
    let bytes = packed::encode_packed(&d, &d.take(1)).unwrap();
    let (a, b) = packed::parse_packed(&bytes, Path::new("mem")).unwrap();
    assert_eq!(a.samples(), d.samples());
    assert_eq!(b.len(), 1);
}
