//! Maelstrom's error codes (MAELSTROM.md §1.6): number, name, and whether the failure is
//! *definite* (the operation surely did not and will not happen).
//!
//! Shared by the node core (which sends `error` replies) and the harness clients (which
//! turn error replies into `fail` or `info` history ops).

/// One of Maelstrom's reserved error codes, or a code it does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0: the operation did not finish within some deadline. Indefinite.
    Timeout,
    /// 1: the request was addressed to a node that does not exist. Definite.
    NodeNotFound,
    /// 10: the operation is not implemented. Definite.
    NotSupported,
    /// 11: cannot serve right now; the operation surely did not happen. Definite.
    TemporarilyUnavailable,
    /// 12: the request was invalid and could not have been processed. Definite.
    MalformedRequest,
    /// 13: generic indefinite failure. Always safe to return.
    Crash,
    /// 14: generic definite failure.
    Abort,
    /// 20: the key does not exist. Definite.
    KeyDoesNotExist,
    /// 21: the key already exists. Definite.
    KeyAlreadyExists,
    /// 22: a precondition (e.g. a cas `from`) failed. Definite.
    PreconditionFailed,
    /// 30: the transaction was aborted because of a conflict. Definite.
    TxnConflict,
    /// Any other code (including ≥ 1000, user-defined): treated as `unknown`, indefinite.
    Other(u64),
}

impl ErrorCode {
    /// Every reserved code, in numeric order.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::Timeout,
        ErrorCode::NodeNotFound,
        ErrorCode::NotSupported,
        ErrorCode::TemporarilyUnavailable,
        ErrorCode::MalformedRequest,
        ErrorCode::Crash,
        ErrorCode::Abort,
        ErrorCode::KeyDoesNotExist,
        ErrorCode::KeyAlreadyExists,
        ErrorCode::PreconditionFailed,
        ErrorCode::TxnConflict,
    ];

    /// The code for a number found in an `error` body.
    pub fn from_code(code: u64) -> ErrorCode {
        match code {
            0 => ErrorCode::Timeout,
            1 => ErrorCode::NodeNotFound,
            10 => ErrorCode::NotSupported,
            11 => ErrorCode::TemporarilyUnavailable,
            12 => ErrorCode::MalformedRequest,
            13 => ErrorCode::Crash,
            14 => ErrorCode::Abort,
            20 => ErrorCode::KeyDoesNotExist,
            21 => ErrorCode::KeyAlreadyExists,
            22 => ErrorCode::PreconditionFailed,
            30 => ErrorCode::TxnConflict,
            other => ErrorCode::Other(other),
        }
    }

    /// The number sent on the wire.
    pub fn code(self) -> u64 {
        match self {
            ErrorCode::Timeout => 0,
            ErrorCode::NodeNotFound => 1,
            ErrorCode::NotSupported => 10,
            ErrorCode::TemporarilyUnavailable => 11,
            ErrorCode::MalformedRequest => 12,
            ErrorCode::Crash => 13,
            ErrorCode::Abort => 14,
            ErrorCode::KeyDoesNotExist => 20,
            ErrorCode::KeyAlreadyExists => 21,
            ErrorCode::PreconditionFailed => 22,
            ErrorCode::TxnConflict => 30,
            ErrorCode::Other(code) => code,
        }
    }

    /// Maelstrom's keyword name, as it appears in a history's `:error`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Timeout => "timeout",
            ErrorCode::NodeNotFound => "node-not-found",
            ErrorCode::NotSupported => "not-supported",
            ErrorCode::TemporarilyUnavailable => "temporarily-unavailable",
            ErrorCode::MalformedRequest => "malformed-request",
            ErrorCode::Crash => "crash",
            ErrorCode::Abort => "abort",
            ErrorCode::KeyDoesNotExist => "key-does-not-exist",
            ErrorCode::KeyAlreadyExists => "key-already-exists",
            ErrorCode::PreconditionFailed => "precondition-failed",
            ErrorCode::TxnConflict => "txn-conflict",
            ErrorCode::Other(_) => "unknown",
        }
    }

    /// True when the operation surely did not and will not happen.
    pub fn is_definite(self) -> bool {
        !matches!(
            self,
            ErrorCode::Timeout | ErrorCode::Crash | ErrorCode::Other(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn codes_round_trip_and_match_the_table() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), code);
        }
        let definite: Vec<u64> = ErrorCode::ALL
            .iter()
            .filter(|c| c.is_definite())
            .map(|c| c.code())
            .collect();
        assert_eq!(definite, vec![1, 10, 11, 12, 14, 20, 21, 22, 30]);
        assert_eq!(ErrorCode::from_code(1000), ErrorCode::Other(1000));
        assert_eq!(ErrorCode::Other(1000).name(), "unknown");
        assert!(!ErrorCode::Other(5).is_definite());
        assert_eq!(
            ErrorCode::TemporarilyUnavailable.name(),
            "temporarily-unavailable"
        );
    }
}
