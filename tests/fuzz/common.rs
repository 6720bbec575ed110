//! Shared pieces of the fuzz harness: classes, outcomes, seeded generators, byte
//! mutations and the worker's address-space limit.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What one input did (a panic is caught by the worker, an abort or hang by the
/// parent).
#[derive(Debug)]
pub enum Outcome {
    /// The call succeeded and the result passed its checks.
    Ok,
    /// A clean error with this message (it must be non-empty).
    Err(String),
    /// The call succeeded with a wrong result ("invalid Ok").
    Invalid(String),
}

impl Outcome {
    /// `Err` from a library error, checking that the message names `needle` (the file
    /// name, or the parameter) when one is given.
    pub fn from_error(e: &tnlearn::Error, needle: Option<&str>) -> Outcome {
        let msg = e.to_string();
        match needle {
            Some(n) if !msg.contains(n) => {
                Outcome::Invalid(format!("error message does not name {n:?}: {msg}"))
            }
            _ => Outcome::Err(msg),
        }
    }
}

/// A class of inputs: `run(seed, index, scratch)` generates input `index` and runs
/// it; `describe` says what the input is (for reproducers).
#[derive(Clone)]
pub struct Class {
    /// Name in the table and in `TNL_FUZZ_CLASSES`.
    pub name: &'static str,
    /// Generates and runs one input.
    pub run: fn(u64, u64, &Path) -> Outcome,
    /// Describes one input (printed by `TNL_FUZZ_REPRO`).
    pub describe: fn(u64, u64) -> String,
}

/// The generator of input `index` of a class: independent of every other input.
pub fn rng_for(seed: u64, index: u64, salt: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    r.set_stream(index);
    r
}

/// A directory for the files the inputs are written to (tmpfs when there is one).
pub fn scratch_dir() -> PathBuf {
    let dir = scratch_dir_of(std::process::id());
    std::fs::create_dir_all(&dir).expect("create the fuzz scratch directory");
    dir
}

/// The scratch directory of the worker with process id `pid` (removed by the parent
/// when the worker has exited).
pub fn scratch_dir_of(pid: u32) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    base.join(format!("tnlearn-fuzz-{pid}"))
}

/// Limits the worker's address space, so an allocation of gigabytes fails (an
/// abort of that input) instead of swapping the machine.
pub fn limit_address_space(cmd: &mut std::process::Command, mem_mb: u64) {
    use std::os::unix::process::CommandExt;
    let bytes = mem_mb.saturating_mul(1 << 20);
    // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Sizes at the edges: 0, small, and the powers where arithmetic overflows.
pub const SPECIAL_U64: [u64; 14] = [
    0,
    1,
    2,
    3,
    255,
    256,
    65535,
    1 << 31,
    (1 << 32) - 1,
    1 << 32,
    1 << 40,
    1 << 62,
    1 << 63,
    u64::MAX,
];

/// A special size, or a small one.
pub fn special<R: Rng + ?Sized>(rng: &mut R) -> u64 {
    if rng.random_bool(0.3) {
        rng.random_range(0..8)
    } else {
        SPECIAL_U64[rng.random_range(0..SPECIAL_U64.len())]
    }
}

/// A special `usize`.
pub fn special_usize<R: Rng + ?Sized>(rng: &mut R) -> usize {
    usize::try_from(special(rng)).unwrap_or(usize::MAX)
}

/// Values at the edges of `f64`.
pub const SPECIAL_F64: [f64; 14] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e308,
    -1e308,
    1e-300,
    5e-324,
    f64::MAX,
    f64::MIN_POSITIVE,
];

/// A special `f64`, or an ordinary one.
pub fn special_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    if rng.random_bool(0.3) {
        rng.random_range(-2.0..2.0)
    } else {
        SPECIAL_F64[rng.random_range(0..SPECIAL_F64.len())]
    }
}

/// How to write a special value into a file.
#[derive(Clone, Copy)]
pub enum Field {
    /// `u64` little-endian.
    U64Le,
    /// `u32` little-endian.
    U32Le,
    /// `u32` big-endian (IDX).
    U32Be,
}

/// Writes `v` (truncated to the field width) at `at`, if it fits.
pub fn put(bytes: &mut [u8], at: usize, field: Field, v: u64) {
    let b: Vec<u8> = match field {
        Field::U64Le => v.to_le_bytes().to_vec(),
        Field::U32Le => (v as u32).to_le_bytes().to_vec(),
        Field::U32Be => (v as u32).to_be_bytes().to_vec(),
    };
    if at + b.len() <= bytes.len() {
        bytes[at..at + b.len()].copy_from_slice(&b);
    }
}

/// One to three random mutations of `bytes`: bit flips, random bytes, insertions,
/// deletions, truncation, duplication, and special values written into `fields`
/// (offsets of header/size fields, with their encoding) or anywhere.
pub fn mutate(rng: &mut impl Rng, bytes: &mut Vec<u8>, fields: &[(usize, Field)]) {
    let n = rng.random_range(1..=3);
    for _ in 0..n {
        let len = bytes.len();
        match rng.random_range(0..10) {
            0 | 1 if len > 0 => {
                let i = rng.random_range(0..len);
                bytes[i] ^= 1 << rng.random_range(0..8);
            }
            2 if len > 0 => {
                let i = rng.random_range(0..len);
                bytes[i] = rng.random();
            }
            3 => {
                let i = rng.random_range(0..=len);
                let k = rng.random_range(1..=16);
                let ins: Vec<u8> = (0..k).map(|_| rng.random()).collect();
                bytes.splice(i..i, ins);
            }
            4 if len > 0 => {
                let i = rng.random_range(0..len);
                let k = rng.random_range(1..=16).min(len - i);
                bytes.drain(i..i + k);
            }
            5 if len > 0 && rng.random_bool(0.3) => {
                bytes.truncate(rng.random_range(0..len));
            }
            6 if len > 0 => {
                let i = rng.random_range(0..len);
                let k = rng.random_range(1..=32).min(len - i);
                let chunk = bytes[i..i + k].to_vec();
                let j = rng.random_range(0..=len);
                bytes.splice(j..j, chunk);
            }
            _ if !fields.is_empty() && rng.random_bool(0.8) => {
                let (at, f) = fields[rng.random_range(0..fields.len())];
                put(bytes, at, f, special(rng));
            }
            _ if len >= 8 => {
                let at = rng.random_range(0..=len - 8);
                let f = [Field::U64Le, Field::U32Le, Field::U32Be][rng.random_range(0..3)];
                if rng.random_bool(0.2) {
                    put(bytes, at, Field::U64Le, special_f64(rng).to_bits());
                } else {
                    put(bytes, at, f, special(rng));
                }
            }
            _ => {}
        }
    }
}

/// Prints what an input calls when it is being reproduced (`TNL_FUZZ_REPRO`).
pub fn note(what: impl FnOnce() -> String) {
    if std::env::var_os("TNL_FUZZ_REPRO").is_some() {
        eprintln!("call: {}", what());
    }
}
