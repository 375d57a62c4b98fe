//! What leaves the server on its own: mail now; notifications and the change bus later.

pub mod mail;

pub use mail::{Mail, Mailer};
