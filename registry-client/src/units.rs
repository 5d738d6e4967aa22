//! The units users write in flags and manifests: durations (`500ms`, `2s`) and sizes
//! (`64MiB`). Here, below the runtime, so a manifest is checked without it.

use std::time::Duration;

/// The longest duration a flag takes: a year. Longer ones mean "no limit", which is leaving the
/// flag out; and every deadline must fit in the clock's range.
pub const MAX_DURATION: Duration = Duration::from_secs(8760 * 3600);

/// `500ms`, `2s`, `1.5s`, `3m`, `1h`, `7d`, or a bare number of seconds; at most [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| format!("`{s}` is not a duration; use e.g. 500ms, 2s, 1m"))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        "us" | "µs" => value / 1_000_000.0,
        other => return Err(format!("`{s}`: unknown unit `{other}`; use ms, s, m, h or d")),
    };
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!("`{s}`: a duration must be greater than zero"));
    }
    if secs > MAX_DURATION.as_secs_f64() {
        return Err(format!("`{s}` is too long; the largest accepted is 8760h (a year)"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{s}` is not a duration; use e.g. 500ms, 2s, 1m"))
}

/// `64MiB`, `1GiB`, `512KiB`, `64M` (also binary), `1000000` bytes.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: u64 = num.parse().map_err(|_| format!("`{s}` is not a size; use e.g. 64MiB, 1GiB, 4096"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("`{s}`: unknown unit `{other}`; use KiB, MiB or GiB")),
    };
    let bytes = value.checked_mul(mult).ok_or_else(|| format!("`{s}` is too large"))?;
    if bytes == 0 {
        return Err(format!("`{s}`: a size must be greater than zero"));
    }
    usize::try_from(bytes).map_err(|_| format!("`{s}` is too large"))
}

/// `64MiB` for 67108864: sizes in messages the way users wrote them.
pub fn format_size(bytes: usize) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("2 weeks").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration("8760h").unwrap(), MAX_DURATION);
        for huge in ["20000000000000000000s", "8761h", "1e400", "inf"] {
            assert!(parse_duration(huge).is_err(), "{huge}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5PiB").is_err());
        assert_eq!(format_size(64 << 20), "64MiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }
}
