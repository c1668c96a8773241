//! Editing `glomers test` flags as words, for the coarse steps of a shrink and the draws of
//! a swarm sweep: set a flag's value, or drop a flag. Words after `--` (node arguments) are never touched.

/// The words with every occurrence of `flag` (`--flag V`, `--flag=V`; `takes_value`
/// says whether it has a value) removed.
pub fn without(words: &[String], flag: &str, takes_value: bool) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    let mut skip = false;
    let mut literal = false;
    let joined = format!("{flag}=");
    for word in words {
        if skip {
            skip = false;
            continue;
        }
        if !literal && word == flag {
            skip = takes_value;
            continue;
        }
        if !literal && word.starts_with(&joined) {
            continue;
        }
        literal |= word == "--";
        out.push(word.clone());
    }
    out
}

/// The words with `flag` set to `value` (replacing any occurrence).
pub fn with(words: &[String], flag: &str, value: &str) -> Vec<String> {
    let mut out = without(words, flag, true);
    let at = out.iter().position(|w| w == "--").unwrap_or(out.len());
    out.insert(at, value.to_string());
    out.insert(at, flag.to_string());
    out
}

/// The words naming `count` nodes n0.. with `--node-count` (dropping `--nodes`, `--node`,
/// `-n` and `--nodes-file`).
pub fn with_node_count(words: &[String], count: usize) -> Vec<String> {
    let mut out = words.to_vec();
    for flag in ["--nodes", "--node", "-n", "--nodes-file"] {
        out = without(&out, flag, true);
    }
    with(&out, "--node-count", &count.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn sets_and_drops_flags_but_not_node_arguments() {
        let w = words("-w broadcast --rate=10 --loss 0.1 --asymmetric-partitions -- --loss 3");
        assert_eq!(
            with(&w, "--rate", "5").join(" "),
            "-w broadcast --loss 0.1 --asymmetric-partitions --rate 5 -- --loss 3"
        );
        assert_eq!(
            without(&w, "--loss", true).join(" "),
            "-w broadcast --rate=10 --asymmetric-partitions -- --loss 3"
        );
        assert_eq!(
            without(&w, "--asymmetric-partitions", false).join(" "),
            "-w broadcast --rate=10 --loss 0.1 -- --loss 3"
        );
        let named = words("-w echo -n a -n b --nodes c,d");
        assert_eq!(
            with_node_count(&named, 1).join(" "),
            "-w echo --node-count 1"
        );
    }
}
