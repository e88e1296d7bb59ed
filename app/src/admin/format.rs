//! Display helpers for records: text of a field, status classes, short dates.

use herald_framework::data::Record;
use herald_framework::Id;
use serde_json::Value;

/// A field as display text: strings as they are, other JSON as JSON, nothing for null.
pub fn field(record: &Record, name: &str) -> String {
    match record.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A record's `id`, number or string (the empty text id if it has none).
pub fn id(record: &Record) -> Id {
    Id::of(record).unwrap_or_else(|| Id::Text(String::new()))
}

/// The CSS modifier for a status; unknown values get a neutral one.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "draft" => "draft",
        "published" => "published",
        "rejected" => "rejected",
        _ => "other",
    }
}

/// The status after `status` in the quick toggle's cycle.
pub fn next_status(status: &str) -> &'static str {
    match status {
        "draft" => "published",
        "published" => "rejected",
        _ => "draft",
    }
}

/// `2026-11-30T12:00:00.123Z` → `2026-11-30 12:00`; anything else unchanged.
pub fn short_date(iso: &str) -> String {
    match (iso.get(..10), iso.get(11..16)) {
        (Some(date), Some(time)) if iso.as_bytes().get(10) == Some(&b'T') => {
            format!("{date} {time}")
        }
        _ => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_render_as_text() {
        let r = serde_json::json!({"id": 7, "title": "Hi", "category": null});
        assert_eq!(field(&r, "id"), "7");
        assert_eq!(field(&r, "title"), "Hi");
        assert_eq!(field(&r, "category"), "");
        assert_eq!(id(&r), Id::Int(7));
    }

    #[test]
    fn dates_and_statuses() {
        assert_eq!(short_date("2026-11-30T12:00:00.123Z"), "2026-11-30 12:00");
        assert_eq!(short_date("2026-11-30Tü"), "2026-11-30Tü");
        assert_eq!(next_status("draft"), "published");
        assert_eq!(next_status("rejected"), "draft");
    }
}
