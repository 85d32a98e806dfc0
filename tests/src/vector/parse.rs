//! Reads a `.vec` file (format: `tests/vectors/README.md`) into a [`Vector`].
//!
//! The parser is strict on purpose: a vector is a contract shared by five runners, so a typo must
//! fail loudly with the file and line rather than silently test less than its author meant. It
//! never panics on malformed input; every problem becomes a [`ParseError`].

use std::fmt;
use std::time::Duration;

use super::model::{
    BodySpec, CallExpect, CallSpec, OriginExpect, ReadBody, Step, Vector, VectorConfig,
};

/// The longest `after` a vector replayed on the runtimes may have: they wait for real.
pub const MAX_REAL_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Upper bound on one string after repetition, so a typo such as `"a" * 99999999999` is an error
/// instead of an allocation failure.
const MAX_STRING_BYTES: usize = 64 << 20;

/// The error kinds `error KIND` accepts, as in `OutcomeError::kind`.
pub const ERROR_KINDS: [&str; 11] = [
    "protocol",
    "timeout",
    "connect",
    "dns",
    "tls",
    "io",
    "canceled",
    "invalid-input",
    "too-many-follow-ups",
    "proxy",
    "decode",
];

/// A malformed vector: which file, which line (1-based; 0 for whole-file problems) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The path under `tests/vectors/`, e.g. `http1/chunked_basic.vec`.
    pub file: String,
    /// The 1-based line, or 0 when the problem is the file as a whole.
    pub line: usize,
    /// What is wrong, in words that suggest the fix.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

mod expect;

/// Reads `tests/vectors/<rel_path>` and parses it, panicking with the parse error: vector files are
/// part of the test suite, so a broken one should fail the test that uses it, loudly.
pub fn load(rel_path: &str) -> Vector {
    let path = format!(
        "{}{}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/"),
        rel_path
    );
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read vector {path}: {e}"));
    parse(rel_path, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Every `.vec` file under `tests/vectors/`, as paths relative to it with `/` separators, sorted.
/// Used by tests that check all vectors at once.
pub fn all_paths() -> Vec<String> {
    fn walk(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            if path.is_dir() {
                walk(&path, &rel, out);
            } else if name.ends_with(".vec") {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/vectors")),
        "",
        &mut out,
    );
    out.sort();
    out
}

/// Parses the text of one vector. `rel_path` (e.g. `http1/chunked_basic.vec`) names the file in
/// errors, and without its `.vec` extension becomes [`Vector::name`].
///
/// `expect_calls` always has one entry per call: a call without an `[expect call N]` section gets
/// `CallExpect::default()`, which `check` reads as "must succeed". Since a section must contain a
/// `status` or an `error` line, the default can never come from a written section.
pub fn parse(rel_path: &str, text: &str) -> Result<Vector, ParseError> {
    Parser {
        file: rel_path,
        line: 0,
    }
    .run(text)
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Preamble,
    Config,
    Call(usize),
    /// `[origin]` is 1, `[origin 2]` is 2.
    Origin(usize),
    ExpectCall(usize),
    ExpectOrigin(usize),
}

struct Parser<'a> {
    file: &'a str,
    line: usize,
}

/// A call while its section is being read; the first line (method and target) is mandatory.
struct CallDraft {
    line: usize,
    spec: Option<CallSpec>,
    body_seen: bool,
    read_body_seen: bool,
}

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            file: self.file.to_string(),
            line: self.line,
            message: message.into(),
        })
    }

    fn run(&mut self, text: &str) -> Result<Vector, ParseError> {
        let mut description = Vec::new();
        let mut config = VectorConfig::default();
        let mut config_keys: Vec<&str> = Vec::new();
        let mut calls: Vec<(usize, CallDraft)> = Vec::new();
        let mut origin = Vec::new();
        let mut origin2: Option<Vec<Step>> = None;
        let mut expects: Vec<(usize, usize, CallExpect)> = Vec::new(); // (N, header line, expect)
        let mut expect_origin = Vec::new();
        let mut expect_origin2 = Vec::new();
        let mut expect_origin2_line = None;
        let mut seen_sections: Vec<String> = Vec::new();
        let mut section = Section::Preamble;

        for (index, raw) in text.lines().enumerate() {
            self.line = index + 1;
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                if section == Section::Preamble {
                    description.push(comment.strip_prefix(' ').unwrap_or(comment).to_string());
                }
                continue;
            }
            if line.starts_with('[') {
                let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
                    return self.err(format!("malformed section header `{line}`"));
                };
                let inner = inner.split_whitespace().collect::<Vec<_>>().join(" ");
                if seen_sections.contains(&inner) {
                    return self.err(format!("duplicate section [{inner}]"));
                }
                section = self.section(&inner)?;
                seen_sections.push(inner);
                match section {
                    Section::Call(n) => calls.push((
                        n,
                        CallDraft {
                            line: self.line,
                            spec: None,
                            body_seen: false,
                            read_body_seen: false,
                        },
                    )),
                    Section::ExpectCall(n) => expects.push((n, self.line, CallExpect::default())),
                    Section::Origin(2) => origin2 = Some(Vec::new()),
                    Section::ExpectOrigin(2) => expect_origin2_line = Some(self.line),
                    _ => {}
                }
                continue;
            }
            match section {
                Section::Preamble => {
                    return self.err(format!(
                        "`{line}` outside any section (sections start with `[`)"
                    ));
                }
                Section::Config => self.config_line(line, &mut config, &mut config_keys)?,
                Section::Call(_) => {
                    let draft = &mut calls.last_mut().expect("a call section was opened").1;
                    self.call_line(line, draft)?;
                }
                Section::Origin(1) => origin.push(self.step(line)?),
                Section::Origin(_) => origin2
                    .as_mut()
                    .expect("the [origin 2] section was opened")
                    .push(self.step(line)?),
                Section::ExpectCall(_) => {
                    let expect = &mut expects.last_mut().expect("an expect section was opened").2;
                    self.expect_call_line(line, expect)?;
                }
                Section::ExpectOrigin(1) => expect_origin.push(self.expect_origin_line(line)?),
                Section::ExpectOrigin(_) => expect_origin2.push(self.expect_origin_line(line)?),
            }
        }

        // Whole-file checks: call numbering and expectations that refer to real calls.
        self.line = 0;
        calls.sort_by_key(|(n, _)| *n);
        let mut call_specs = Vec::new();
        for (i, (n, draft)) in calls.into_iter().enumerate() {
            self.line = draft.line;
            if n != i + 1 {
                return self.err(format!(
                    "calls must be numbered 1..N without gaps: expected [call {}], found [call {n}]",
                    i + 1
                ));
            }
            match draft.spec {
                Some(spec) => call_specs.push(spec),
                None => return self.err(format!("[call {n}] needs a `METHOD /path` line")),
            }
        }
        self.line = 0;
        let long_wait = call_specs
            .iter()
            .any(|c| c.after.is_some_and(|d| d > MAX_REAL_AFTER));
        if long_wait && !config.virtual_clock {
            return self.err(format!(
                "an `after` longer than {MAX_REAL_AFTER:?} moves time, which needs `clock virtual` in [config]"
            ));
        }
        if call_specs.is_empty() {
            return self.err("a vector needs at least one [call N] section");
        }
        let mut expect_calls = vec![CallExpect::default(); call_specs.len()];
        for (n, header_line, expect) in expects {
            self.line = header_line;
            if n > call_specs.len() {
                return self.err(format!(
                    "[expect call {n}] refers to a call that does not exist (there are {})",
                    call_specs.len()
                ));
            }
            if expect.status.is_none() && expect.error.is_none() {
                return self.err(format!(
                    "[expect call {n}] needs a `status` line, an `error` line, or both"
                ));
            }
            expect_calls[n - 1] = expect;
        }
        if let (Some(line), None) = (expect_origin2_line, &origin2) {
            self.line = line;
            return self.err("[expect origin 2] needs an [origin 2] script");
        }
        self.line = 0;
        let name = self
            .file
            .strip_suffix(".vec")
            .unwrap_or(self.file)
            .to_string();
        let mut description = description.join("\n");
        description.truncate(description.trim_end().len());
        Ok(Vector {
            name,
            description,
            config,
            calls: call_specs,
            origin,
            origin2,
            expect_calls,
            expect_origin,
            expect_origin2,
        })
    }

    fn section(&self, inner: &str) -> Result<Section, ParseError> {
        let words: Vec<&str> = inner.split(' ').collect();
        match words.as_slice() {
            ["config"] => Ok(Section::Config),
            ["origin"] => Ok(Section::Origin(1)),
            ["expect", "origin"] => Ok(Section::ExpectOrigin(1)),
            ["origin", "2"] => Ok(Section::Origin(2)),
            ["expect", "origin", "2"] => Ok(Section::ExpectOrigin(2)),
            ["origin", _] | ["expect", "origin", _] => self.err(format!(
                "unknown section [{inner}]: the origins are [origin] and [origin 2], checked by \
                     [expect origin] and [expect origin 2]"
            )),
            ["call", n] => Ok(Section::Call(self.call_number(n)?)),
            ["expect", "call", n] => Ok(Section::ExpectCall(self.call_number(n)?)),
            _ => self.err(format!("unknown section [{inner}]")),
        }
    }

    fn call_number(&self, word: &str) -> Result<usize, ParseError> {
        match self.number(word)? {
            0 => self.err("call numbers start at 1"),
            n => Ok(n),
        }
    }

    fn config_line<'l>(
        &self,
        line: &'l str,
        config: &mut VectorConfig,
        keys: &mut Vec<&'l str>,
    ) -> Result<(), ParseError> {
        let (key, value) = split_word(line);
        if keys.contains(&key) {
            return self.err(format!("`{key}` is set twice"));
        }
        keys.push(key);
        match key {
            "connect-timeout" => config.connect_timeout = Some(self.duration(value)?),
            "read-timeout" => config.read_timeout = Some(self.duration(value)?),
            "write-timeout" => config.write_timeout = Some(self.duration(value)?),
            "call-timeout" => config.call_timeout = Some(self.duration(value)?),
            "expect-continue-timeout" => {
                config.expect_continue_timeout = Some(self.duration(value)?)
            }
            "max-head-bytes" => config.max_head_bytes = Some(self.number(value)?),
            "max-headers" => config.max_headers = Some(self.number(value)?),
            "max-interim-responses" => config.max_interim_responses = Some(self.number(value)?),
            "max-chunk-extension-bytes" => {
                config.max_chunk_extension_bytes = Some(self.number(value)?)
            }
            "max-trailer-bytes" => config.max_trailer_bytes = Some(self.number(value)?),
            "cache" => {
                config.cache =
                    Some(super::cache::CacheSetting::parse(value).or_else(|e| self.err(e))?);
            }
            "clock" if value == "virtual" => config.virtual_clock = true,
            "clock" => return self.err(format!("`clock` takes only `virtual`, not `{value}`")),
            "follow-redirects" => config.follow_redirects = Some(self.switch(key, value)?),
            "follow-ssl-redirects" => config.follow_ssl_redirects = Some(self.switch(key, value)?),
            "retry-on-connection-failure" => {
                config.retry_on_connection_failure = Some(self.switch(key, value)?)
            }
            "max-follow-ups" => {
                config.max_follow_ups =
                    Some(self.number(value)?.try_into().or_else(|_| {
                        self.err(format!("`max-follow-ups` is at most {}", u32::MAX))
                    })?)
            }
            "gzip" => config.gzip = Some(self.switch(key, value)?),
            "max-decompressed-bytes" => {
                config.max_decompressed_bytes = Some(self.number(value)? as u64)
            }
            "basic-auth" => {
                let (user, password) = split_word(value);
                if user.is_empty() || password.is_empty() || password.contains(char::is_whitespace)
                {
                    return self.err(
                        "`basic-auth` takes a user name and a password: `basic-auth USER PASSWORD`",
                    );
                }
                config.basic_auth = Some((user.to_string(), password.to_string()));
            }
            "user-agent" => config.user_agent = Some(self.utf8(self.string(value)?)?),
            "proxy" => config.proxy = Some(self.utf8(self.string(value)?)?),
            "cookie-jar" if value == "memory" => config.cookie_jar = true,
            "cookie-jar" => {
                return self.err(format!("`cookie-jar` takes only `memory`, not `{value}`"));
            }
            "fragment" if value == "whole" => config.whole_only = true,
            "fragment" => return self.err(format!("`fragment` takes only `whole`, not `{value}`")),
            _ => return self.err(format!("unknown config setting `{key}`")),
        }
        Ok(())
    }

    fn call_line(&self, line: &str, draft: &mut CallDraft) -> Result<(), ParseError> {
        let Some(spec) = draft.spec.as_mut() else {
            let (method, target) = split_word(line);
            if !method.bytes().all(|b| b.is_ascii_alphabetic()) || method.is_empty() {
                return self.err(format!(
                    "expected `METHOD /path` as the call's first line, found `{line}`"
                ));
            }
            let absolute = target.starts_with("http://") || target.starts_with("https://");
            if !(target.starts_with('/') || absolute) || target.contains(char::is_whitespace) {
                return self.err(format!(
                    "the call's target must be a path starting with `/` or an http(s) URL, found `{target}`"
                ));
            }
            draft.spec = Some(CallSpec {
                method: method.to_string(),
                target: target.to_string(),
                headers: Vec::new(),
                body: BodySpec::None,
                read_body: ReadBody::All,
                after: None,
                idempotent: false,
                timeout: None,
            });
            return Ok(());
        };
        let (key, rest) = split_word(line);
        match key {
            "header" => {
                let (name, value) = self.header(rest)?;
                spec.headers.push((name, value.into_bytes()));
            }
            "header-bytes" => {
                let (name, value) = split_word(rest);
                self.header_name(name)?;
                spec.headers.push((name.to_string(), self.string(value)?));
            }
            "body" | "stream" | "stream-sized" => {
                if draft.body_seen {
                    return self
                        .err("a call has at most one `body`, `stream` or `stream-sized` line");
                }
                draft.body_seen = true;
                spec.body = match key {
                    "body" => BodySpec::Bytes(self.string(rest)?),
                    "stream" => BodySpec::Stream {
                        len: None,
                        pieces: self.pieces(rest)?,
                    },
                    _ => {
                        let (len, rest) = split_word(rest);
                        BodySpec::Stream {
                            len: Some(self.number(len)? as u64),
                            pieces: self.pieces(rest)?,
                        }
                    }
                };
            }
            "read-body" => {
                if draft.read_body_seen {
                    return self.err("`read-body` is given twice");
                }
                draft.read_body_seen = true;
                spec.read_body = match rest {
                    "all" => ReadBody::All,
                    "none" => ReadBody::None,
                    n => ReadBody::Bytes(self.number(n).or_else(|_| {
                        self.err(format!(
                            "`read-body` takes `all`, `none` or a byte count, not `{n}`"
                        ))
                    })?),
                };
            }
            "after" => {
                if spec.after.is_some() {
                    return self.err("`after` is given twice");
                }
                spec.after = Some(self.duration(rest)?);
            }
            "idempotent" if rest.is_empty() => {
                if spec.idempotent {
                    return self.err("`idempotent` is given twice");
                }
                spec.idempotent = true;
            }
            "idempotent" => {
                return self.err(format!("`idempotent` takes no argument, found `{rest}`"));
            }
            "timeout" => {
                if spec.timeout.is_some() {
                    return self.err("`timeout` is given twice");
                }
                spec.timeout = Some(self.duration(rest)?);
            }
            _ => return self.err(format!("unknown call directive `{key}`")),
        }
        Ok(())
    }

    fn step(&self, line: &str) -> Result<Step, ParseError> {
        let (key, rest) = split_word(line);
        let step = match key {
            "accept" => Step::Accept,
            "read-request" => Step::ReadRequest,
            "read-head" => Step::ReadHead,
            "read-body" => Step::ReadBody,
            "close" => Step::Close,
            "reset" => Step::Reset,
            "stall" => Step::Stall,
            "await-close" => Step::AwaitClose,
            "send" => return Ok(Step::Send(self.string(rest)?)),
            "pause" => return Ok(Step::Pause(self.duration(rest)?)),
            _ => return self.err(format!("unknown origin step `{key}`")),
        };
        if !rest.is_empty() {
            return self.err(format!("`{key}` takes no argument, found `{rest}`"));
        }
        Ok(step)
    }

    /// `Name: value`, the value running to the end of the line (trimmed).
    fn header(&self, rest: &str) -> Result<(String, String), ParseError> {
        let Some((name, value)) = rest.split_once(':') else {
            return self.err(format!("expected `Name: value`, found `{rest}`"));
        };
        self.header_name(name)?;
        Ok((name.to_string(), value.trim().to_string()))
    }

    fn header_name(&self, name: &str) -> Result<(), ParseError> {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return self.err(format!("`{name}` is not a header name"));
        }
        Ok(())
    }

    /// `on` or `off`.
    fn switch(&self, key: &str, word: &str) -> Result<bool, ParseError> {
        match word {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => self.err(format!("`{key}` is `on` or `off`, not `{word}`")),
        }
    }

    fn number(&self, word: &str) -> Result<usize, ParseError> {
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            return self.err(format!("expected a number, found `{word}`"));
        }
        word.parse()
            .or_else(|_| self.err(format!("number `{word}` is too large")))
    }

    fn positive(&self, word: &str) -> Result<usize, ParseError> {
        match self.number(word)? {
            0 => self.err("requests and connections are numbered from 1"),
            n => Ok(n),
        }
    }

    fn duration(&self, word: &str) -> Result<Duration, ParseError> {
        let (digits, millis) = if let Some(d) = word.strip_suffix("ms") {
            (d, true)
        } else if let Some(d) = word.strip_suffix('s') {
            (d, false)
        } else {
            return self.err(format!(
                "a duration is a number followed by `ms` or `s`, not `{word}`"
            ));
        };
        let n = self
            .number(digits)
            .or_else(|_| self.err(format!("bad duration `{word}`")))? as u64;
        Ok(if millis {
            Duration::from_millis(n)
        } else {
            Duration::from_secs(n)
        })
    }

    fn utf8(&self, bytes: Vec<u8>) -> Result<String, ParseError> {
        String::from_utf8(bytes).or_else(|_| self.err("this string must be valid UTF-8"))
    }

    /// One or more literals, concatenated.
    fn string(&self, rest: &str) -> Result<Vec<u8>, ParseError> {
        Ok(self.pieces(rest)?.concat())
    }

    /// Each literal (with its repetition) as its own piece; at least one literal is required.
    fn pieces(&self, rest: &str) -> Result<Vec<Vec<u8>>, ParseError> {
        let bytes = rest.as_bytes();
        let mut pieces = Vec::new();
        let mut total = 0usize;
        let mut i = 0;
        loop {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
            if bytes[i] != b'"' {
                return self.err(format!(
                    "expected a string literal in double quotes at `{}`",
                    &rest[i..]
                ));
            }
            let (mut piece, next) = self.literal(bytes, i + 1)?;
            i = next;
            // Optional `* N`.
            let mut j = i;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'*' {
                j += 1;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                let start = j;
                while j < bytes.len() && !bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                let count = self.number(&rest[start..j])?;
                if piece.len().saturating_mul(count) > MAX_STRING_BYTES {
                    return self.err(format!("string longer than {MAX_STRING_BYTES} bytes"));
                }
                piece = piece.repeat(count);
                i = j;
            } else if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                return self.err(format!(
                    "unexpected `{}` after a string literal",
                    &rest[i..]
                ));
            }
            total = total.saturating_add(piece.len());
            if total > MAX_STRING_BYTES {
                return self.err(format!("string longer than {MAX_STRING_BYTES} bytes"));
            }
            pieces.push(piece);
        }
        if pieces.is_empty() {
            return self.err("expected a string literal in double quotes");
        }
        Ok(pieces)
    }

    /// Decodes a literal whose opening quote is just before `start`; returns the bytes and the
    /// index after the closing quote.
    fn literal(&self, bytes: &[u8], start: usize) -> Result<(Vec<u8>, usize), ParseError> {
        let mut out = Vec::new();
        let mut i = start;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => return Ok((out, i + 1)),
                b'\\' => {
                    let Some(&esc) = bytes.get(i + 1) else { break };
                    i += 2;
                    out.push(match esc {
                        b'r' => b'\r',
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'0' => 0,
                        b'\\' => b'\\',
                        b'"' => b'"',
                        b'x' => {
                            let hex = bytes
                                .get(i..i + 2)
                                .and_then(|h| std::str::from_utf8(h).ok());
                            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                                Some(b)
                                    if hex.is_some_and(|h| {
                                        h.bytes().all(|c| c.is_ascii_hexdigit())
                                    }) =>
                                {
                                    i += 2;
                                    b
                                }
                                _ => return self.err("`\\x` must be followed by two hex digits"),
                            }
                        }
                        other => {
                            return self.err(format!(
                                "unknown escape `\\{}` (use \\r \\n \\t \\0 \\\\ \\\" or \\xHH)",
                                char::from(other).escape_default()
                            ));
                        }
                    });
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        self.err("unterminated string literal")
    }
}

/// Splits off the first whitespace-separated word; the rest is trimmed.
fn split_word(line: &str) -> (&str, &str) {
    match line.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (line, ""),
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
