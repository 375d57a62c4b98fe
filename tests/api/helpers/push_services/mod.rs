//! Local stand-ins for the push services the providers speak to.

pub mod apns;
pub mod fcm;
pub mod web_push;
