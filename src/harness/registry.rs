//! The one list of workloads. Each Maelstrom workload appears here once, with everything
//! the harness needs to run it: the in-process node (`--sim`), built exactly as its binary
//! builds it (the same constructor, the same environment variables), the generator and
//! client, the checker, and the Gossip Glomers challenges it serves.
//!
//! Everything else derives from this list: `-w` validation and `glomers test --help`,
//! "not supported" errors, `glomers challenges` (which scripts/maelstrom.sh reads), the
//! fuzz and simulation test lists; tests check the README's challenge table against it.
//!
//! Adding a workload: its node module (src/workloads), its binary (src/bin), its
//! generator/client module (src/harness/clients), its checker (src/harness/checkers), and
//! one entry below.

use crate::harness::checkers::{self, Checker};
use crate::harness::clients::{self, ClientSide, WorkloadOptions};
use crate::node::{DynNode, NodeCore};
use crate::workloads::{
    Broadcast, Echo, GCounter, GSet, Kafka, LinKv, ListAppend, PnCounter, TxnRwRegister, UniqueIds,
};

/// Builds a workload's generator and clients for a test, or says why its options do not
/// suit the workload (lin-kv's concurrency must be a multiple of 2n).
pub type ClientsFactory = fn(&WorkloadOptions) -> Result<ClientSide, String>;

/// One workload: what `-w NAME` runs.
pub struct WorkloadSpec {
    /// The `-w` name, also the name of its binary in `target/release/`.
    pub name: &'static str,
    /// The environment variable that selects its node's strategy, if it has strategies.
    pub strategy_env: Option<&'static str>,
    /// Our node, in process (`--sim`); `None` until we have one.
    pub node: Option<fn(seed: u64) -> Box<dyn DynNode>>,
    /// Its generator and clients, or why the options do not suit it; `None` where the
    /// harness cannot drive it yet.
    pub clients: Option<ClientsFactory>,
    /// Its checker (Jepsen's, MAELSTROM.md §3).
    pub checker: fn() -> Box<dyn Checker>,
    /// Whether client setup sends each node a `topology` (only broadcast, §2.1).
    pub sends_topology: bool,
    /// The Gossip Glomers challenges (and Maelstrom chapters) that run it.
    pub challenges: &'static [Challenge],
}

/// One challenge: an id (`3d`) and its exact flags (MAELSTROM.md §6).
pub struct Challenge {
    /// Fly.io's challenge number, or a chapter name.
    pub id: &'static str,
    /// The flags after `-w NAME` and before `--bin`.
    pub flags: &'static str,
    /// A strategy preset the challenge selects through [`WorkloadSpec::strategy_env`]
    /// unless the user set that variable.
    pub preset: Option<&'static str>,
}

const fn challenge(id: &'static str, flags: &'static str) -> Challenge {
    Challenge {
        id,
        flags,
        preset: None,
    }
}

/// Every workload Maelstrom knows, in the order of its docs.
pub const WORKLOADS: &[WorkloadSpec] = &[
    WorkloadSpec {
        name: "echo",
        strategy_env: None,
        node: Some(|seed| Box::new(NodeCore::new(Echo, seed))),
        clients: Some(|_| Ok(clients::echo())),
        checker: || Box::new(checkers::echo::Echo),
        sends_topology: false,
        challenges: &[challenge("1", "--node-count 1 --time-limit 10")],
    },
    WorkloadSpec {
        name: "unique-ids",
        strategy_env: None,
        node: Some(|seed| Box::new(NodeCore::new(UniqueIds::default(), seed))),
        clients: Some(|_| Ok(clients::unique_ids())),
        checker: || Box::new(checkers::unique_ids::UniqueIds),
        sends_topology: false,
        challenges: &[challenge(
            "2",
            "--time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition",
        )],
    },
    WorkloadSpec {
        name: "broadcast",
        strategy_env: Some("GLOMERS_BROADCAST"),
        node: Some(|seed| Box::new(NodeCore::new(Broadcast::from_env(), seed))),
        clients: Some(|options| Ok(clients::broadcast(options))),
        checker: || {
            Box::new(checkers::set_full::SetFull {
                rename_from: Some("broadcast"),
            })
        },
        sends_topology: true,
        challenges: &[
            challenge("3a", "--node-count 1 --time-limit 20 --rate 10"),
            challenge("3b", "--node-count 5 --time-limit 20 --rate 10"),
            challenge(
                "3c",
                "--node-count 5 --time-limit 20 --rate 10 --nemesis partition",
            ),
            Challenge {
                id: "3d",
                flags: "--node-count 25 --time-limit 20 --rate 100 --latency 100",
                preset: Some("3d"),
            },
            Challenge {
                id: "3e",
                flags: "--node-count 25 --time-limit 20 --rate 100 --latency 100",
                preset: Some("3e"),
            },
        ],
    },
    WorkloadSpec {
        name: "g-set",
        strategy_env: None,
        node: Some(|seed| Box::new(NodeCore::new(GSet::from_env(), seed))),
        clients: Some(|options| Ok(clients::g_set(options))),
        checker: || Box::new(checkers::set_full::SetFull { rename_from: None }),
        sends_topology: false,
        challenges: &[challenge(
            "g-set",
            "--node-count 5 --time-limit 20 --rate 10 --nemesis partition",
        )],
    },
    WorkloadSpec {
        name: "g-counter",
        strategy_env: Some("GLOMERS_G_COUNTER"),
        node: Some(|seed| Box::new(NodeCore::new(GCounter::from_env(), seed))),
        clients: Some(|_| Ok(clients::counters(false))),
        checker: || Box::new(checkers::counter::Counter),
        sends_topology: false,
        challenges: &[challenge(
            "4",
            "--node-count 3 --rate 100 --time-limit 20 --nemesis partition",
        )],
    },
    WorkloadSpec {
        name: "pn-counter",
        strategy_env: None,
        node: Some(|seed| Box::new(NodeCore::new(PnCounter::from_env(), seed))),
        clients: Some(|_| Ok(clients::counters(true))),
        checker: || Box::new(checkers::counter::Counter),
        sends_topology: false,
        challenges: &[challenge(
            "pn-counter",
            "--node-count 3 --time-limit 20 --rate 10 --nemesis partition",
        )],
    },
    WorkloadSpec {
        name: "lin-kv",
        // Only the planted bug (docs/planted-bugs.md) makes lin-kv a strategy.
        strategy_env: if cfg!(feature = "planted-bugs") {
            Some("GLOMERS_LIN_KV")
        } else {
            None
        },
        node: Some(|seed| Box::new(NodeCore::new(LinKv::from_env(), seed))),
        clients: Some(clients::lin_kv),
        checker: || Box::new(checkers::lin_kv::LinKv),
        sends_topology: false,
        challenges: &[challenge(
            "lin-kv",
            "--node-count 3 --concurrency 2n --time-limit 20 --rate 10 --nemesis partition",
        )],
    },
    WorkloadSpec {
        name: "kafka",
        strategy_env: Some("GLOMERS_KAFKA"),
        node: Some(|seed| Box::new(NodeCore::new(Kafka::from_env(), seed))),
        clients: Some(|options| Ok(clients::kafka(options))),
        checker: || Box::new(checkers::kafka::Kafka),
        sends_topology: false,
        challenges: &[
            challenge(
                "5a",
                "--node-count 1 --concurrency 2n --time-limit 20 --rate 1000",
            ),
            challenge(
                "5b",
                "--node-count 2 --concurrency 2n --time-limit 20 --rate 1000",
            ),
            challenge(
                "5c",
                "--node-count 2 --concurrency 2n --time-limit 20 --rate 1000",
            ),
        ],
    },
    WorkloadSpec {
        name: "txn-list-append",
        strategy_env: Some("GLOMERS_LIST_APPEND"),
        node: Some(|seed| Box::new(NodeCore::new(ListAppend::from_env(), seed))),
        clients: Some(|options| Ok(clients::list_append(options))),
        checker: || Box::new(checkers::list_append::ListAppend),
        sends_topology: false,
        challenges: &[challenge(
            "txn-list-append",
            "--node-count 2 --time-limit 10 --rate 100",
        )],
    },
    WorkloadSpec {
        name: "txn-rw-register",
        strategy_env: Some("GLOMERS_TXN"),
        node: Some(|seed| Box::new(NodeCore::new(TxnRwRegister::from_env(), seed))),
        clients: Some(|options| Ok(clients::rw_register(options))),
        checker: || Box::new(checkers::rw_register::RwRegister),
        sends_topology: false,
        challenges: &[
            challenge(
                "6a",
                "--node-count 1 --time-limit 20 --rate 1000 --concurrency 2n --consistency-models read-uncommitted --availability total",
            ),
            challenge(
                "6b",
                "--node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-uncommitted",
            ),
            challenge(
                "6b-partition",
                "--node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-uncommitted --availability total --nemesis partition",
            ),
            challenge(
                "6c",
                "--node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-committed --availability total --nemesis partition",
            ),
        ],
    },
];

/// The workload named `name` (a `-w` value).
pub fn find(name: &str) -> Option<&'static WorkloadSpec> {
    WORKLOADS.iter().find(|w| w.name == name)
}

/// Every `-w` name, in registry order.
pub fn names() -> impl Iterator<Item = &'static str> {
    WORKLOADS.iter().map(|w| w.name)
}

/// The workloads `glomers test` can drive (with a node binary of the user's).
pub fn runnable() -> impl Iterator<Item = &'static WorkloadSpec> {
    WORKLOADS.iter().filter(|w| w.clients.is_some())
}

/// The workloads `--sim` can run: drivable, with an in-process node of ours.
pub fn simulated() -> impl Iterator<Item = &'static WorkloadSpec> {
    runnable().filter(|w| w.node.is_some())
}

/// `names` joined by ", ", for help texts and errors.
pub fn list(names: impl Iterator<Item = &'static str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// The workload name closest to a mistyped `name`, for a "did you mean" hint: the fewest
/// single-character edits (Levenshtein), when at most a third of the name (and at least
/// 2) need changing, so a typo finds its workload and a word from elsewhere finds none.
pub fn closest(name: &str) -> Option<&'static str> {
    let allowed = (name.chars().count() / 3).max(2);
    names()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over chars (one row of the table; names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The challenge with this id, and its workload.
pub fn challenge_by_id(id: &str) -> Option<(&'static WorkloadSpec, &'static Challenge)> {
    WORKLOADS
        .iter()
        .flat_map(|w| w.challenges.iter().map(move |c| (w, c)))
        .find(|(_, c)| c.id == id)
}

/// The checker of a Maelstrom workload, if it is one.
pub fn checker(workload: &str) -> Option<Box<dyn checkers::Checker>> {
    find(workload).map(|spec| (spec.checker)())
}

/// Maelstrom's full results map for `input` with its workload's checker (see
/// [`checkers::analyze_with`]).
pub fn analyze(input: &checkers::CheckInput) -> simd_json::OwnedValue {
    checkers::analyze_with(input, checker(input.workload).as_deref())
}
