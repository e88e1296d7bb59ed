//! Cursors: `<log id>-<seq>`. Opaque to clients; the log id makes a cursor from another
//! database recognisable, so it gets `reset` instead of being misread.

/// A position in this server's event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor(pub i64);

impl Cursor {
    /// The wire form for this log.
    pub fn encode(self, log_id: &str) -> String {
        format!("{log_id}-{}", self.0)
    }

    /// Reads a wire cursor; `None` if it is malformed or belongs to another log.
    pub fn decode(raw: &str, log_id: &str) -> Option<Cursor> {
        let (id, seq) = raw.rsplit_once('-')?;
        if id != log_id {
            return None;
        }
        seq.parse().ok().filter(|s: &i64| *s >= 0).map(Cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_foreign() {
        let c = Cursor(42).encode("abc");
        assert_eq!(Cursor::decode(&c, "abc"), Some(Cursor(42)));
        assert_eq!(Cursor::decode(&c, "xyz"), None);
        assert_eq!(Cursor::decode("garbage", "abc"), None);
        assert_eq!(Cursor::decode("abc--1", "abc"), None);
    }
}
