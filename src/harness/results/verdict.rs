//! What a verdict means outside the checkers: the line Maelstrom logs after the results
//! and the process exit status (MAELSTROM.md §5.5, §7.3).

use crate::harness::checkers::Validity;

/// Exit status for bad arguments.
pub const EXIT_BAD_ARGS: i32 = 254;
/// Exit status for a crash or internal error.
pub const EXIT_CRASH: i32 = 255;

/// The verdict line Maelstrom logs after the results (§7.3).
pub fn verdict_line(validity: Validity) -> &'static str {
    match validity {
        Validity::Valid => "Everything looks good! ヽ(‘ー`)ノ",
        Validity::Invalid => "Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻",
        Validity::Unknown => "Errors occurred during analysis, but no anomalies found. ಠ~ಠ",
    }
}

/// The process exit status Maelstrom uses for a verdict: 0 valid, 1 invalid, 2 unknown.
pub fn exit_code(validity: Validity) -> i32 {
    match validity {
        Validity::Valid => 0,
        Validity::Invalid => 1,
        Validity::Unknown => 2,
    }
}
