//! The bounds on what a server may make a client read and keep.

/// Bounds on what a server may make the client read and keep, so that no response can make a
/// call buffer without bound or run forever. Set them with the
/// [`ClientBuilder`](crate::ClientBuilder)'s `max_*` methods, whose docs give the defaults. A
/// response over a limit fails with an error whose [`Error::limit`](crate::Error::limit) names
/// it ([`Limit`](crate::Limit)).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest response head in bytes: the status line and fields with their line ends, any
    /// empty lines before the status line, and every interim (1xx) head that came before the
    /// final one (`Limit::HeadBytes`). OkHttp counts the same way, with the same 256 KiB.
    pub max_head_bytes: usize,
    /// Most header fields in one response head or trailer section, if limited
    /// (`Limit::HeaderFields`). By default only the head's size limits them.
    pub max_headers: Option<usize>,
    /// Most interim (1xx) responses before the final one (`Limit::InterimResponses`).
    pub max_interim_responses: usize,
    /// Longest chunk-size line of a chunked body, without its line end: the size's hex digits
    /// and any chunk extensions (`Limit::ChunkExtension`). Extensions are skipped, never kept;
    /// the bound stops a server from stalling a body with an endless size line.
    pub max_chunk_extension_bytes: usize,
    /// Largest trailer section of a chunked body, in bytes (`Limit::TrailerBytes`).
    pub max_trailer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 256 * 1024,
            max_headers: None,
            max_interim_responses: 16,
            max_chunk_extension_bytes: 4 * 1024,
            max_trailer_bytes: 256 * 1024,
        }
    }
}
