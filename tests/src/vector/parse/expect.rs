//! The `[expect call N]` and `[expect origin]` lines.

use super::*;

impl Parser<'_> {
    pub(super) fn expect_call_line(
        &self,
        line: &str,
        expect: &mut CallExpect,
    ) -> Result<(), ParseError> {
        let (key, rest) = split_word(line);
        let once = |present: bool| {
            if present {
                self.err(format!("`{key}` is given twice"))
            } else {
                Ok(())
            }
        };
        match key {
            "status" => {
                once(expect.status.is_some())?;
                let status: u16 = self.number(rest)?.try_into().unwrap_or(0);
                if !(100..=999).contains(&status) {
                    return self.err(format!("a status is three digits, not `{rest}`"));
                }
                expect.status = Some(status);
            }
            "reason" => {
                once(expect.reason.is_some())?;
                expect.reason = Some(self.utf8(self.string(rest)?)?);
            }
            "version" => {
                once(expect.version.is_some())?;
                if rest != "HTTP/1.0" && rest != "HTTP/1.1" {
                    return self.err(format!("`version` is HTTP/1.0 or HTTP/1.1, not `{rest}`"));
                }
                expect.version = Some(rest.to_string());
            }
            "header" => {
                let (name, value) = self.header(rest)?;
                expect.headers.push((name, value.into_bytes()));
            }
            "no-header" => {
                self.header_name(rest)?;
                expect.no_headers.push(rest.to_string());
            }
            "body" => {
                once(expect.body.is_some())?;
                expect.body = Some(self.string(rest)?);
            }
            "body-len" => {
                once(expect.body_len.is_some())?;
                expect.body_len = Some(self.number(rest)?);
            }
            "url" => {
                once(expect.url.is_some())?;
                expect.url = Some(self.utf8(self.string(rest)?)?);
            }
            "prior" => {
                once(expect.prior.is_some())?;
                let statuses = if rest == "none" {
                    Vec::new()
                } else if rest.is_empty() {
                    return self.err("`prior` takes statuses (most recent first) or `none`");
                } else {
                    rest.split_whitespace()
                        .map(|word| match self.number(word)?.try_into() {
                            Ok(status @ 100..=999) => Ok(status),
                            _ => self.err(format!("a status is three digits, not `{word}`")),
                        })
                        .collect::<Result<Vec<u16>, _>>()?
                };
                expect.prior = Some(statuses);
            }
            "error" => {
                once(expect.error.is_some())?;
                let (kind, text) = split_word(rest);
                if !ERROR_KINDS.contains(&kind) {
                    return self.err(format!(
                        "unknown error kind `{kind}` (one of {})",
                        ERROR_KINDS.join(", ")
                    ));
                }
                let text = if text.is_empty() {
                    None
                } else {
                    Some(self.utf8(self.string(text)?)?)
                };
                expect.error = Some((kind.to_string(), text));
            }
            "cache" => {
                once(expect.cache.is_some())?;
                if !super::super::cache::SOURCES.contains(&rest) {
                    return self.err(format!(
                        "`cache` is one of {}, not `{rest}`",
                        super::super::cache::SOURCES.join(", ")
                    ));
                }
                expect.cache = Some(rest.to_string());
            }
            _ => return self.err(format!("unknown call expectation `{key}`")),
        }
        Ok(())
    }

    pub(super) fn expect_origin_line(&self, line: &str) -> Result<OriginExpect, ParseError> {
        let (key, rest) = split_word(line);
        Ok(match key {
            "connections" => OriginExpect::Connections(self.number(rest)?),
            "requests" => OriginExpect::Requests(self.number(rest)?),
            "closed-by-client" => OriginExpect::ClosedByClient(self.positive(rest)?),
            "request" => {
                let (n, rest) = split_word(rest);
                let request = self.positive(n)?;
                let (what, rest) = split_word(rest);
                match what {
                    "conn" => OriginExpect::RequestConn {
                        request,
                        conn: self.positive(rest)?,
                    },
                    "line" => OriginExpect::RequestLine {
                        request,
                        line: self.utf8(self.string(rest)?)?,
                    },
                    "header" => {
                        let (name, value) = self.header(rest)?;
                        OriginExpect::RequestHeader {
                            request,
                            name,
                            value: value.into_bytes(),
                        }
                    }
                    "no-header" => {
                        self.header_name(rest)?;
                        OriginExpect::RequestNoHeader {
                            request,
                            name: rest.to_string(),
                        }
                    }
                    "body" => OriginExpect::RequestBody {
                        request,
                        body: self.string(rest)?,
                    },
                    "raw-body" => OriginExpect::RequestRawBody {
                        request,
                        raw: self.string(rest)?,
                    },
                    _ => {
                        return self
                            .err(format!("unknown request expectation `request {n} {what}`"));
                    }
                }
            }
            _ => return self.err(format!("unknown origin expectation `{key}`")),
        })
    }
}
