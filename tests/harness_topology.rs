//! Broadcast topologies and partition shapes against MAELSTROM.md §3.3 and §5.2.

use glomers::harness::net::nemesis::{Shape, grudge};
use glomers::harness::net::topology::{TopologyKind, topology};
use glomers::node::rng::Rng;

fn names(prefix_from: usize, n: usize) -> Vec<String> {
    (prefix_from..prefix_from + n)
        .map(|i| format!("n{i}"))
        .collect()
}

fn neighbours(kind: TopologyKind, nodes: &[String], node: &str) -> Vec<String> {
    topology(kind, nodes)
        .into_iter()
        .find(|(n, _)| n == node)
        .map(|(_, ns)| ns)
        .unwrap_or_default()
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn grid_matches_the_spec_example() {
    let nodes = names(1, 5);
    let expected = [
        ("n1", vec!["n4", "n2"]),
        ("n2", vec!["n5", "n3", "n1"]),
        ("n3", vec!["n2"]),
        ("n4", vec!["n1", "n5"]),
        ("n5", vec!["n2", "n4"]),
    ];
    let got = topology(TopologyKind::Grid, &nodes);
    assert_eq!(got.len(), 5);
    for (node, ns) in expected {
        assert_eq!(
            neighbours(TopologyKind::Grid, &nodes, node),
            list(&ns),
            "{node}"
        );
    }
    let two = names(0, 2);
    assert_eq!(
        topology(TopologyKind::Grid, &two),
        vec![("n0".into(), list(&["n1"])), ("n1".into(), list(&["n0"]))]
    );
}

#[test]
fn tree4_matches_the_spec_example() {
    let nodes = names(0, 25);
    let k = TopologyKind::Tree4;
    assert_eq!(neighbours(k, &nodes, "n0"), list(&["n1", "n2", "n3", "n4"]));
    assert_eq!(
        neighbours(k, &nodes, "n1"),
        list(&["n0", "n5", "n6", "n7", "n8"])
    );
    assert_eq!(
        neighbours(k, &nodes, "n4"),
        list(&["n0", "n17", "n18", "n19", "n20"])
    );
    assert_eq!(
        neighbours(k, &nodes, "n5"),
        list(&["n1", "n21", "n22", "n23", "n24"])
    );
    assert_eq!(neighbours(k, &nodes, "n6"), list(&["n1"]));
    assert_eq!(neighbours(k, &nodes, "n21"), list(&["n5"]));
    assert_eq!(
        topology(TopologyKind::Tree2, &names(0, 1)),
        vec![("n0".into(), vec![])]
    );
    assert_eq!(
        neighbours(TopologyKind::Tree, &names(0, 7), "n2"),
        list(&["n0", "n5", "n6"])
    );
    assert_eq!(
        neighbours(TopologyKind::Tree3, &names(0, 13), "n1"),
        list(&["n0", "n4", "n5", "n6"])
    );
}

#[test]
fn line_and_total() {
    assert!(topology(TopologyKind::Line, &names(0, 1)).is_empty());
    let nodes = names(0, 4);
    assert_eq!(neighbours(TopologyKind::Line, &nodes, "n0"), list(&["n1"]));
    assert_eq!(
        neighbours(TopologyKind::Line, &nodes, "n2"),
        list(&["n1", "n3"])
    );
    assert_eq!(neighbours(TopologyKind::Line, &nodes, "n3"), list(&["n2"]));
    assert_eq!(
        neighbours(TopologyKind::Total, &nodes, "n2"),
        list(&["n0", "n1", "n3"])
    );
}

fn sizes(shape: Shape, n: usize, seed: u64) -> Vec<usize> {
    grudge(shape, n, &mut Rng::new(seed))
        .iter()
        .map(Vec::len)
        .collect()
}

#[test]
fn partition_shapes() {
    for seed in 0..20 {
        // one: a node drops everyone, everyone else drops just it.
        let mut one = sizes(Shape::One, 5, seed);
        one.sort();
        assert_eq!(one, vec![1, 1, 1, 1, 4]);
        // majority: 2 | 3 bidirectional split.
        let mut majority = sizes(Shape::Majority, 5, seed);
        majority.sort();
        assert_eq!(majority, vec![2, 2, 2, 3, 3]);
        // minority-third: ⌊(n−1)/3⌋ nodes split off; nothing for n ≤ 3.
        let mut third = sizes(Shape::MinorityThird, 5, seed);
        third.sort();
        assert_eq!(third, vec![1, 1, 1, 1, 4]);
        assert_eq!(sizes(Shape::MinorityThird, 3, seed), vec![0, 0, 0]);
        // majorities-ring: n=2 nothing, n=3 one peer each, n=5 distinct majorities.
        assert_eq!(sizes(Shape::MajoritiesRing, 2, seed), vec![0, 0]);
        assert_eq!(sizes(Shape::MajoritiesRing, 3, seed), vec![1, 1, 1]);
        for n in [5, 7, 9] {
            let ring = grudge(Shape::MajoritiesRing, n, &mut Rng::new(seed));
            let mut kept: Vec<Vec<usize>> = ring
                .iter()
                .enumerate()
                .map(|(d, drops)| {
                    assert!(!drops.contains(&d));
                    (0..n).filter(|s| !drops.contains(s)).collect()
                })
                .collect();
            assert!(
                kept.iter().all(|k| k.len() == n / 2 + 1),
                "each node keeps a majority"
            );
            kept.sort();
            kept.dedup();
            assert_eq!(kept.len(), n, "no two nodes keep the same majority");
        }
    }
}
