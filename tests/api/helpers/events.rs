//! Events and answers to them.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::*;

pub const CREATE_EVENT: &str = "mutation($input: CreateEventInput!) { createEvent(input: $input) { id title startsAt timeZone capacity status goingCount waitlistCount venue { name address location { lat lng } } onlineUrl hosts { id } group { id } } }";

pub const UPDATE_EVENT: &str = "mutation($input: UpdateEventInput!) { updateEvent(input: $input) { id title capacity goingCount waitlistCount startsAt } }";

pub const CANCEL_EVENT: &str =
    "mutation($input: CancelEventInput!) { cancelEvent(input: $input) { id status cancelReason } }";

pub const RSVP: &str = "mutation($id: ID!, $r: RsvpResponse!) { rsvp(input: { eventId: $id, response: $r }) { id status waitlistPosition user { id } event { goingCount waitlistCount } } }";

/// An event as `createEvent` answers: the fields the tests read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub title: String,
    pub starts_at: DateTime<FixedOffset>,
    pub time_zone: String,
    pub status: String,
    pub venue: Option<Venue>,
    pub hosts: Vec<Ref>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Venue {
    pub name: String,
}

/// A valid `CreateEventInput` for an event of the group a week from now, three hours long,
/// at c-base in Berlin, with the given fields replaced.
pub fn event_input(group_id: &str, changes: Value) -> Value {
    let starts = Utc::now() + Duration::days(7);
    let mut input = json!({
        "groupId": group_id,
        "title": "Thursday Hack Night",
        "description": "Bring a laptop.",
        "startsAt": starts.to_rfc3339(),
        "endsAt": (starts + Duration::hours(3)).to_rfc3339(),
        "venue": { "name": "c-base", "address": "Rungestraße 20, Berlin", "location": { "lat": 52.5129, "lng": 13.4201 } },
    });
    for (key, value) in changes.as_object().expect("an object") {
        input[key] = value.clone();
    }
    input
}

/// `event_input` for an event that starts in ten minutes and lasts two hours: "now" is
/// inside the check-in window, which opens 30 minutes before the start, so check-in and
/// meetings are open.
pub fn starting_soon(group_id: &str, changes: Value) -> Value {
    let starts = Utc::now() + Duration::minutes(10);
    let mut input = event_input(
        group_id,
        json!({ "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339() }),
    );
    for (key, value) in changes.as_object().expect("an object of changes") {
        input[key] = value.clone();
    }
    input
}

impl TestApp {
    /// Creates an event (panics when refused).
    pub async fn create_event(&self, host: &Member, input: Value) -> Event {
        let body = self
            .graphql(
                Some(&host.access_token),
                CREATE_EVENT,
                json!({ "input": input }),
            )
            .await;
        serde_json::from_value(body["data"]["createEvent"].clone())
            .unwrap_or_else(|e| panic!("createEvent failed: {e}: {body}"))
    }

    /// An organiser (Ann, verified), their group Hack Nights, and an event in it made from
    /// `event_input` with these changes.
    pub async fn organiser_with_event(&self, changes: Value) -> (Member, String, Event) {
        let ann = self.verified_member("ann@example.com", "Ann").await;
        let group = self
            .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
            .await;
        let event = self
            .create_event(&ann, event_input(&group.id, changes))
            .await;
        (ann, group.id, event)
    }

    /// The member answers YES, NO, ...: the whole answer.
    pub async fn answer(&self, member: &Member, event_id: &str, response: &str) -> Value {
        self.graphql(
            Some(&member.access_token),
            RSVP,
            json!({ "id": event_id, "r": response }),
        )
        .await
    }

    /// The member answers YES and gets `status` (GOING or WAITLISTED).
    pub async fn says_yes(&self, member: &Member, event_id: &str, status: &str) {
        let body = self.answer(member, event_id, "YES").await;
        assert_eq!(body["data"]["rsvp"]["status"], status, "{body}");
    }

    /// The member answers YES and is GOING.
    pub async fn going(&self, member: &Member, event_id: &str) {
        self.says_yes(member, event_id, "GOING").await;
    }
}
