//! Rows of the database, nothing more: no rules live here (see `kith::domain`).

pub mod block;
pub mod device;
pub mod event;
pub mod event_host;
pub mod event_series;
pub mod group;
pub mod group_interest;
pub mod idempotency_key;
pub mod image;
pub mod interest;
pub mod mail_outbox;
pub mod meeting_confirmation;
pub mod meeting_token;
pub mod membership;
pub mod notification;
pub mod notification_setting;
pub mod one_time_code;
pub mod push_outbox;
pub mod rate_limit;
pub mod refresh_token;
pub mod reminder_sent;
pub mod report;
pub mod rsvp;
pub mod session;
pub mod user;
pub mod user_interest;
