//! Local stand-ins for the push services the providers speak to.

pub mod web_push;
