//! The partition nemesis (MAELSTROM.md §5.2, §5.3): its schedule and partition shapes.
//!
//! Grudges are computed over node indices: `drops[dest]` lists the nodes whose messages
//! `dest` ignores. Only server nodes ever appear; clients and services are never cut off.

use simd_json::OwnedValue;

use crate::harness::hosts::{SECOND, Time};
use crate::node::rng::Rng;

/// A partition shape, chosen uniformly per `start-partition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Isolate one random node.
    One,
    /// Split into ⌊n/2⌋ and ⌈n/2⌉.
    Majority,
    /// Split off ⌊(n−1)/3⌋ nodes.
    MinorityThird,
    /// Every node sees a different majority.
    MajoritiesRing,
    /// Not Maelstrom (`--asymmetric-partitions`): split into ⌊n/2⌋ and ⌈n/2⌉; the second
    /// half drops messages from the first, which still hears the second.
    OneWayMajority,
    /// Not Maelstrom: one node's messages reach nobody, but it hears everyone.
    MuteOne,
    /// Not Maelstrom: one node hears nobody, but everyone hears it.
    DeafOne,
}

impl Shape {
    /// All shapes, in Maelstrom's order.
    pub const ALL: [Shape; 4] = [
        Shape::One,
        Shape::Majority,
        Shape::MinorityThird,
        Shape::MajoritiesRing,
    ];

    /// Maelstrom's shapes plus the one-way ones (`--asymmetric-partitions`).
    pub const WITH_ASYMMETRIC: [Shape; 7] = [
        Shape::One,
        Shape::Majority,
        Shape::MinorityThird,
        Shape::MajoritiesRing,
        Shape::OneWayMajority,
        Shape::MuteOne,
        Shape::DeafOne,
    ];

    /// Jepsen's keyword for it.
    pub fn name(self) -> &'static str {
        match self {
            Shape::One => "one",
            Shape::Majority => "majority",
            Shape::MinorityThird => "minority-third",
            Shape::MajoritiesRing => "majorities-ring",
            Shape::OneWayMajority => "one-way-majority",
            Shape::MuteOne => "mute-one",
            Shape::DeafOne => "deaf-one",
        }
    }
}

/// Who drops whom: `drops[dest]` = node indices dest ignores.
pub type Grudge = Vec<Vec<usize>>;

/// Computes a grudge of the given shape over `n` nodes.
pub fn grudge(shape: Shape, n: usize, rng: &mut Rng) -> Grudge {
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    match shape {
        Shape::One => complete(n, &order[..n.min(1)]),
        Shape::Majority => complete(n, &order[..n / 2]),
        Shape::MinorityThird => complete(n, &order[..n.saturating_sub(1) / 3]),
        Shape::MajoritiesRing => ring(n, &order),
        Shape::OneWayMajority => one_way(n, &order[..n / 2], &order[n / 2..]),
        Shape::MuteOne => one_way(n, &order[..n.min(1)], &order[n.min(1)..]),
        Shape::DeafOne => one_way(n, &order[n.min(1)..], &order[..n.min(1)]),
    }
}

/// Every node in `deaf` drops messages from every node in `from`; nothing else is cut.
fn one_way(n: usize, from: &[usize], deaf: &[usize]) -> Grudge {
    let mut drops = vec![Vec::new(); n];
    for &dest in deaf {
        if let Some(list) = drops.get_mut(dest) {
            list.extend(from.iter().copied().filter(|&s| s != dest));
            list.sort_unstable();
        }
    }
    drops
}

/// A complete bidirectional split between `side` and everyone else.
fn complete(n: usize, side: &[usize]) -> Grudge {
    let mut inside = vec![false; n];
    side.iter().for_each(|&i| inside[i] = true);
    (0..n)
        .map(|d| (0..n).filter(|&s| inside[s] != inside[d]).collect())
        .collect()
}

/// Ring windows of m = ⌊n/2⌋+1 nodes; each window's middle node drops everyone outside
/// it. Every node is the middle of exactly one window, so every node keeps a majority and
/// no two keep the same one (for n ≤ 5 this is Maelstrom's perfect construction; beyond,
/// the shuffled ring is the randomized one).
fn ring(n: usize, order: &[usize]) -> Grudge {
    let mut drops = vec![Vec::new(); n];
    if n == 0 {
        return drops;
    }
    let m = n / 2 + 1;
    for start in 0..n {
        let window: Vec<usize> = (0..m).map(|k| order[(start + k) % n]).collect();
        let middle = window[m / 2];
        drops[middle] = (0..n).filter(|s| !window.contains(s)).collect();
    }
    drops
}

/// The completion value `["isolated", {dest: [srcs…]}]`, listing every node as Jepsen's
/// `complete-grudge` does (a node that drops nothing gets an empty list). The history
/// writers print the lists as EDN sets, `[:isolated {"n1" #{"n2" "n3"}, "n2" #{}}]`, as
/// Maelstrom's history does.
pub fn grudge_json(grudge: &Grudge, nodes: &[String]) -> OwnedValue {
    let mut object = simd_json::owned::Object::new();
    for (dest, srcs) in grudge.iter().enumerate() {
        let names: Vec<OwnedValue> = srcs
            .iter()
            .filter_map(|&s| nodes.get(s))
            .map(|s| s.as_str().into())
            .collect();
        if let Some(name) = nodes.get(dest) {
            object.insert(name.clone(), OwnedValue::Array(Box::new(names)));
        }
    }
    OwnedValue::Array(Box::new(vec![
        "isolated".into(),
        OwnedValue::Object(Box::new(object)),
    ]))
}

/// The nemesis schedule: start at t≈0, then alternate with gaps U[0, 2·interval).
pub struct Schedule {
    interval: Time,
    /// Relative time of the next op; `None` when disabled.
    pub next_at: Option<Time>,
    /// Whether the next op starts a partition.
    pub next_is_start: bool,
}

impl Schedule {
    /// A schedule; disabled when `enabled` is false.
    pub fn new(enabled: bool, interval_s: f64) -> Schedule {
        Schedule {
            interval: (interval_s * SECOND as f64) as Time,
            next_at: enabled.then_some(0),
            next_is_start: true,
        }
    }

    /// Advances past the op just performed.
    pub fn advance(&mut self, rng: &mut Rng) {
        let gap = (rng.unit_f64() * 2.0 * self.interval as f64) as Time;
        self.next_at = self.next_at.map(|t| t + gap);
        self.next_is_start = !self.next_is_start;
    }
}
