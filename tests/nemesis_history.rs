//! Nemesis ops in the history have Maelstrom's shape (MAELSTROM.md §2.5): both the
//! invocation and the completion are `:type :info`, and a partition's completion names
//! every node with the SET of nodes it drops,
//! `[:isolated {"n1" #{"n2" "n3"}, "n2" #{"n1"}, "n3" #{"n1"}}]` (Jepsen's
//! `complete-grudge`), as in the real runs under tests/fixtures/maelstrom-runs.

use std::path::{Path, PathBuf};

use glomers::harness::edn::{Edn, parse, parse_all};
use glomers::harness::history::{OpType, Process};
use glomers::harness::results::{history_edn_line, history_txt_line};
use glomers::harness::session::{Outcome, Sinks, execute, test_config};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/maelstrom-runs");

fn run() -> Outcome {
    let flags = [
        "-w",
        "g-set",
        "--sim",
        "--node-count",
        "3",
        "--time-limit",
        "10",
        "--rate",
        "10",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--recovery-time",
        "1",
        "--seed",
        "5",
    ];
    let config = test_config(&flags, 0).expect("config");
    let sinks = Sinks {
        journal: None,
        node_logs: Path::new(""),
    };
    execute(&config, sinks).expect("run")
}

/// A map's value under keyword `key`.
fn field<'a>(op: &'a Edn, key: &str) -> Option<&'a Edn> {
    let Edn::Map(pairs) = op else { return None };
    pairs
        .iter()
        .find(|(k, _)| *k == Edn::Keyword(key.to_string()))
        .map(|(_, v)| v)
}

/// What a nemesis op line looks like, with the particular nodes and times left out:
/// its keys in order, its type, its f, and the kind of value.
fn shape(op: &Edn) -> String {
    let Edn::Map(pairs) = op else {
        return "not a map".to_string();
    };
    let keys: Vec<String> = pairs.iter().map(|(k, _)| format!("{k:?}")).collect();
    let value = match field(op, "value") {
        Some(Edn::Nil) => "nil".to_string(),
        Some(Edn::Keyword(k)) if k == "network-healed" => ":network-healed".to_string(),
        Some(Edn::Keyword(_)) => "a shape keyword".to_string(),
        Some(Edn::Vector(items)) => match items.as_slice() {
            [Edn::Keyword(tag), Edn::Map(grudge)] => {
                let sets = grudge
                    .iter()
                    .all(|(k, v)| matches!(k, Edn::Str(_)) && matches!(v, Edn::Set(_)));
                format!(":{tag} with node -> set-of-nodes: {sets}")
            }
            other => format!("vector {other:?}"),
        },
        other => format!("{other:?}"),
    };
    format!(
        "{keys:?} {:?} {:?} {value}",
        field(op, "type"),
        field(op, "f")
    )
}

fn nemesis_shapes(lines: impl Iterator<Item = Edn>) -> Vec<String> {
    let mut shapes: Vec<String> = lines
        .filter(|op| field(op, "process") == Some(&Edn::Keyword("nemesis".into())))
        .map(|op| shape(&op))
        .collect();
    shapes.sort();
    shapes.dedup();
    shapes
}

#[test]
fn nemesis_ops_are_info_pairs_with_grudges_of_sets_like_maelstrom() {
    let outcome = run();
    let nemesis: Vec<_> = outcome
        .history
        .ops
        .iter()
        .filter(|op| op.process == Process::Nemesis)
        .collect();
    assert!(nemesis.len() >= 4, "the nemesis ran: {nemesis:?}");
    assert!(
        nemesis.iter().all(|op| op.op_type == OpType::Info),
        "Maelstrom writes nemesis invocations as :info too"
    );
    for pair in nemesis.chunks(2) {
        assert_eq!(pair.len(), 2, "nemesis ops come in pairs");
        assert_eq!(pair[0].f, pair[1].f);
    }

    let ours: Vec<Edn> = outcome
        .history
        .ops
        .iter()
        .map(|op| parse(&history_edn_line(op)).expect("our line parses"))
        .collect();
    // Every completion of a partition lists all three nodes, each with a set.
    let mut grudges = 0;
    for op in &ours {
        if let Some(Edn::Vector(items)) = field(op, "value")
            && let [Edn::Keyword(tag), Edn::Map(grudge)] = items.as_slice()
            && tag == "isolated"
        {
            grudges += 1;
            let names: Vec<&Edn> = grudge.iter().map(|(k, _)| k).collect();
            assert_eq!(names.len(), 3, "every node is listed: {op:?}");
        }
    }
    assert!(grudges > 0, "some partition started");

    let mut theirs = Vec::new();
    for run in ["g-set-partition-valid", "broadcast-5n-partition-valid"] {
        let path = PathBuf::from(FIXTURES).join(run).join("history.edn");
        let text = std::fs::read_to_string(&path).expect("fixture history");
        theirs.extend(nemesis_shapes(
            parse_all(&text).expect("parses").into_iter(),
        ));
    }
    theirs.sort();
    theirs.dedup();
    assert_eq!(nemesis_shapes(ours.into_iter()), theirs);

    let txt: Vec<String> = nemesis.iter().map(|op| history_txt_line(op)).collect();
    assert!(
        txt.iter().any(
            |l| l.starts_with(":nemesis\t:info\t:start-partition\t[:isolated {\"n")
                && l.contains("\" #{")
        ),
        "{txt:?}"
    );
}

/// A node that drops nothing still appears, with `#{}` (Jepsen's `complete-grudge`
/// assigns every node of every component).
#[test]
fn a_node_with_no_grudge_prints_an_empty_set() {
    use glomers::harness::net::nemesis::{Shape, grudge, grudge_json};
    use glomers::harness::results::edn_write::{Mode, single_line};
    use glomers::node::Rng;
    let nodes: Vec<String> = ["n0", "n1"].iter().map(|s| s.to_string()).collect();
    // ⌊(2−1)/3⌋ = 0 nodes split off: nobody drops anything.
    let drops = grudge(Shape::MinorityThird, 2, &mut Rng::new(1));
    let value = grudge_json(&drops, &nodes);
    assert_eq!(
        single_line(&value, Mode::Nemesis),
        r#"[:isolated {"n0" #{}, "n1" #{}}]"#
    );
    let drops = grudge(Shape::One, 2, &mut Rng::new(1));
    let text = single_line(&grudge_json(&drops, &nodes), Mode::Nemesis);
    assert!(
        text == r#"[:isolated {"n0" #{"n1"}, "n1" #{"n0"}}]"#,
        "{text}"
    );
}
