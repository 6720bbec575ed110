//! What every example shares: how errors reach the user, the final JSON line,
//! output directories. Included with `mod common;` (not an example itself).
#![allow(dead_code)] // each example uses a part

use std::path::Path;
use std::process::ExitCode;

/// The error type of the examples' `run` functions.
pub type BoxError = Box<dyn std::error::Error>;

/// Runs the example's body: on error prints the error's message and its causes to
/// stderr (`error: ...`, `  caused by: ...`; a cause the message already quotes is
/// not repeated) and exits with status 1.
pub fn main(body: impl FnOnce() -> Result<(), BoxError>) -> ExitCode {
    match body() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut shown = e.to_string();
            eprintln!("error: {shown}");
            let mut cause = e.source();
            while let Some(c) = cause {
                // A message that already quotes its cause (`I/O error on <file>: <cause>`)
                // is not followed by the same cause again.
                let text = c.to_string();
                if !shown.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                shown = text;
                cause = c.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// Prints the example's final JSON line (serde_json: NaN and infinities become
/// `null`, so the line is always valid JSON).
pub fn json_line(value: &serde_json::Value) {
    println!("{value}");
}

/// Creates `dir` and its parents (call it after every argument was checked).
pub fn create_dir(dir: &Path) -> tnlearn::Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| tnlearn::Error::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Process CPU seconds (user + system) from `/proc/self/stat`, `NaN` if unavailable.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let Some(rest) = stat.rsplit(')').next() else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) / 100.0, // USER_HZ = 100 on Linux
        _ => f64::NAN,
    }
}
