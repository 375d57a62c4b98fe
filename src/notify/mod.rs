//! What leaves the server on its own: mail, and the outbox that keeps it from being lost.

pub mod mail;
pub mod messages;
pub mod outbox;
pub mod push;

pub use mail::{Mail, Mailer};
