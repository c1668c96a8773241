//! Broadcast topologies (`--topology`, MAELSTROM.md §3.3), in Maelstrom's exact order.

/// The topology shapes Maelstrom offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TopologyKind {
    /// A square-ish grid; neighbours down, up, right, left.
    Grid,
    /// A chain.
    Line,
    /// Everyone to everyone.
    Total,
    /// Binary tree (alias of tree2).
    Tree,
    /// Binary tree.
    Tree2,
    /// Ternary tree.
    Tree3,
    /// 4-ary tree.
    Tree4,
}

/// Node → neighbours, in node order. A map with no entries is Maelstrom's `{}`.
pub type Topology = Vec<(String, Vec<String>)>;

/// Computes the topology for `nodes`.
pub fn topology(kind: TopologyKind, nodes: &[String]) -> Topology {
    let neighbours: Vec<Vec<usize>> = match kind {
        TopologyKind::Grid => grid(nodes.len()),
        TopologyKind::Line if nodes.len() < 2 => return Vec::new(),
        TopologyKind::Line => line(nodes.len()),
        TopologyKind::Total => total(nodes.len()),
        TopologyKind::Tree | TopologyKind::Tree2 => tree(nodes.len(), 2),
        TopologyKind::Tree3 => tree(nodes.len(), 3),
        TopologyKind::Tree4 => tree(nodes.len(), 4),
    };
    nodes
        .iter()
        .zip(neighbours)
        .map(|(node, ns)| {
            (
                node.clone(),
                ns.into_iter()
                    .filter_map(|i| nodes.get(i).cloned())
                    .collect(),
            )
        })
        .collect()
}

fn grid(n: usize) -> Vec<Vec<usize>> {
    let side = (1..=n).find(|s| s * s >= n).unwrap_or(1) as i64;
    let cell = |i: i64, j: i64| -> Option<usize> {
        let index = i * side + j;
        (i >= 0 && (0..side).contains(&j) && index < n as i64).then_some(index as usize)
    };
    (0..n as i64)
        .map(|k| {
            let (i, j) = (k / side, k % side);
            [(i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)]
                .into_iter()
                .filter_map(|(a, b)| cell(a, b))
                .collect()
        })
        .collect()
}

fn line(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|k| match k {
            0 => vec![1],
            k if k == n - 1 => vec![k - 1],
            k => vec![k - 1, k + 1],
        })
        .collect()
}

fn total(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|k| (0..n).filter(|&o| o != k).collect())
        .collect()
}

/// Tiers of 1, b, b², … filled in node order are exactly the heap layout: node i's
/// children are b·i+1 … b·i+b and its parent is (i−1)/b.
fn tree(n: usize, b: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| {
            let parent = (i > 0).then(|| (i - 1) / b);
            parent
                .into_iter()
                .chain((b * i + 1..=b * i + b).filter(|&c| c < n))
                .collect()
        })
        .collect()
}

/// The topology as the JSON object sent in the `topology` request.
pub fn to_json(topology: &Topology) -> simd_json::OwnedValue {
    let mut object = simd_json::owned::Object::with_capacity(topology.len());
    for (node, neighbours) in topology {
        let list: Vec<simd_json::OwnedValue> =
            neighbours.iter().map(|s| s.as_str().into()).collect();
        object.insert(node.clone(), simd_json::OwnedValue::Array(Box::new(list)));
    }
    simd_json::OwnedValue::Object(Box::new(object))
}
