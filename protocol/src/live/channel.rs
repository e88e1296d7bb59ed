//! Channel names both sides build. Which names exist and who may use them is the server's
//! rule (`docs/channels.md`); this module only spells them.

/// `resources/{resource}`: record changes, durable.
///
/// ```
/// assert_eq!(herald_protocol::live::channel::resource("posts"), "resources/posts");
/// ```
pub fn resource(resource: &str) -> String {
    format!("{RESOURCES}/{resource}")
}

/// `notifications/user/{id}`: one user's notifications, durable.
///
/// ```
/// assert_eq!(herald_protocol::live::channel::notifications(3), "notifications/user/3");
/// ```
pub fn notifications(user_id: i64) -> String {
    format!("{NOTIFICATIONS}/user/{user_id}")
}

/// The resource a `resources/{resource}` channel is about.
///
/// ```
/// use herald_protocol::live::channel::resource_of;
/// assert_eq!(resource_of("resources/posts"), Some("posts"));
/// assert_eq!(resource_of("typing/posts/1"), None);
/// ```
pub fn resource_of(channel: &str) -> Option<&str> {
    channel
        .strip_prefix(RESOURCES)?
        .strip_prefix('/')
        .filter(|r| !r.is_empty() && !r.contains('/'))
}

/// First segment of resource channels.
pub const RESOURCES: &str = "resources";
/// First segment of notification channels.
pub const NOTIFICATIONS: &str = "notifications";
/// First segment of presence channels.
pub const PRESENCE: &str = "presence";
