//! Check-in and meetings: how members prove they met at an event.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::*;

/// About 55 m north of `event_input`'s venue (c-base): inside the default 300 m.
pub const NEAR_VENUE: (f64, f64) = (52.5134, 13.4201);

pub const CHECK_IN: &str = "mutation($e: ID!, $u: ID, $loc: GeoPointInput) { checkIn(input: { eventId: $e, userId: $u, location: $loc }) { id status checkedIn user { id } event { id } } }";

pub const CREATE_TOKEN: &str =
    "mutation($e: ID!) { createMeetingToken(input: { eventId: $e }) { token code expiresAt } }";

pub const CONFIRM: &str = "mutation($token: String, $code: String) { confirmMeeting(input: { token: $token, code: $code }) { id status createdAt event { id } scanner { id } subject { id } } }";

pub const RESPOND: &str = "mutation($id: ID!, $accept: Boolean!) { respondToMeeting(input: { confirmationId: $id, accept: $accept }) { id status scanner { id } subject { id } } }";

pub const VERIFICATION: &str =
    "query($id: ID!) { user(id: $id) { verification { emailVerified inPersonCount level } } }";

/// What a member shows to be scanned: a token for the QR code, and a code to type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeetingToken {
    pub token: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

impl TestApp {
    /// `checkIn` as `actor` (None: signed out): of `target` by a host, or of oneself at
    /// `location` when `target` is None. The whole answer.
    pub async fn check_in(
        &self,
        actor: Option<&Member>,
        event_id: &str,
        target: Option<&Member>,
        location: Option<(f64, f64)>,
    ) -> Value {
        self.graphql(
            actor.map(|a| a.access_token.as_str()),
            CHECK_IN,
            json!({
                "e": event_id,
                "u": target.map(|t| t.id.clone()),
                "loc": location.map(|(lat, lng)| json!({ "lat": lat, "lng": lng })),
            }),
        )
        .await
    }

    /// A host checks the member in (panics when refused).
    pub async fn host_checks_in(&self, host: &Member, event_id: &str, member: &Member) {
        let body = self
            .check_in(Some(host), event_id, Some(member), None)
            .await;
        assert_checked_in(&body, member);
    }

    /// `createMeetingToken` as the member: the whole answer.
    pub async fn create_token(&self, member: &Member, event_id: &str) -> Value {
        self.graphql(
            Some(&member.access_token),
            CREATE_TOKEN,
            json!({ "e": event_id }),
        )
        .await
    }

    /// A meeting token for the member (panics when refused).
    pub async fn meeting_token(&self, member: &Member, event_id: &str) -> MeetingToken {
        let body = self.create_token(member, event_id).await;
        serde_json::from_value(body["data"]["createMeetingToken"].clone())
            .unwrap_or_else(|e| panic!("createMeetingToken failed: {e}: {body}"))
    }

    /// The scanner scans a meeting token: the whole answer.
    pub async fn confirm_token(&self, scanner: &Member, token: &str) -> Value {
        self.graphql(
            Some(&scanner.access_token),
            CONFIRM,
            json!({ "token": token }),
        )
        .await
    }

    /// The subject of a confirmation accepts it (`accept`) or declines: the whole answer.
    pub async fn respond(&self, member: &Member, confirmation_id: &str, accept: bool) -> Value {
        self.graphql(
            Some(&member.access_token),
            RESPOND,
            json!({ "id": confirmation_id, "accept": accept }),
        )
        .await
    }

    /// The subject shows a token, the scanner scans it: a PENDING confirmation's ID.
    pub async fn meet(&self, scanner: &Member, subject: &Member, event_id: &str) -> String {
        let token = self.meeting_token(subject, event_id).await;
        let body = self.confirm_token(scanner, &token.token).await;
        pending_confirmation(&body, scanner, subject, event_id)
    }

    /// `meet`, then the subject accepts: a CONFIRMED confirmation's ID.
    pub async fn meet_and_accept(
        &self,
        scanner: &Member,
        subject: &Member,
        event_id: &str,
    ) -> String {
        let id = self.meet(scanner, subject, event_id).await;
        let body = self.respond(subject, &id, true).await;
        assert_eq!(
            body["data"]["respondToMeeting"]["status"], "CONFIRMED",
            "{body}"
        );
        id
    }

    /// `host` checks in each of `members`; `host`, when among them, is checked in by
    /// `other_host`: no host checks themselves in as a host.
    pub async fn hosts_check_in(
        &self,
        host: &Member,
        other_host: &Member,
        event_id: &str,
        members: &[&Member],
    ) {
        for member in members {
            let by = if member.id == host.id {
                other_host
            } else {
                host
            };
            self.host_checks_in(by, event_id, member).await;
        }
    }

    /// The member checks themselves in a few metres from `starting_soon`'s venue (panics
    /// when refused).
    pub async fn self_checks_in(&self, member: &Member, event_id: &str) {
        let body = self
            .check_in(Some(member), event_id, None, Some(NEAR_VENUE))
            .await;
        assert_checked_in(&body, member);
    }

    /// `(inPersonCount, level)` as anyone, signed out, sees them.
    pub async fn verification(&self, member: &Member) -> (i64, String) {
        let body = self
            .graphql(None, VERIFICATION, json!({ "id": member.id }))
            .await;
        let v = &body["data"]["user"]["verification"];
        (
            v["inPersonCount"]
                .as_i64()
                .unwrap_or_else(|| panic!("{body}")),
            v["level"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned(),
        )
    }
}

/// Asserts that a `checkIn` answer checked the member in.
pub fn assert_checked_in(body: &Value, member: &Member) {
    assert_eq!(body["data"]["checkIn"]["checkedIn"], true, "{body}");
    assert_eq!(
        body["data"]["checkIn"]["user"]["id"],
        member.id.as_str(),
        "{body}"
    );
}

/// Asserts a PENDING confirmation of `scanner` meeting `subject` at `event_id`; its ID.
pub fn pending_confirmation(
    body: &Value,
    scanner: &Member,
    subject: &Member,
    event_id: &str,
) -> String {
    let c = &body["data"]["confirmMeeting"];
    assert_eq!(c["status"], "PENDING", "{body}");
    assert_eq!(c["scanner"]["id"], scanner.id.as_str(), "{body}");
    assert_eq!(c["subject"]["id"], subject.id.as_str(), "{body}");
    assert_eq!(c["event"]["id"], event_id, "{body}");
    c["id"].as_str().unwrap().to_owned()
}

/// A verification as `TestApp::verification` gives it, to compare with.
pub fn level(count: i64, level: &str) -> (i64, String) {
    (count, level.to_owned())
}
