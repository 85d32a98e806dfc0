//! HTTP/1.1 framing: the request encoder and the incremental response decoder.
//!
//! Pure functions and small state machines over byte slices; the [`Call`](crate::Call) feeds
//! them the bytes its connection received and sends what they encode.

pub(crate) mod body;
pub(crate) mod chunked;
pub(crate) mod encode;
pub(crate) mod framing;
pub(crate) mod head;
pub(crate) mod head_syntax;
pub(crate) mod head_syntax_oracle;
