//! Record ids. A resource may be keyed by integers (`posts`), UUIDs or slugs, so an id is a
//! number or a string. REST bodies carry numbers as JSON numbers; the live wire carries every
//! id as a string (`"3"`). Both spellings of the same id are the same [`Id`]: a string that
//! is the canonical decimal form of an integer is read as that integer, everything else stays
//! text. Equality, hashing, cache keys and event matching therefore never see `3` and `"3"`
//! as different records.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A record id: an integer or a string.
///
/// ```
/// use herald_protocol::Id;
/// assert_eq!(Id::parse("7"), Id::Int(7));
/// assert_eq!(Id::parse("007"), Id::Text("007".into()), "not canonical: stays text");
/// let from_json: Id = serde_json::from_str(r#""7""#).unwrap();
/// assert_eq!(from_json, Id::Int(7));
/// assert_eq!(serde_json::to_string(&Id::Int(7)).unwrap(), "7");
/// assert_eq!(serde_json::to_string(&Id::from("a-b")).unwrap(), r#""a-b""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Id {
    Int(i64),
    Text(String),
}

impl Id {
    /// Reads an id from its text form (a URL segment, a wire id): canonical integers become
    /// [`Id::Int`], anything else [`Id::Text`].
    ///
    /// ```
    /// # use herald_protocol::Id;
    /// assert_eq!(Id::parse("-3"), Id::Int(-3));
    /// assert_eq!(Id::parse("+3"), Id::Text("+3".into()));
    /// assert_eq!(Id::parse("3.0"), Id::Text("3.0".into()));
    /// ```
    pub fn parse(text: &str) -> Id {
        match text.parse::<i64>() {
            Ok(n) if n.to_string() == text => Id::Int(n),
            _ => Id::Text(text.to_owned()),
        }
    }

    /// The id as the live wire spells it (always a string).
    ///
    /// ```
    /// # use herald_protocol::Id;
    /// assert_eq!(Id::Int(3).to_wire(), "3");
    /// ```
    pub fn to_wire(&self) -> String {
        self.to_string()
    }

    /// The integer, when this id is one.
    ///
    /// ```
    /// # use herald_protocol::Id;
    /// assert_eq!(Id::Int(3).as_int(), Some(3));
    /// assert_eq!(Id::from("x").as_int(), None);
    /// ```
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Id::Int(n) => Some(*n),
            Id::Text(_) => None,
        }
    }

    /// The `id` field of a record, if it has one that is a number or a string.
    ///
    /// ```
    /// # use herald_protocol::Id;
    /// assert_eq!(Id::of(&serde_json::json!({"id": 4})), Some(Id::Int(4)));
    /// assert_eq!(Id::of(&serde_json::json!({"id": "t-1"})), Some(Id::from("t-1")));
    /// assert_eq!(Id::of(&serde_json::json!({})), None);
    /// ```
    pub fn of(record: &serde_json::Value) -> Option<Id> {
        Id::from_json(record.get("id")?)
    }

    /// An id from a JSON number or string (other JSON is no id).
    ///
    /// ```
    /// # use herald_protocol::Id;
    /// assert_eq!(Id::from_json(&serde_json::json!("5")), Some(Id::Int(5)));
    /// assert_eq!(Id::from_json(&serde_json::json!(1.5)), None);
    /// ```
    pub fn from_json(value: &serde_json::Value) -> Option<Id> {
        match value {
            serde_json::Value::Number(n) => n.as_i64().map(Id::Int),
            serde_json::Value::String(s) => Some(Id::parse(s)),
            _ => None,
        }
    }

    /// The id as JSON: a number or a string.
    ///
    /// ```
    /// # use herald_protocol::Id;
    /// assert_eq!(Id::Int(2).to_json(), serde_json::json!(2));
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Id::Int(n) => (*n).into(),
            Id::Text(s) => s.clone().into(),
        }
    }

    /// Whether `wire` (an id as the live wire spells it) names this id.
    ///
    /// ```
    /// # use herald_protocol::Id;
    /// assert!(Id::Int(3).matches_wire("3"));
    /// assert!(!Id::Int(3).matches_wire("03"));
    /// ```
    pub fn matches_wire(&self, wire: &str) -> bool {
        match self {
            Id::Int(_) => Id::parse(wire) == *self,
            Id::Text(s) => s == wire,
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Int(n) => write!(f, "{n}"),
            Id::Text(s) => f.write_str(s),
        }
    }
}

impl From<i64> for Id {
    fn from(n: i64) -> Self {
        Id::Int(n)
    }
}

impl From<&str> for Id {
    fn from(s: &str) -> Self {
        Id::parse(s)
    }
}

impl From<String> for Id {
    fn from(s: String) -> Self {
        Id::parse(&s)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Id::Int(n) => serializer.serialize_i64(*n),
            Id::Text(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string id")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Id, E> {
                Ok(Id::Int(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Id, E> {
                i64::try_from(n)
                    .map(Id::Int)
                    .map_err(|_| E::custom("id out of range"))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Id, E> {
                Ok(Id::parse(s))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// Serde helper for wire id lists: accepts numbers or strings, writes strings.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct P { #[serde(with = "herald_protocol::id::wire_ids")] ids: Vec<String> }
/// let p: P = serde_json::from_str(r#"{"ids":["a",2]}"#).unwrap();
/// assert_eq!(p.ids, vec!["a", "2"]);
/// ```
pub mod wire_ids {
    use super::Id;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(ids: &[String], serializer: S) -> Result<S::Ok, S::Error> {
        ids.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<String>, D::Error> {
        Ok(Vec::<Id>::deserialize(deserializer)?
            .iter()
            .map(Id::to_wire)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_are_one_id() {
        let a: Id = serde_json::from_str("12").unwrap();
        let b: Id = serde_json::from_str(r#""12""#).unwrap();
        assert_eq!(a, b);
        let uuid = "6f1c2a7e-0000-4000-8000-000000000001";
        assert_eq!(Id::parse(uuid), Id::Text(uuid.into()));
        assert!(serde_json::from_str::<Id>("true").is_err());
        assert!(serde_json::from_str::<Id>("18446744073709551615").is_err());
    }
}
