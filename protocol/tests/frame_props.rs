//! Property tests of live frame parsing: whatever text, bytes or JSON a client sends,
//! parsing a [`ClientFrame`] returns `Ok` or `Err` and never panics; every frame survives
//! serialising and parsing back unchanged. Cases per property: proptest's default (256),
//! or `PROPTEST_CASES`.

use herald_protocol::live::frame::SubscribeParams;
use herald_protocol::ClientFrame;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Numbers that survive text exactly: integers of both signs, and binary fractions.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1_000_000i64..1_000_000, 0u32..8)
            .prop_map(|(n, shift)| Value::from(n as f64 / f64::from(1u32 << shift))),
    ]
}

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object that looks like a frame: a real or made-up `op` and fields with the
/// frame's names (or others) holding values of any type.
fn frame_like() -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        Just(Value::from("subscribe")),
        Just(Value::from("unsubscribe")),
        Just(Value::from("publish")),
        Just(Value::from("ping")),
        Just(Value::from("Subscribe")),
        any::<String>().prop_map(Value::from),
        json(),
    ];
    let key = prop_oneof![
        Just("sub".to_owned()),
        Just("channel".to_owned()),
        Just("types".to_owned()),
        Just("params".to_owned()),
        Just("since".to_owned()),
        Just("type".to_owned()),
        Just("payload".to_owned()),
        Just("meta".to_owned()),
        Just("ids".to_owned()),
        any::<String>(),
    ];
    (
        prop::option::weighted(0.9, op),
        prop::collection::vec((key, json()), 0..8),
    )
        .prop_map(|(op, fields)| {
            let mut map: Map<String, Value> = fields.into_iter().collect();
            if let Some(op) = op {
                map.insert("op".into(), op);
            }
            Value::Object(map)
        })
}

fn opt_string() -> impl Strategy<Value = Option<String>> {
    prop::option::of(any::<String>())
}

/// Any client frame.
fn client_frame() -> impl Strategy<Value = ClientFrame> {
    let params = prop::option::of(
        (
            prop::option::of(prop::collection::vec(any::<String>(), 0..5)),
            opt_string(),
        )
            .prop_map(|(ids, scope)| SubscribeParams { ids, scope }),
    );
    let subscribe = (
        any::<String>(),
        any::<String>(),
        prop::option::of(prop::collection::vec(any::<String>(), 0..5)),
        params,
        opt_string(),
    )
        .prop_map(
            |(sub, channel, types, params, since)| ClientFrame::Subscribe {
                sub,
                channel,
                types,
                params,
                since,
            },
        );
    let meta = prop::option::of(
        prop::collection::btree_map(any::<String>(), json(), 0..4)
            .prop_map(|m| m.into_iter().collect::<Map<String, Value>>()),
    );
    let publish = (any::<String>(), any::<String>(), json(), meta).prop_map(
        |(channel, kind, payload, meta)| ClientFrame::Publish {
            channel,
            kind,
            payload,
            meta,
        },
    );
    prop_oneof![
        subscribe,
        any::<String>().prop_map(|sub| ClientFrame::Unsubscribe { sub }),
        publish,
        Just(ClientFrame::Ping),
    ]
}

/// The text of a frame with a few bytes cut, replaced or inserted: almost-valid input.
fn mangled() -> impl Strategy<Value = Vec<u8>> {
    (
        client_frame(),
        prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6),
    )
        .prop_map(|(frame, edits)| {
            let mut bytes = serde_json::to_vec(&frame).unwrap();
            for (at, edit, byte) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match edit {
                    0 => {
                        bytes.remove(i);
                    }
                    1 => bytes[i] = byte,
                    _ => bytes.insert(i, byte),
                }
            }
            bytes
        })
}

proptest! {
    #[test]
    fn any_string_parses_or_errs(text in any::<String>()) {
        let _ = serde_json::from_str::<ClientFrame>(&text);
    }

    #[test]
    fn any_bytes_parse_or_err(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<ClientFrame>(&bytes);
        let _ = serde_json::from_str::<ClientFrame>(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mangled_frames_parse_or_err(bytes in mangled()) {
        let _ = serde_json::from_slice::<ClientFrame>(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if let Ok(frame) = serde_json::from_str::<ClientFrame>(text) {
                let again = serde_json::to_string(&frame).unwrap();
                prop_assert_eq!(serde_json::from_str::<ClientFrame>(&again).unwrap(), frame);
            }
        }
    }

    #[test]
    fn any_json_value_parses_or_errs(value in json()) {
        let _ = serde_json::from_str::<ClientFrame>(&value.to_string());
        let _ = serde_json::from_value::<ClientFrame>(value);
    }

    #[test]
    fn frame_like_objects_parse_or_err_and_what_parses_round_trips(value in frame_like()) {
        let text = value.to_string();
        let from_text = serde_json::from_str::<ClientFrame>(&text);
        let from_value = serde_json::from_value::<ClientFrame>(value);
        prop_assert_eq!(from_text.is_ok(), from_value.is_ok(), "{}", text);
        if let (Ok(a), Ok(b)) = (from_text, from_value) {
            prop_assert_eq!(&a, &b);
            let again = serde_json::to_string(&a).unwrap();
            prop_assert_eq!(serde_json::from_str::<ClientFrame>(&again).unwrap(), a);
        }
    }

    #[test]
    fn every_frame_round_trips(frame in client_frame()) {
        let text = serde_json::to_string(&frame).unwrap();
        prop_assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame.clone());
        let value = serde_json::to_value(&frame).unwrap();
        prop_assert_eq!(serde_json::from_value::<ClientFrame>(value).unwrap(), frame);
    }
}

/// Nesting far past serde_json's recursion limit is refused, not a stack overflow.
#[test]
fn deep_nesting_is_refused() {
    for depth in [127, 128, 129, 1_000, 100_000] {
        for (open, close) in [("[", "]"), (r#"{"a":"#, "}")] {
            let payload = format!("{}{}", open.repeat(depth), close.repeat(depth));
            let text =
                format!(r#"{{"op":"publish","channel":"c","type":"t","payload":{payload}}}"#);
            let _ = serde_json::from_str::<ClientFrame>(&text);
        }
    }
}
