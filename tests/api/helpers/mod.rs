//! What the tests share: starting the app and speaking to it as a client would, and the
//! steps that many tests take on the way.

mod accounts;
mod app;
mod events;
mod groups;
mod interests;
mod jwt;
mod mail;
mod meetings;
mod notifications;
mod places;
mod push_services;

pub use accounts::*;
pub use app::*;
pub use events::*;
pub use groups::*;
pub use interests::*;
pub use jwt::*;
pub use mail::*;
pub use meetings::*;
pub use notifications::*;
pub use places::*;
pub use push_services::*;
