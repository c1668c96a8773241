//! Wire format: line framing, simd-json parsing into arena-backed views, the JSON writer,
//! and Maelstrom's error codes. Nothing here knows about nodes or workloads.

pub mod batch;
pub mod error_code;
pub mod framing;
pub mod json;
pub mod parse;
pub mod writer;

pub use batch::Batch;
pub use error_code::ErrorCode;
pub use framing::{Frame, LineFramer, WholeLines};
pub use json::{Json, JsonKind};
pub use parse::Parser;
pub use writer::{ArrayWriter, ObjectWriter};
