//! Pipe-like input for simulated nodes: where a node's queued input bytes are cut into
//! `handle_input` calls.
//!
//! A real node reads stdin in whatever pieces the pipe gives it: several lines at once, or
//! a line split anywhere, even byte by byte. The simulator queues each node's lines for a
//! loop turn and cuts the stream at positions drawn from its own seeded stream, so the
//! batch parser and the framer's partial-line path run under `--sim` too, and one seed
//! still gives one run.

use crate::node::Rng;

/// Random cut points per stream at most (so at most this many + 1 reads).
const MAX_CUTS: u64 = 3;
/// Bytes delivered one at a time, at most, when a stream is read byte by byte (the rest
/// follows in one read; a long body byte by byte would only cost time).
const BYTEWISE_MAX: usize = 64;

/// Fills `ends` with the end offsets of the reads that deliver `len` queued bytes, in
/// increasing order, the last being `len` (nothing for an empty stream). Half the
/// streams go in one read; most others are cut at 1 to `MAX_CUTS` uniform positions
/// (usually mid-line); one in sixteen starts byte by byte.
pub fn read_ends(rng: &mut Rng, len: usize, ends: &mut Vec<usize>) {
    ends.clear();
    if len == 0 {
        return;
    }
    match rng.below(16) {
        0..8 => {}
        8..15 => {
            let cuts = 1 + rng.below(MAX_CUTS);
            for _ in 0..cuts {
                // In 1..len: a cut at 0 or at len would be an empty read.
                if len > 1 {
                    ends.push(1 + rng.below(len as u64 - 1) as usize);
                }
            }
            ends.sort_unstable();
            ends.dedup();
        }
        _ => ends.extend(1..len.min(BYTEWISE_MAX)),
    }
    ends.push(len);
    assert!(
        ends.windows(2).all(|pair| pair[0] < pair[1]) && ends.last() == Some(&len),
        "read ends increase up to the stream's length"
    );
}

#[cfg(test)]
mod tests {
    use super::read_ends;
    use crate::node::Rng;

    #[test]
    fn reads_cover_the_stream_in_order_with_every_shape() {
        let mut rng = Rng::new(7);
        let mut ends = Vec::new();
        let (mut whole, mut split, mut bytewise) = (0, 0, 0);
        for len in (0..2000).map(|i| i % 300) {
            read_ends(&mut rng, len, &mut ends);
            if len == 0 {
                assert!(ends.is_empty());
                continue;
            }
            assert_eq!(ends.last(), Some(&len));
            assert!(ends.windows(2).all(|pair| pair[0] < pair[1]));
            match ends.len() {
                1 => whole += 1,
                _ if ends.first() == Some(&1) && ends.get(1) == Some(&2) => bytewise += 1,
                _ => split += 1,
            }
        }
        assert!(
            whole > 800 && split > 600 && bytewise > 60,
            "{whole} {split} {bytewise}"
        );
    }
}
