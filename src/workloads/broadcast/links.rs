//! [`Links`]: the node's gossip links, one per peer it actually talks to — its neighbours,
//! and any peer that gossiped to it — made on first use. A leaf of a 1000-node star keeps
//! one link instead of 999, so per-tick scans (flush, maintenance) and memory follow the
//! node's degree, not the cluster size.

use super::gossip::Link;

/// No link for this peer yet.
const NONE: u32 = u32::MAX;

/// Links kept densely in peer order (so flushes visit peers in the same order as a table
/// over every node would), with a per-node slot index for lookups.
#[derive(Debug, Default)]
pub struct Links {
    /// `(peer, link)`, sorted by peer.
    links: Vec<(usize, Link)>,
    /// Per node index: the position of its link in `links`, or [`NONE`].
    slot_of: Vec<u32>,
    queue_max: usize,
}

impl Links {
    /// No links yet, for a cluster of `nodes`; links queue at most `queue_max` values.
    pub fn new(nodes: usize, queue_max: usize) -> Self {
        Links {
            links: Vec::new(),
            slot_of: vec![NONE; nodes],
            queue_max,
        }
    }

    /// The link to `peer`, if one was opened.
    pub fn get_mut(&mut self, peer: usize) -> Option<&mut Link> {
        let slot = *self.slot_of.get(peer)?;
        if slot == NONE {
            return None;
        }
        self.links.get_mut(slot as usize).map(|(_, link)| link)
    }

    /// The link to `peer`, opened now if needed; `None` only for a peer outside the cluster.
    pub fn open(&mut self, peer: usize) -> Option<&mut Link> {
        let slot = *self.slot_of.get(peer)?;
        if slot != NONE {
            return self.links.get_mut(slot as usize).map(|(_, link)| link);
        }
        let at = self.links.partition_point(|(p, _)| *p < peer);
        self.links.insert(at, (peer, Link::new(self.queue_max)));
        for (position, (p, _)) in self.links.iter().enumerate().skip(at) {
            self.slot_of[*p] = position as u32;
        }
        debug_assert!(
            self.links.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, unique"
        );
        self.links.get_mut(at).map(|(_, link)| link)
    }

    /// Every open link.
    pub fn iter(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().map(|(_, link)| link)
    }

    /// Every open link with its peer, in peer order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Link)> {
        self.links.iter_mut().map(|(peer, link)| (*peer, link))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_open_on_first_use_and_stay_in_peer_order() {
        let mut links = Links::new(5, 8);
        assert!(links.get_mut(3).is_none());
        assert!(links.open(3).is_some());
        assert!(links.open(1).is_some());
        assert!(links.open(4).is_some());
        assert!(links.open(3).is_some(), "opened twice: the same link");
        assert!(links.open(5).is_none(), "not a node");
        links.open(1).expect("open").queue(7, 0);
        let peers: Vec<usize> = links.iter_mut().map(|(peer, _)| peer).collect();
        assert_eq!(peers, [1, 3, 4]);
        assert_eq!(links.get_mut(1).map(|l| l.pending_len(1)), Some(1));
        assert_eq!(links.get_mut(3).map(|l| l.pending_len(1)), Some(0));
        assert!(links.get_mut(0).is_none());
    }
}
