//! Wire format: line framing, JSON views, the JSON writer, Maelstrom error codes.
pub mod error_code;
