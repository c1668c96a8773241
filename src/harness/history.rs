//! The history of a test: every client and nemesis operation, in the order the harness
//! observed it, exactly as Jepsen records it (MAELSTROM.md §2.5).
//!
//! This is the contract between the test runner (which appends ops as workers invoke and
//! complete them) and the checkers (which read the finished history). Values are kept as
//! JSON (`simd_json::OwnedValue`) because Maelstrom's op values are arbitrary data.

use simd_json::OwnedValue;

/// What an op record says happened (Jepsen's `:type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpType {
    /// The operation was started.
    Invoke,
    /// It definitely happened.
    Ok,
    /// It definitely did not happen.
    Fail,
    /// Unknown: it may or may not have happened.
    Info,
}

impl OpType {
    /// The name Jepsen prints (`:invoke` without the colon).
    pub fn name(self) -> &'static str {
        match self {
            OpType::Invoke => "invoke",
            OpType::Ok => "ok",
            OpType::Fail => "fail",
            OpType::Info => "info",
        }
    }
}

/// Who performed an op: a client process number, or the nemesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    /// Worker process `p`; thread `p % concurrency` runs it (MAELSTROM.md §2.2).
    Client(u64),
    /// The partition nemesis.
    Nemesis,
}

/// One history event.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// Position in the history, 0-based and dense.
    pub index: u64,
    /// Nanoseconds since the start of the main phase (relative time).
    pub time_ns: u64,
    /// invoke / ok / fail / info.
    pub op_type: OpType,
    /// Client process or nemesis.
    pub process: Process,
    /// The operation's function, e.g. `"read"`, `"broadcast"`, `"start-partition"`.
    pub f: String,
    /// The op's value (`null` where Jepsen has `nil`).
    pub value: OwnedValue,
    /// Jepsen's `:error`, when the op failed or is indeterminate.
    pub error: Option<OwnedValue>,
    /// Jepsen's `:exception` (a `Throwable->map`-like `{via [{type message}] cause}`), when
    /// the client threw: a reply that failed its schema, or an error reply of a workload
    /// without error wrapper. The exceptions checker counts these.
    pub exception: Option<OwnedValue>,
    /// Jepsen's `:final?` flag, set on final-phase reads.
    pub is_final: bool,
}

/// A whole history: ops in index order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The ops, `ops[i].index == i`.
    pub ops: Vec<Op>,
}

impl History {
    /// Appends an op, assigning the next index. Returns that index.
    pub fn push(
        &mut self,
        time_ns: u64,
        op_type: OpType,
        process: Process,
        f: &str,
        value: OwnedValue,
    ) -> u64 {
        let index = self.ops.len() as u64;
        self.ops.push(Op {
            index,
            time_ns,
            op_type,
            process,
            f: f.to_string(),
            value,
            error: None,
            exception: None,
            is_final: false,
        });
        index
    }

    /// Client ops only (nemesis ops removed), as most checkers want them.
    pub fn client_ops(&self) -> impl Iterator<Item = &Op> {
        self.ops.iter().filter(|op| op.process != Process::Nemesis)
    }

    /// Pairs each client invocation with its completion (by process), in invocation order.
    /// An invocation with no completion (the test ended first) is paired with `None`.
    pub fn pairs(&self) -> Vec<(&Op, Option<&Op>)> {
        let mut open: ahash::AHashMap<Process, usize> = ahash::AHashMap::new();
        let mut pairs: Vec<(&Op, Option<&Op>)> = Vec::new();
        for op in self.client_ops() {
            if op.op_type == OpType::Invoke {
                open.insert(op.process, pairs.len());
                pairs.push((op, None));
            } else if let Some(slot) = open.remove(&op.process) {
                pairs[slot].1 = Some(op);
            }
        }
        pairs
    }
}
