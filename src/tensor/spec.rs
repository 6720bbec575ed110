//! Einstein-summation specifications: the parser and the validation against
//! operand shapes, shared by [`einsum`](crate::einsum), the path optimiser and
//! [`ContractionPlan`](crate::ContractionPlan) (which depend on this module, not
//! on each other).
//!
//! Syntax (as in numpy): index letters `a-z` and `A-Z`, input terms separated by
//! commas, an optional `->` followed by the output term; spaces are ignored.
//! Without `->` (implicit mode) the output consists of the letters that occur exactly
//! once in the inputs, in ASCII order (upper case before lower case), as numpy does.

use crate::error::{Error, Result};

/// Number of distinct index labels (`A-Z` then `a-z`).
pub(crate) const NUM_LABELS: usize = 52;

/// Label id of an ASCII letter: `A-Z` -> 0..26, `a-z` -> 26..52 (so id order is
/// ASCII order).
#[inline]
pub(crate) fn label_id(c: char) -> Option<u8> {
    match c {
        'A'..='Z' => Some(c as u8 - b'A'),
        'a'..='z' => Some(c as u8 - b'a' + 26),
        _ => None,
    }
}

/// The letter of a label id.
#[inline]
pub(crate) fn label_char(id: u8) -> char {
    if id < 26 {
        (b'A' + id) as char
    } else {
        (b'a' + id - 26) as char
    }
}

/// A parsed specification: label ids per input term and for the output.
#[derive(Clone, Debug)]
pub(crate) struct ParsedSpec {
    /// Label ids of each input term, in order (repeats allowed).
    pub inputs: Vec<Vec<u8>>,
    /// Byte position of each input term's first character (or of where it would be).
    pub term_pos: Vec<usize>,
    /// Label ids of the output, all distinct.
    pub output: Vec<u8>,
}

fn spec_error(spec: &str, position: usize, character: char, reason: impl Into<String>) -> Error {
    Error::InvalidSpec {
        spec: spec.to_string(),
        position,
        character,
        reason: reason.into(),
    }
}

/// Parses `spec` (syntax only; no shapes involved).
pub(crate) fn parse(spec: &str) -> Result<ParsedSpec> {
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
    let mut term_pos = vec![0usize];
    let mut term_started = false;
    let mut output: Option<(Vec<u8>, Vec<usize>)> = None;
    let mut chars = spec.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        if c == ' ' {
            continue;
        }
        if let Some(id) = label_id(c) {
            match output.as_mut() {
                Some((out, out_pos)) => {
                    if let Some(k) = out.iter().position(|&o| o == id) {
                        return Err(spec_error(
                            spec,
                            pos,
                            c,
                            format!(
                                "output index '{c}' is repeated (first at position {})",
                                out_pos[k]
                            ),
                        ));
                    }
                    out.push(id);
                    out_pos.push(pos);
                }
                None => {
                    if !term_started {
                        *term_pos.last_mut().expect("non-empty") = pos;
                        term_started = true;
                    }
                    inputs.last_mut().expect("non-empty").push(id);
                }
            }
            continue;
        }
        match c {
            ',' if output.is_none() => {
                if !term_started {
                    *term_pos.last_mut().expect("non-empty") = pos;
                }
                inputs.push(Vec::new());
                term_pos.push(pos + 1);
                term_started = false;
            }
            ',' => {
                return Err(spec_error(
                    spec,
                    pos,
                    c,
                    "a comma is not allowed in the output term",
                ))
            }
            '-' => {
                if output.is_some() {
                    return Err(spec_error(spec, pos, c, "'->' may appear only once"));
                }
                match chars.peek() {
                    Some(&(_, '>')) => {
                        chars.next();
                        if !term_started {
                            *term_pos.last_mut().expect("non-empty") = pos;
                        }
                        output = Some((Vec::new(), Vec::new()));
                    }
                    _ => {
                        return Err(spec_error(
                            spec,
                            pos,
                            c,
                            "'-' must be followed by '>' (output arrow '->')",
                        ))
                    }
                }
            }
            '>' => return Err(spec_error(spec, pos, c, "'>' without a preceding '-'")),
            '.' => {
                return Err(spec_error(
                    spec,
                    pos,
                    c,
                    "ellipsis ('...') broadcasting is not supported; name every index",
                ))
            }
            _ => {
                return Err(spec_error(
                    spec,
                    pos,
                    c,
                    "not an index letter (allowed: a-z, A-Z, ',', '->', spaces)",
                ))
            }
        }
    }

    let output = match output {
        Some((out, out_pos)) => {
            for (&id, &pos) in out.iter().zip(&out_pos) {
                if !inputs.iter().any(|t| t.contains(&id)) {
                    return Err(spec_error(
                        spec,
                        pos,
                        label_char(id),
                        format!(
                            "output index '{}' does not appear in any input term",
                            label_char(id)
                        ),
                    ));
                }
            }
            out
        }
        None => {
            let mut counts = [0usize; NUM_LABELS];
            for t in &inputs {
                for &id in t {
                    counts[id as usize] += 1;
                }
            }
            (0..NUM_LABELS as u8)
                .filter(|&id| counts[id as usize] == 1)
                .collect()
        }
    };
    Ok(ParsedSpec {
        inputs,
        term_pos,
        output,
    })
}

impl ParsedSpec {
    /// Checks the number of operands, each term's length against the operand's order
    /// and index sizes across all occurrences; returns the size of every label
    /// (0 for labels not used).
    pub(crate) fn check_shapes(
        &self,
        spec: &str,
        shapes: &[&[usize]],
    ) -> Result<[usize; NUM_LABELS]> {
        let nterms = self.inputs.len();
        if shapes.len() != nterms {
            let (position, reason) = if shapes.len() < nterms {
                // Point at the first term without an operand.
                (
                    self.term_pos[shapes.len()],
                    format!(
                        "the spec has {nterms} input terms but {} operands were given \
                         (no operand for term {})",
                        shapes.len(),
                        shapes.len()
                    ),
                )
            } else {
                (
                    spec.find("->").unwrap_or(spec.len()),
                    format!(
                        "the spec has {nterms} input terms but {} operands were given",
                        shapes.len()
                    ),
                )
            };
            let character = spec[position.min(spec.len())..]
                .chars()
                .next()
                .unwrap_or(' ');
            return Err(spec_error(spec, position, character, reason));
        }
        let mut sizes = [0usize; NUM_LABELS];
        let mut first: [(usize, usize); NUM_LABELS] = [(usize::MAX, 0); NUM_LABELS];
        for (op, (term, shape)) in self.inputs.iter().zip(shapes).enumerate() {
            if term.len() != shape.len() {
                let position = self.term_pos[op];
                let character = spec[position.min(spec.len())..]
                    .chars()
                    .next()
                    .unwrap_or(' ');
                let text: String = term.iter().map(|&id| label_char(id)).collect();
                return Err(spec_error(
                    spec,
                    position,
                    character,
                    format!(
                        "term {op} ('{text}') has {} indices but operand {op} has order {} \
                         (shape {shape:?})",
                        term.len(),
                        shape.len()
                    ),
                ));
            }
            for (axis, (&id, &n)) in term.iter().zip(shape.iter()).enumerate() {
                let l = id as usize;
                if first[l].0 == usize::MAX {
                    first[l] = (op, axis);
                    sizes[l] = n;
                } else if sizes[l] != n {
                    return Err(Error::IndexSizeMismatch {
                        index: label_char(id),
                        first: sizes[l],
                        first_place: format!("operand {}, axis {}", first[l].0, first[l].1),
                        second: n,
                        second_place: format!("operand {op}, axis {axis}"),
                    });
                }
            }
        }
        Ok(sizes)
    }
}
