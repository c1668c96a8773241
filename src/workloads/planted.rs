//! Planted bugs (cargo feature `planted-bugs`, off by default): small, deliberate mistakes
//! in our own nodes, of the kind people make writing them, each selected like any strategy
//! through its workload's strategy variable. They exist to test the harness: a seed sweep
//! must find each one with a checker failure (docs/planted-bugs.md lists the sweeps), and a
//! shrinker must be able to reduce such a failing run. Each bug is a few lines behind a
//! `#[cfg(feature = "planted-bugs")]` flag in its workload; a default build compiles none
//! of them and lists none.

/// One planted bug: how to select it and what it breaks.
pub struct PlantedBug {
    /// The `-w` workload whose node it breaks.
    pub workload: &'static str,
    /// The strategy variable that selects it.
    pub variable: &'static str,
    /// The variable's value (always `planted-…`).
    pub value: &'static str,
    /// The mistake, in one line.
    pub mistake: &'static str,
}

/// Every planted bug, in registry order of their workloads.
pub const PLANTED: &[PlantedBug] = &[
    PlantedBug {
        workload: "broadcast",
        variable: "GLOMERS_BROADCAST",
        value: "planted-ack-all",
        mistake: "any ack is taken as acknowledging every value sent, so values in a lost message are never resent",
    },
    PlantedBug {
        workload: "g-counter",
        variable: "GLOMERS_G_COUNTER",
        value: "planted-overwrite",
        mistake: "the crdt strategy merges a peer's counts by overwriting instead of max, so a stale count replaces a newer one",
    },
    PlantedBug {
        workload: "lin-kv",
        variable: "GLOMERS_LIN_KV",
        value: "planted-local-read",
        mistake: "every node answers reads from its own state machine, without read-index, so reads may be stale",
    },
    PlantedBug {
        workload: "kafka",
        variable: "GLOMERS_KAFKA",
        value: "planted-takeover",
        mistake: "a node cut off from a key's owner allocates the key's offsets itself, reusing the owner's",
    },
    PlantedBug {
        workload: "txn-rw-register",
        variable: "GLOMERS_TXN",
        value: "planted-every-write",
        mistake: "a commit replicates every write in op order, not each key's final one; replicas keep the first",
    },
];

/// The planted bugs, one per line (`  VAR=value  workload: mistake`), for help texts.
pub fn help_lines() -> String {
    let mut text = String::new();
    for bug in PLANTED {
        let selector = format!("{}={}", bug.variable, bug.value);
        text.push_str(&format!(
            "  {selector:<38} {}: {}\n",
            bug.workload, bug.mistake
        ));
    }
    text
}
