//! Channels and who may use them (`docs/channels.md`): classifies a channel name and answers
//! "may this user subscribe / publish this type here?".

use super::protocol::FrameError;
use crate::resource::Schema;
use crate::store::log::{CREATED, DELETED, UPDATED};
use herald_protocol::{ErrorCode, Identity};

/// Longest channel name accepted.
const NAME_MAX: usize = 200;

/// What a channel is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// `resources/{res}`: durable; record changes come only from commits.
    Resource,
    /// `notifications/user/{id}`: durable; only that user reads it; the server writes it.
    Notifications { user_id: i64 },
    /// `presence/...`: ephemeral; subscribing joins; the server announces.
    Presence,
    /// `typing/...` and anything else: ephemeral; anyone may publish.
    Custom,
}

impl Channel {
    /// Classifies `name`, rejecting malformed names and resources `schema` does not declare.
    pub fn parse(name: &str, schema: &Schema) -> Result<Channel, FrameError> {
        let bad = |m: &str| FrameError::new(ErrorCode::BadRequest, m);
        if name.is_empty() || name.len() > NAME_MAX {
            return Err(bad("channel must be 1 to 200 characters"));
        }
        if name.split('/').any(str::is_empty) || name.chars().any(char::is_control) {
            return Err(bad("channel segments must be non-empty and printable"));
        }
        let mut parts = name.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("resources"), Some(res), None) if schema.resource(res).is_some() => {
                Ok(Channel::Resource)
            }
            (Some("resources"), res, _) => Err(FrameError::new(
                ErrorCode::NotFound,
                format!("no resource '{}'", res.unwrap_or_default()),
            )),
            (Some("notifications"), Some("user"), Some(id)) => id
                .parse()
                .map(|user_id| Channel::Notifications { user_id })
                .map_err(|_| bad("notifications/user/{id} needs a numeric user id")),
            (Some("notifications"), _, _) => Err(FrameError::new(
                ErrorCode::NotFound,
                "notification channels are notifications/user/{id}",
            )),
            (Some("presence"), Some(_), _) => Ok(Channel::Presence),
            (Some("presence"), None, _) => Err(bad("presence channels are presence/{scope}")),
            _ => Ok(Channel::Custom),
        }
    }

    /// Whether events on it are logged and carry cursors.
    pub fn durable(&self) -> bool {
        matches!(self, Channel::Resource | Channel::Notifications { .. })
    }

    /// May `user` subscribe?
    pub fn check_subscribe(&self, user: &Identity) -> Result<(), FrameError> {
        match self {
            Channel::Notifications { user_id } if *user_id != user.id => Err(FrameError::new(
                ErrorCode::Forbidden,
                "you may only subscribe to your own notifications",
            )),
            _ => Ok(()),
        }
    }

    /// May a client publish `kind` here?
    pub fn check_publish(&self, kind: &str) -> Result<(), FrameError> {
        let forbidden = |m: &str| Err(FrameError::new(ErrorCode::Forbidden, m));
        if kind.is_empty() || kind.len() > NAME_MAX {
            return Err(FrameError::new(
                ErrorCode::BadRequest,
                "type must be 1 to 200 characters",
            ));
        }
        match self {
            Channel::Resource if [CREATED, UPDATED, DELETED].contains(&kind) => {
                forbidden("created/updated/deleted come only from committed writes")
            }
            Channel::Notifications { .. } => forbidden("only the server sends notifications"),
            Channel::Presence => {
                forbidden("presence is announced by the server; subscribe to join")
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixture::{alice, SCHEMA};

    #[test]
    fn table() {
        assert_eq!(
            Channel::parse("resources/notes", &SCHEMA),
            Ok(Channel::Resource)
        );
        assert_eq!(
            Channel::parse("resources/nope", &SCHEMA).unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(
            Channel::parse("resources", &SCHEMA).unwrap_err().code,
            ErrorCode::NotFound
        );
        assert!(Channel::parse("notifications/user/1", &SCHEMA)
            .unwrap()
            .check_subscribe(&alice())
            .is_ok());
        assert_eq!(
            Channel::parse("notifications/user/2", &SCHEMA)
                .unwrap()
                .check_subscribe(&alice())
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            Channel::parse("presence/posts/1", &SCHEMA),
            Ok(Channel::Presence)
        );
        assert!(Channel::parse("typing/posts/1", &SCHEMA)
            .unwrap()
            .check_publish("typing")
            .is_ok());
        assert!(Channel::parse("resources/notes", &SCHEMA)
            .unwrap()
            .check_publish("created")
            .is_err());
        assert!(Channel::parse("resources/notes", &SCHEMA)
            .unwrap()
            .check_publish("pinned")
            .is_ok());
        assert!(Channel::parse("a//b", &SCHEMA).is_err());
    }
}
