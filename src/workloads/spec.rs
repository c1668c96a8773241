//! The small grammar every strategy variable shares (`GLOMERS_BROADCAST`, `GLOMERS_KAFKA`):
//! `[base] [":" key "=" value ("," key "=" value)*]`, with durations written `40`, `40ms`
//! or `2s`. Each workload names its own bases and keys; this module only splits the text
//! and reads the values.

/// The strategy in environment variable `variable` (parsed by `parse`), or `T::default()`
/// when it is unset; when it is unreadable, unknown or malformed, the default too, with one
/// stderr line naming `workload`, the variable and why.
pub fn from_env<T: Default>(
    workload: &str,
    variable: &str,
    parse: fn(&str) -> Result<T, String>,
) -> T {
    let parsed = match std::env::var(variable) {
        Err(std::env::VarError::NotPresent) => return T::default(),
        Err(error) => Err(error.to_string()),
        Ok(text) => parse(&text),
    };
    parsed.unwrap_or_else(|why| {
        eprintln!("{workload}: {variable}: {why}; using the default strategy");
        T::default()
    })
}

/// A strategy text's base and its `key=value` options.
pub type Parts<'t> = (&'t str, Vec<(&'t str, &'t str)>);

/// Splits `text` into its base (trimmed, possibly empty) and its `key=value` options in
/// order (trimmed; empty options skipped). An option without `=` is an error.
pub fn split(text: &str) -> Result<Parts<'_>, String> {
    let text = text.trim();
    let (base, options) = match text.split_once(':') {
        Some((base, options)) => (base.trim(), options),
        None => (text, ""),
    };
    let mut pairs = Vec::new();
    for option in options.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let (key, value) = option
            .split_once('=')
            .ok_or_else(|| format!("option {option:?} is not key=value"))?;
        pairs.push((key.trim(), value.trim()));
    }
    Ok((base, pairs))
}

/// `40`, `40ms` or `2s` → milliseconds (at most one day).
pub fn parse_ms(value: &str) -> Result<u64, String> {
    let (digits, scale) = match value.strip_suffix("ms") {
        Some(digits) => (digits, 1),
        None => match value.strip_suffix('s') {
            Some(digits) => (digits, 1000),
            None => (value, 1),
        },
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&ms| ms <= 86_400_000)
        .ok_or_else(|| format!("{value:?} is not a duration (e.g. 40ms, 2s)"))
}

/// A count for option `key`, which must lie in `low..=high`.
pub fn parse_count(key: &str, value: &str, low: usize, high: usize) -> Result<usize, String> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (low..=high).contains(n))
        .ok_or_else(|| format!("{key}={value:?} must be a count in {low}..={high}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_bases_and_options_and_reads_values() {
        assert_eq!(split("").ok(), Some(("", vec![])));
        assert_eq!(
            split(" star : hub=n3 , flush=60ms,").ok(),
            Some(("star", vec![("hub", "n3"), ("flush", "60ms")]))
        );
        assert!(split("star:hub").is_err());
        assert_eq!(parse_ms("40").ok(), Some(40));
        assert_eq!(parse_ms("40ms").ok(), Some(40));
        assert_eq!(parse_ms("2s").ok(), Some(2000));
        assert!(parse_ms("fast").is_err() && parse_ms("2d").is_err());
        assert!(parse_ms("86401s").is_err());
        assert_eq!(parse_count("batch", "8", 1, 16).ok(), Some(8));
        assert!(parse_count("batch", "0", 1, 16).is_err());
        assert!(parse_count("batch", "lots", 1, 16).is_err());
    }
}
