//! The stamp a benchmark write carries to its subscribers.
//!
//! The writer and every subscriber live in this one process, so they share one monotonic
//! clock: a write puts `bench:<microseconds since the process epoch>` in the post's
//! `content`; a subscriber that finds it in an event frame knows exactly how long the
//! write took to reach it. Both servers serialise records with `JSON.stringify`-style
//! compact JSON, so the stamp is found by a plain substring search, with no JSON parsing
//! on the hot path.

use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// What precedes the stamp's number in an event frame.
const MARK: &str = "\"content\":\"bench:";

/// Microseconds since this process first asked.
pub fn now_micros() -> u64 {
    u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The `content` a write sent at `micros` carries.
pub fn stamp(micros: u64) -> String {
    format!("bench:{micros}")
}

/// The send time stamped in an event frame, if it carries one.
pub fn find_stamp(frame: &str) -> Option<u64> {
    let start = frame.find(MARK)? + MARK.len();
    let rest = &frame[start..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_through_a_frame() {
        let frame = format!(
            r#"{{"op":"event","event":{{"payload":{{"data":{{"content":"{}","id":3}}}}}}}}"#,
            stamp(1234)
        );
        assert_eq!(find_stamp(&frame), Some(1234));
        assert_eq!(
            find_stamp(r#"42["updated",{"ids":["3"],"data":{"content":"bench:77"}}]"#),
            Some(77)
        );
        assert_eq!(find_stamp(r#"{"op":"subscribed"}"#), None);
        assert_eq!(find_stamp(r#"{"content":"bench:"}"#), None);
    }

    #[test]
    fn the_clock_moves_forward() {
        let a = now_micros();
        let b = now_micros();
        assert!(b >= a);
    }
}
