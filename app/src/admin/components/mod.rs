//! Reusable pieces of the admin: toasts, the connection badge, the notifications bell,
//! presence avatars and the typing indicator.

mod connection;
mod notifications;
mod presence;
mod toast;
mod typing;
mod users;

pub use connection::{use_online, ConnectionBadge, OfflineBanner};
pub use notifications::NotificationBell;
pub use presence::PresenceAvatars;
pub use toast::{provide_toasts, use_toasts, ToastHost};
pub use typing::{use_typing_publisher, TypingIndicator};
pub use users::{provide_users, UserName};
