//! Tests of [`Headers`](super::Headers): look-ups, the received form, lists of tokens.

use super::*;
use crate::ErrorKind;

/// The word-at-a-time comparison agrees with std's on every pair of bytes, at every
/// position and length that takes the word path, the short path and the overlapping tail.
#[test]
fn names_compare_like_eq_ignore_ascii_case() {
    for len in [1, 7, 8, 9, 14, 16, 17] {
        for at in [0, len / 2, len - 1] {
            for x in 0..=255u8 {
                for y in [
                    x,
                    x ^ 0x20,
                    x.wrapping_add(1),
                    b'a',
                    b'A',
                    b'~',
                    b'^',
                    0x80 | b'a',
                ] {
                    let mut a = b"content-length-xyz"[..len].to_vec();
                    let mut b = a.to_ascii_uppercase();
                    a[at] = x;
                    b[at] = y;
                    assert_eq!(same_name(&a, &b), a.eq_ignore_ascii_case(&b), "{a:?} {b:?}");
                }
            }
        }
    }
    assert!(!same_name(b"connection", b"connectio"));
}

#[test]
fn lookup_is_case_insensitive_and_keeps_order_and_case() {
    let mut h = Headers::new();
    h.append("Content-Type", "text/plain").unwrap();
    h.append("X-A", "1").unwrap();
    h.append("x-a", "2").unwrap();
    assert_eq!(h.get("content-type"), Some("text/plain"));
    assert_eq!(
        h.get_all("X-a").collect::<Vec<_>>(),
        vec![&b"1"[..], &b"2"[..]]
    );
    let names: Vec<_> = h.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Content-Type", "X-A", "x-a"]);
}

/// A received head answers lookups from its table (see [`Received::find`]) exactly as the
/// list form does: case-insensitively, in order, every value of a repeated name, and no
/// match for a name of the same length or a prefix.
#[test]
fn received_heads_answer_lookups_like_lists() {
    let head =
        b"Content-Length: 5\r\nX-A: 1\r\nConnection: keep-alive, Upgrade\r\nx-a: 2\r\nX-B: 3\r\n";
    let fields = [
        ("Content-Length", "5"),
        ("X-A", "1"),
        ("Connection", "keep-alive, Upgrade"),
        ("x-a", "2"),
        ("X-B", "3"),
    ];
    let mut builder = ReceivedBuilder::new(head, fields.len(), 0).unwrap();
    let text = std::str::from_utf8(head).unwrap();
    for (name, value) in fields {
        let n = text.find(&format!("{name}: {value}")).unwrap();
        let v = n + name.len() + 2;
        builder.push(n..n + name.len(), v..v + value.len());
    }
    let received = builder.finish();
    let mut list = Headers::new();
    for (name, value) in fields {
        list.append(name, value).unwrap();
    }
    for h in [&received, &list] {
        assert_eq!(h.get("content-length"), Some("5"));
        assert_eq!(h.get_all("X-A").collect::<Vec<_>>(), [&b"1"[..], &b"2"[..]]);
        // A name no other field's length shares, and one whose length others share.
        assert_eq!(h.get_all("content-length").collect::<Vec<_>>(), [&b"5"[..]]);
        assert_eq!(h.get_all("X-B").collect::<Vec<_>>(), [&b"3"[..]]);
        assert_eq!(h.get("x-b"), Some("3"));
        assert_eq!(h.get("X-C"), None, "same length, other name");
        assert_eq!(h.get("X"), None, "a prefix");
        assert_eq!(h.get("Content-Length-X"), None, "longer");
        assert!(h.contains("CONNECTION"));
        assert!(h.has_token("connection", "upgrade"));
        assert!(!h.has_token("connection", "close"));
    }
    assert_eq!(received, list);
}

#[test]
fn received_heads_find_names_of_any_length() {
    // Names of 63 bytes and longer share one bit of the lengths a head has.
    let long = format!("X-{}", "l".repeat(68));
    let head = format!("{long}: 1\r\nA: 2\r\n");
    let mut builder = ReceivedBuilder::new(head.as_bytes(), 2, 0).unwrap();
    builder.push(0..long.len(), long.len() + 2..long.len() + 3);
    let a = long.len() + 5;
    builder.push(a..a + 1, a + 3..a + 4);
    let received = builder.finish();
    assert_eq!(received.get(&long.to_uppercase()), Some("1"));
    assert_eq!(received.get("a"), Some("2"));
    assert_eq!(received.get(&format!("X-{}", "l".repeat(70))), None);
    assert_eq!(received.get(&"y".repeat(63)), None);
    assert_eq!(received.get("ab"), None);
    assert_eq!(received.get(""), None);
}

#[test]
fn set_replaces_all_in_place_and_remove_counts() {
    let mut h = Headers::new();
    h.append("A", "1").unwrap();
    h.append("B", "2").unwrap();
    h.append("a", "3").unwrap();
    h.set("A", "9").unwrap();
    assert_eq!(
        h.iter().collect::<Vec<_>>(),
        vec![("A", &b"9"[..]), ("B", &b"2"[..])]
    );
    assert_eq!(h.remove("b"), 1);
    assert_eq!(h.remove("b"), 0);
    assert_eq!(h.len(), 1);
}

#[test]
fn refuses_injection_and_bad_names() {
    let mut h = Headers::new();
    for bad in [&b"a\rb"[..], b"a\nb", b"a\0b", b"a\x7fb", b"\x01"] {
        let e = h.append("X", bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    for bad in ["", "A B", "A:B", "A\r\nB", "Ä"] {
        assert_eq!(
            h.append(bad, "v").unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad:?}"
        );
    }
    assert!(h.is_empty());
    h.append("X", "tab\tand obs-text \u{e9}").unwrap();
}

#[test]
fn debug_output_hides_credentials() {
    let mut h = Headers::new();
    h.append("Authorization", "Bearer s3cret").unwrap();
    h.append("proxy-authorization", "Basic s3cret").unwrap();
    h.append("Cookie", "sid=s3cret").unwrap();
    h.append("SET-COOKIE", "sid=s3cret").unwrap();
    h.append("Accept", "text/plain").unwrap();
    let shown = format!("{h:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(
        shown.contains("Authorization") && shown.contains("text/plain"),
        "{shown}"
    );
}

#[test]
fn tokens_in_comma_lists() {
    let mut h = Headers::new();
    h.append("Connection", "Keep-Alive, Upgrade").unwrap();
    h.append("Connection", " close ").unwrap();
    assert!(h.has_token("connection", "upgrade"));
    assert!(h.has_token("connection", "CLOSE"));
    assert!(!h.has_token("connection", "keep"));
    // One item, compared whole: its whitespace and case do not matter, a prefix or a
    // longer word is not the token.
    for (value, close) in [
        ("close", true),
        ("\tClose ", true),
        ("closed", false),
        ("clo", false),
        ("", false),
        ("keep-alive", false),
        ("keep-alive,close", true),
        ("close ,", true),
        (",", false),
    ] {
        let mut h = Headers::new();
        h.append("Connection", value).unwrap();
        assert_eq!(h.has_token("connection", "close"), close, "{value:?}");
    }
}

#[test]
fn converts_to_and_from_http_header_map() {
    let mut h = Headers::new();
    h.append("Accept", "a").unwrap();
    h.append("Accept", "b").unwrap();
    let map = http::HeaderMap::from(&h);
    assert_eq!(map.get_all("accept").iter().count(), 2);
    let back = Headers::try_from(&map).unwrap();
    assert_eq!(back.get_all("accept").count(), 2);
}
