//! A small dependency graph for the transactional checkers: labelled edges, strongly
//! connected components (iterative Tarjan, no recursion on input-sized data) and a shortest
//! cycle through a node (BFS), restricted to a chosen set of edge kinds.

use std::collections::VecDeque;

/// Edge kinds, Elle's names. `Rt` is a real-time step (possibly through chain nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// write-write: consecutive versions of a key.
    Ww,
    /// write-read: the writer of a read's last element precedes the reader.
    Wr,
    /// read-write (anti-dependency): a reader precedes the writer of the next version.
    Rw,
    /// real time: one completed before the other was invoked.
    Rt,
}

impl Kind {
    /// Elle's lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ww => "ww",
            Kind::Wr => "wr",
            Kind::Rw => "rw",
            Kind::Rt => "realtime",
        }
    }
}

/// Nodes `0..n`; edges carry a kind.
pub struct Graph {
    out: Vec<Vec<(usize, Kind)>>,
}

impl Graph {
    /// An empty graph with `n` nodes.
    pub fn new(n: usize) -> Graph {
        Graph {
            out: vec![Vec::new(); n],
        }
    }

    /// Adds `a → b`; self-loops are ignored (a transaction does not depend on itself).
    pub fn edge(&mut self, a: usize, b: usize, kind: Kind) {
        if a != b && a < self.out.len() && b < self.out.len() && !self.out[a].contains(&(b, kind)) {
            self.out[a].push((b, kind));
        }
    }

    /// Strongly connected components with more than one node, using only `kinds`.
    pub fn cyclic_components(&self, kinds: &[Kind]) -> Vec<Vec<usize>> {
        self.tarjan(kinds, None)
    }

    /// [`Graph::cyclic_components`] of the subgraph of the nodes `inside` marks: as cheap
    /// as that subgraph is small.
    pub fn cyclic_components_within(&self, kinds: &[Kind], inside: &[bool]) -> Vec<Vec<usize>> {
        self.tarjan(kinds, Some(inside))
    }

    /// Iterative Tarjan over the nodes `inside` marks (all if `None`), in node order.
    fn tarjan(&self, kinds: &[Kind], inside: Option<&[bool]>) -> Vec<Vec<usize>> {
        let n = self.out.len();
        let member = |v: usize| inside.is_none_or(|m| m.get(v).copied().unwrap_or(false));
        let (mut index, mut low) = (vec![usize::MAX; n], vec![0usize; n]);
        let (mut on_stack, mut stack) = (vec![false; n], Vec::new());
        let mut next_index = 0;
        let mut components = Vec::new();
        for root in 0..n {
            if index[root] != usize::MAX || !member(root) {
                continue;
            }
            // Explicit DFS stack of (node, position in its edge list).
            let mut work = vec![(root, 0usize)];
            index[root] = next_index;
            low[root] = next_index;
            next_index += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(top) = work.last_mut() {
                let v = top.0;
                if let Some(&(w, kind)) = self.out[v].get(top.1) {
                    top.1 += 1;
                    if !kinds.contains(&kind) || !member(w) {
                        continue;
                    }
                    if index[w] == usize::MAX {
                        index[w] = next_index;
                        low[w] = next_index;
                        next_index += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort_unstable();
                        components.push(component);
                    }
                }
            }
        }
        components
    }

    /// Adds `n` nodes, returning the first new id.
    pub fn add_nodes(&mut self, n: usize) -> usize {
        let first = self.out.len();
        self.out.resize(first + n, Vec::new());
        first
    }

    /// The number of nodes.
    pub fn edges_len(&self) -> usize {
        self.out.len()
    }

    /// The outgoing edges of `v`.
    pub fn edges(&self, v: usize) -> &[(usize, Kind)] {
        self.out.get(v).map_or(&[], |e| e.as_slice())
    }

    /// Breadth-first search from `from` within `component` (sorted), using only `kinds`:
    /// every node reached (not `from` itself) → (the node it was reached from, the kind of
    /// that step). [`Graph::path_to`] reads shortest paths out of it.
    pub fn reach(
        &self,
        from: usize,
        component: &[usize],
        kinds: &[Kind],
    ) -> ahash::AHashMap<usize, (usize, Kind)> {
        let inside = |v: usize| component.binary_search(&v).is_ok();
        let mut parent: ahash::AHashMap<usize, (usize, Kind)> = ahash::AHashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(v) = queue.pop_front() {
            for &(w, kind) in self.edges(v) {
                if kinds.contains(&kind) && inside(w) && w != from && !parent.contains_key(&w) {
                    parent.insert(w, (v, kind));
                    queue.push_back(w);
                }
            }
        }
        parent
    }

    /// The path from a [`Graph::reach`] search's start to `to`: the nodes left, each with
    /// the kind of the step leaving it (`to` itself is not listed). `None` if not reached.
    pub fn path_to(
        parent: &ahash::AHashMap<usize, (usize, Kind)>,
        to: usize,
    ) -> Option<Vec<(usize, Kind)>> {
        let mut path = vec![*parent.get(&to)?];
        // Each step goes back one BFS level, so this ends within parent.len() steps.
        while let Some(&step) = parent.get(&path[path.len() - 1].0) {
            if path.len() > parent.len() {
                return None;
            }
            path.push(step);
        }
        path.reverse();
        Some(path)
    }

    /// A shortest cycle through `start` within `component`, using only `kinds`: the nodes
    /// visited and the kind of each step (ties broken by the lowest closing node, so the
    /// answer does not depend on hash order).
    pub fn cycle_through(
        &self,
        start: usize,
        component: &[usize],
        kinds: &[Kind],
    ) -> Option<Vec<(usize, Kind)>> {
        let reached = self.reach(start, component, kinds);
        let closing = |v: usize| {
            self.edges(v)
                .iter()
                .find(|(w, kind)| *w == start && kinds.contains(kind))
                .map(|&(_, kind)| kind)
        };
        let mut best: Option<Vec<(usize, Kind)>> = None;
        let mut candidates: Vec<usize> = reached.keys().copied().collect();
        candidates.sort_unstable();
        for v in candidates {
            let Some(kind) = closing(v) else { continue };
            let Some(mut cycle) = Graph::path_to(&reached, v) else {
                continue;
            };
            cycle.push((v, kind));
            if best.as_ref().is_none_or(|b| cycle.len() < b.len()) {
                best = Some(cycle);
            }
        }
        best
    }
}
