//! httparse as the oracle for the head scanner ([`head_syntax`](super::head_syntax)): both
//! must make the same of any input. Used by the scanner's tests, and by the fuzz target that
//! feeds it arbitrary bytes (`wayfarer_core::fuzzing::head_syntax`).

use std::mem::MaybeUninit;

use super::head_syntax::{Fields, Scan, scan};

/// What one parser made of a head, in a form both can produce.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Complete {
        len: usize,
        minor: u8,
        code: u16,
        reason: Vec<u8>,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    },
    Partial,
    TooManyFields,
    Invalid(String),
}

fn ours(input: &[u8], max: usize) -> Outcome {
    let mut fields = Fields::new();
    match scan(input, max, &mut fields) {
        Ok(Scan::Complete(line)) => Outcome::Complete {
            len: line.len,
            minor: line.minor,
            code: line.code,
            reason: input[line.reason].to_vec(),
            fields: fields
                .iter()
                .map(|f| (input[f.name()].to_vec(), input[f.value()].to_vec()))
                .collect(),
        },
        Ok(Scan::Partial) => Outcome::Partial,
        Ok(Scan::TooManyFields) => Outcome::TooManyFields,
        Err(e) => Outcome::Invalid(e.to_string()),
    }
}

fn theirs(input: &[u8], max: usize) -> Outcome {
    let mut storage = vec![MaybeUninit::<httparse::Header<'_>>::uninit(); max];
    let mut response = httparse::Response::new(&mut []);
    let mut config = httparse::ParserConfig::default();
    config.allow_obsolete_multiline_headers_in_responses(true);
    match config.parse_response_with_uninit_headers(&mut response, input, &mut storage) {
        Ok(httparse::Status::Complete(len)) => Outcome::Complete {
            len,
            minor: response.version.unwrap_or(9),
            code: response.code.unwrap_or(0),
            reason: response.reason.unwrap_or("").as_bytes().to_vec(),
            fields: response
                .headers
                .iter()
                .map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec()))
                .collect(),
        },
        Ok(httparse::Status::Partial) => Outcome::Partial,
        Err(httparse::Error::TooManyHeaders) => Outcome::TooManyFields,
        Err(e) => Outcome::Invalid(e.to_string()),
    }
}

/// Panics, showing both readings, unless the scanner and httparse read `input` alike with room
/// for `max` fields.
pub(crate) fn agree(input: &[u8], max: usize) {
    assert_eq!(
        ours(input, max),
        theirs(input, max),
        "on {:?} with room for {max} fields",
        String::from_utf8_lossy(input)
    );
}
