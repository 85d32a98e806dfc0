//! A one-entry, per-thread memo of the last URL text parsed (and checked) for a request.
//!
//! Why it exists: `Url::parse` is about a fifth of the instructions of a small keep-alive GET
//! (IDNA processing of the host, the IPv4 parse, writing the serialization back), and callers
//! very often build request after request from the same text: a polling loop, one API endpoint,
//! a benchmark. Parsing without a base URL is a pure function of the text, so a copy of the last
//! result is the same value, for the price of comparing the text and copying the serialization
//! (the one allocation a parse makes anyway).
//!
//! One entry per thread: no lock, nothing shared between threads, and memory bounded by one URL
//! of at most [`MAX_KEPT`] bytes per thread that has parsed one. Failed parses are not kept.

use std::cell::RefCell;

use url::Url;

/// Texts longer than this are parsed every time and not kept.
const MAX_KEPT: usize = 2048;

/// The last text parsed and its URL.
struct Last {
    /// The text, when it differs from the URL's serialization (`None`: the text *is*
    /// `url.as_str()`, as for most URLs written in canonical form, so nothing more is stored).
    text: Option<Box<str>>,
    url: Url,
}

impl Last {
    fn text(&self) -> &str {
        self.text.as_deref().unwrap_or(self.url.as_str())
    }
}

thread_local! {
    static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
}

/// `Url::parse(text)`, answered from the memo when `text` is the text parsed last on this
/// thread.
#[cfg(test)]
pub(crate) fn parse(text: &str) -> Result<Url, url::ParseError> {
    parse_then(text, |parsed| parsed)
}

/// `then(Url::parse(text))`, answered from the memo when `text` is the text parsed last on this
/// thread. Only what `then` returns `Ok` is kept, so a hit skips it too: `IntoUrl` checks (and
/// may rewrite) each URL it parses, and a request built again from the same text need not be
/// checked again. The one caller outside tests passes the same `then` every time; a memo shared
/// by callers with different ones would answer one with another's result.
pub(crate) fn parse_then<E>(
    text: &str,
    then: impl FnOnce(Result<Url, url::ParseError>) -> Result<Url, E>,
) -> Result<Url, E> {
    if text.len() > MAX_KEPT {
        return then(Url::parse(text));
    }
    // `try_with`: a request built while this thread's locals are being destroyed (from another
    // local's destructor) is parsed without the memo rather than panicking.
    let hit = LAST.try_with(|last| match &*last.borrow() {
        Some(last) if last.text() == text => Some(last.url.clone()),
        _ => None,
    });
    if let Ok(Some(url)) = hit {
        return Ok(url);
    }
    let url = then(Url::parse(text))?;
    let kept = Last {
        text: (url.as_str() != text).then(|| text.into()),
        url: url.clone(),
    };
    let _ = LAST.try_with(|last| *last.borrow_mut() = Some(kept));
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every answer, hit or miss, equals a fresh parse, in any order of texts, including texts
    /// whose serialization differs from them and texts that fail.
    #[test]
    fn answers_equal_a_fresh_parse() {
        let long = format!("http://example.com/{}", "a".repeat(MAX_KEPT));
        let texts = [
            "http://127.0.0.1:8080/tiny.txt",
            "http://127.0.0.1:8080/tiny.txt",
            "HTTP://Example.COM:80/a/../b?q",
            "HTTP://Example.COM:80/a/../b?q",
            "http://example.com:80/b?q",
            "http://example.com/b?q",
            "http://example.com/b?q",
            "not a url",
            "http://127.0.0.1:8080/tiny.txt",
            "http://[::1]:9/x",
            "not a url",
            long.as_str(),
            long.as_str(),
            "http://[::1]:9/x",
        ];
        for text in texts {
            let fresh = Url::parse(text);
            let memo = parse(text);
            assert_eq!(memo, fresh, "{text:?}");
            if let Ok(url) = memo {
                assert_eq!(url.as_str(), fresh.unwrap().as_str());
            }
        }
    }

    /// The memo keeps the text as given, not the serialization: a text that differs from the
    /// last one's serialization is parsed again rather than answered with it.
    #[test]
    fn keys_on_the_text_given() {
        let first = parse("http://EXAMPLE.com").unwrap();
        assert_eq!(first.as_str(), "http://example.com/");
        // The serialization of the first text, itself a different text: parsed on its own.
        assert_eq!(parse("http://example.com/").unwrap(), first);
        assert_eq!(parse("http://EXAMPLE.com/x").unwrap().path(), "/x");
        assert_eq!(parse("http://EXAMPLE.com").unwrap().path(), "/");
    }

    /// What `then` returns is what is kept and answered; what it rejects is not kept.
    #[test]
    fn keeps_what_then_makes_of_the_url() {
        let rewrite = |parsed: Result<Url, url::ParseError>| -> Result<Url, ()> {
            let mut url = parsed.map_err(|_| ())?;
            if url.scheme() == "ftp" {
                return Err(());
            }
            url.set_path("/rewritten");
            Ok(url)
        };
        let first = parse_then("http://c.example/x", rewrite).unwrap();
        assert_eq!(first.path(), "/rewritten");
        // Answered from the memo: `then` does not run again.
        let again = parse_then("http://c.example/x", |_| -> Result<Url, ()> {
            unreachable!("answered from the memo")
        });
        assert_eq!(again, Ok(first));
        assert_eq!(parse_then("ftp://c.example/x", rewrite), Err(()));
        LAST.with(|last| {
            let last = last.borrow();
            assert_eq!(last.as_ref().map(Last::text), Some("http://c.example/x"));
        });
    }

    /// A text too long to keep leaves the entry before it in place.
    #[test]
    fn long_texts_are_not_kept() {
        parse("http://a.example/").unwrap();
        let long = format!("http://b.example/{}", "b".repeat(MAX_KEPT));
        parse(&long).unwrap();
        LAST.with(|last| {
            let last = last.borrow();
            assert_eq!(last.as_ref().map(Last::text), Some("http://a.example/"));
        });
    }
}
