//! Delta debugging by chunk removal (Zeller's ddmin, in the form property testers use):
//! try removing each half of the list, then each quarter, … down to single entries,
//! keeping every removal after which the run still fails the same way. It ends with a list
//! from which no single entry can be removed (1-minimal), after O(n log n) tries when most
//! entries are irrelevant.

/// What a try said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The run with these entries still fails the same way: keep the removal.
    Fails,
    /// It does not: undo the removal.
    Passes,
    /// The budget is spent: stop with what we have.
    OutOfBudget,
}

/// The smallest sub-list of `items` (order kept) for which `fails` still says
/// [`Verdict::Fails`], as far as the budget allows.
pub fn reduce<T: Clone>(items: Vec<T>, mut fails: impl FnMut(&[T]) -> Verdict) -> Vec<T> {
    let mut current = items;
    let mut chunk = current.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        while start < current.len() {
            let end = (start + chunk).min(current.len());
            let candidate: Vec<T> = current[..start]
                .iter()
                .chain(&current[end..])
                .cloned()
                .collect();
            match fails(&candidate) {
                Verdict::Fails => current = candidate,
                Verdict::Passes => start = end,
                Verdict::OutOfBudget => return current,
            }
        }
        if chunk == 1 {
            return current;
        }
        chunk = chunk.div_ceil(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_exactly_the_entries_the_failure_needs() {
        let items: Vec<u32> = (0..200).collect();
        let mut tries = 0;
        let kept = reduce(items, |c| {
            tries += 1;
            if c.contains(&17) && c.contains(&150) {
                Verdict::Fails
            } else {
                Verdict::Passes
            }
        });
        assert_eq!(kept, vec![17, 150]);
        assert!(tries < 100, "{tries} tries for 200 entries");
    }

    #[test]
    fn stops_when_the_budget_is_spent() {
        let items: Vec<u32> = (0..64).collect();
        let mut tries = 0;
        let kept = reduce(items, |_| {
            tries += 1;
            if tries > 1 {
                Verdict::OutOfBudget
            } else {
                Verdict::Fails
            }
        });
        assert_eq!(kept, (32..64).collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_list_needs_no_try() {
        let kept = reduce(Vec::<u8>::new(), |_| panic!("no try on an empty list"));
        assert!(kept.is_empty());
    }
}
