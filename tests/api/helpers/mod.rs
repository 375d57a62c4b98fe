//! What the tests share: starting the app and speaking to it as a client would, and the
//! steps that many tests take on the way.

mod accounts;
mod app;
mod groups;
mod interests;
mod mail;
mod places;

pub use accounts::*;
pub use app::*;
pub use groups::*;
pub use interests::*;
pub use mail::*;
pub use places::*;
