//! Request paths: job names and query values percent-encoded, so any name reaches the route
//! it names (and `a/b` never reaches another one).

use std::fmt::Display;

/// A path with its query, built a piece at a time.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    text: String,
    has_query: bool,
}

impl Route {
    /// A fixed path such as `/api/jobs`.
    pub fn new(path: &str) -> Route {
        Route {
            text: path.to_string(),
            has_query: false,
        }
    }

    /// Appends `/value`, encoded.
    pub fn segment(mut self, value: &str) -> Route {
        self.text.push('/');
        self.text.push_str(&encode(value));
        self
    }

    /// Appends `key=value`, the value encoded.
    pub fn query(mut self, key: &str, value: impl Display) -> Route {
        self.text.push(if self.has_query { '&' } else { '?' });
        self.has_query = true;
        self.text.push_str(key);
        self.text.push('=');
        self.text.push_str(&encode(&value.to_string()));
        self
    }

    /// Appends `key=value` when there is a value.
    pub fn query_some(self, key: &str, value: Option<impl Display>) -> Route {
        match value {
            Some(value) => self.query(key, value),
            None => self,
        }
    }

    /// Appends `key=true` when it is true; the engine takes a missing flag as false.
    pub fn flag(self, key: &str, on: bool) -> Route {
        if on {
            self.query(key, true)
        } else {
            self
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_one_segment_and_values_one_value() {
        let route = Route::new("/api/jobs")
            .segment("../etc/passwd")
            .segment("logs")
            .query("tail", 5)
            .query_some("stream", None::<&str>)
            .query_some("cron", Some("0 9 * * 1-5"))
            .flag("follow", true)
            .flag("show_secrets", false);
        assert_eq!(
            route.as_str(),
            "/api/jobs/..%2Fetc%2Fpasswd/logs?tail=5&cron=0%209%20%2A%20%2A%201-5&follow=true"
        );
        assert_eq!(encode("é&="), "%C3%A9%26%3D");
    }
}
