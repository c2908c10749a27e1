//! Human durations ("30s", "5m", "1h 30m") on the wire, through humantime.

use std::time::Duration;

use serde::{de, Deserialize, Deserializer, Serializer};

/// Parses a human duration, with a message that says what a valid one looks like.
pub fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("is empty; use a duration such as \"500ms\", \"30s\", \"5m\" or \"2h\"".into());
    }
    // "5 hours" reads like prose and hides typos ("5 hour s"): number and unit go together.
    let bytes = trimmed.as_bytes();
    if bytes
        .windows(2)
        .any(|w| w[0].is_ascii_digit() && w[1].is_ascii_whitespace())
    {
        return Err(format!(
            "{trimmed:?} is not a duration: write each number and its unit together, as in \"5h\", \"30m\" or \"1h 30m\""
        ));
    }
    humantime::parse_duration(trimmed).map_err(|err| {
        format!("{trimmed:?} is not a duration ({err}); use a form such as \"500ms\", \"30s\", \"5m\" or \"2h\"")
    })
}

/// Formats a duration the way `parse` reads it back.
pub fn format(duration: Duration) -> String {
    if duration.is_zero() {
        return "0s".into();
    }
    humantime::format_duration(duration).to_string()
}

pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*duration))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_people_write() {
        assert_eq!(parse("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse("120s").unwrap(), Duration::from_secs(120));
        assert_eq!(parse("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse("5h").unwrap(), Duration::from_secs(5 * 3600));
        assert_eq!(parse("100ms").unwrap(), Duration::from_millis(100));
        assert_eq!(parse("1h 30m").unwrap(), Duration::from_secs(5400));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in [
            "",
            "5",
            "five minutes",
            "5 parsecs",
            "-1s",
            "5 hours",
            "1h 30 m",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn round_trips_through_format() {
        for ms in [0u64, 1, 100, 1_500, 60_000, 3_600_000, 90_061_001] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse(&format(d)).unwrap(), d);
        }
    }
}

/// `Option<Duration>` fields, absent when `None`.
pub mod option {
    use std::time::Duration;

    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => serializer.serialize_str(&super::format(*duration)),
            None => serializer.serialize_none(),
        }
    }

    /// `null` reads as absent, as JSON clients send it.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => super::parse(&text).map(Some).map_err(de::Error::custom),
            None => Ok(None),
        }
    }
}
