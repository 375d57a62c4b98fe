//! Push notifications: one [`Provider`] per platform (APNs, FCM HTTP v1, Web Push), each
//! speaking its provider's documented protocol, so the delivery logic (the push outbox:
//! claim, send, retry, forget dead devices) is written once, in `outbox`.
//!
//! A provider turns one [`Push`] for one [`Address`] into an [`Outcome`]; it never retries
//! by itself and never touches the database.

pub mod apns;
pub mod fcm;
pub mod outbox;
pub mod providers;
pub mod web;

pub use providers::Providers;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// One notification as it goes to one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    /// Written in the member's language.
    pub title: String,
    pub body: String,
    /// The member's unread notifications: the app icon's badge on iOS.
    pub badge: u32,
    /// Pushes with the same key replace each other on the device (one key per event), so a
    /// burst of changes shows once.
    pub collapse_key: Option<String>,
    /// Kith's data for the app: `notificationId`, `kind`, and `eventId` or `groupId`.
    pub data: BTreeMap<String, String>,
    /// Past this the provider drops it rather than deliver it late.
    pub expires_at: DateTime<Utc>,
}

/// Where a device is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address<'a> {
    /// An APNs device token (hex).
    Apns { token: &'a str },
    /// An FCM registration token.
    Fcm { token: &'a str },
    /// An RFC 8030 push subscription: the endpoint and the browser's (or UnifiedPush
    /// distributor's) keys, both base64url as `PushSubscription.toJSON()` gives them.
    WebPush {
        endpoint: &'a str,
        p256dh: &'a str,
        auth: &'a str,
    },
}

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The provider took it.
    Sent,
    /// The provider says the token or subscription is dead: the device is forgotten.
    Gone,
    /// Worth trying again (429, 5xx, a network failure), not before `after` when the
    /// provider said so (`Retry-After`).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Refused for good (a malformed request, bad credentials): logged, not retried.
    Refused(String),
}

/// One push service.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    async fn send(&self, to: Address<'_>, push: &Push) -> Outcome;
}

/// `Retry-After` as seconds or as an HTTP date, as of `now`.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The outcome of an HTTP status that says nothing more specific: 429 and 5xx are retried
/// (honouring `Retry-After`), 404 and 410 mean gone, other failures are refused.
pub fn outcome_of_status(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> Outcome {
    if status.is_success() {
        Outcome::Sent
    } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Outcome::Retry {
            after: retry_after(headers, now),
            reason: format!("{status}: {}", clip(body)),
        }
    } else if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
        Outcome::Gone
    } else {
        Outcome::Refused(format!("{status}: {}", clip(body)))
    }
}

/// A network failure is worth another try.
pub fn outcome_of_error(err: &reqwest::Error) -> Outcome {
    Outcome::Retry {
        after: None,
        reason: format!("{err:#}"),
    }
}

/// At most 200 characters of a provider's answer, for the log.
fn clip(body: &str) -> &str {
    match body.char_indices().nth(200) {
        Some((at, _)) => &body[..at],
        None => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Mon, 30 Nov 2026 10:01:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(60)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn statuses_map_to_outcomes() {
        let now = Utc::now();
        let headers = HeaderMap::new();
        let of = |code: u16| {
            outcome_of_status(
                reqwest::StatusCode::from_u16(code).unwrap(),
                &headers,
                "",
                now,
            )
        };
        assert_eq!(of(201), Outcome::Sent);
        assert_eq!(of(410), Outcome::Gone);
        assert_eq!(of(404), Outcome::Gone);
        assert!(matches!(of(429), Outcome::Retry { .. }));
        assert!(matches!(of(503), Outcome::Retry { .. }));
        assert!(matches!(of(400), Outcome::Refused(_)));
        assert!(matches!(of(403), Outcome::Refused(_)));
    }
}
