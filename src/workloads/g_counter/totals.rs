//! The seq-kv g-counter's value: one running total per node, kept as a JSON array of
//! integers under one key (`[t0, t1, …]`, node i's total at index i). Parsing it from a
//! read, and from the text of a failed cas.

use crate::wire::Json;

/// Reads a JSON array of exactly `out.len()` non-negative integers into `out`.
pub fn read_array(json: Json<'_>, out: &mut [u64]) -> bool {
    let mut count = 0;
    for item in json.items() {
        match (out.get_mut(count), item.as_u64()) {
            (Some(slot), Some(value)) => *slot = value,
            _ => return false,
        }
        count += 1;
    }
    count == out.len()
}

/// Parses the current value named by a cas error 22, `current value [3 0 5] is not …`
/// (Clojure's `pr-str` of a vector: items split by spaces; commas are accepted too), into
/// `out`. False unless it is an array of exactly `out.len()` non-negative integers.
pub fn parse_current(text: &str, out: &mut [u64]) -> bool {
    let Some(rest) = text.strip_prefix("current value [") else {
        return false;
    };
    let Some((items, _)) = rest.split_once(']') else {
        return false;
    };
    let mut count = 0;
    for item in items.split([' ', ',']).filter(|item| !item.is_empty()) {
        match (out.get_mut(count), item.parse::<u64>()) {
            (Some(slot), Ok(value)) => *slot = value,
            _ => return false,
        }
        count += 1;
    }
    count == out.len()
}

/// The counter's value: the sum of the totals.
pub fn sum(totals: &[u64]) -> u64 {
    totals
        .iter()
        .fold(0, |sum, &total| sum.saturating_add(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_current_vector_of_a_failed_cas() {
        let mut out = [9; 3];
        assert!(parse_current(
            "current value [3 0 5] is not [3 0 4]",
            &mut out
        ));
        assert_eq!(out, [3, 0, 5]);
        assert!(parse_current(
            "current value [1, 2, 3] is not [1 2 2]",
            &mut out
        ));
        assert_eq!(out, [1, 2, 3]);
        for bad in [
            "current value [1 2] is not [1 2 3]",
            "current value [1 2 3 4] is not [1 2 3]",
            "current value [1 -2 3] is not [1 2 3]",
            "current value 12 is not 10",
            "current value [1 2 3 is not",
            "key does not exist",
        ] {
            assert!(!parse_current(bad, &mut out), "{bad}");
        }
    }

    #[test]
    fn sums_saturate() {
        assert_eq!(sum(&[1, 2, 3]), 6);
        assert_eq!(sum(&[u64::MAX, 1]), u64::MAX);
    }
}
