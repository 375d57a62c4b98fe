//! Guests through HTTP: each takes a place, an answer goes or waits whole, the waitlist
//! moves up in order an answer at a time, and no storm of answers overbooks.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

const ANSWER: &str = "mutation($id: ID!, $r: RsvpResponse!, $g: Int) { rsvp(input: { eventId: $id, response: $r, guests: $g }) { status guests waitlistPosition event { goingCount waitlistCount } } }";
const ANSWERS: &str = "query($id: ID!) { event(id: $id) { goingCount capacity attendees(first: 100) { nodes { user { id } } } } }";

async fn answer(
    app: &TestApp,
    member: &Member,
    event_id: &str,
    response: &str,
    guests: i32,
) -> Value {
    app.graphql(
        Some(&member.access_token),
        ANSWER,
        json!({ "id": event_id, "r": response, "g": guests }),
    )
    .await
}

/// An event of `capacity` places taking up to 3 guests per answer, and `n` members.
async fn event_with_guests(
    app: &TestApp,
    capacity: i32,
    n: usize,
) -> (Member, String, Vec<Member>) {
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Supper Club", 52.52, 13.405))
        .await;
    let starts = Utc::now() + Duration::days(3);
    let input = event_input(
        &group.id,
        json!({ "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339(), "capacity": capacity, "guestLimit": 3 }),
    );
    let event_id = app.create_event(&ann, input).await.id;
    let mut members = Vec::new();
    for i in 0..n {
        members.push(app.member_of(&group.id, &format!("m{i}@example.com")).await);
    }
    (ann, event_id, members)
}

#[tokio::test]
async fn guests_take_places_and_an_answer_that_does_not_fit_waits_whole() {
    let app = spawn_app().await;
    let (_, event_id, m) = event_with_guests(&app, 4, 5).await;
    let status = |body: &Value| body["data"]["rsvp"]["status"].as_str().map(str::to_owned);

    let body = answer(&app, &m[0], &event_id, "YES", 4).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.guests", "{body}");

    let body = answer(&app, &m[0], &event_id, "YES", 2).await;
    assert_eq!(status(&body).as_deref(), Some("GOING"), "{body}");
    assert_eq!(body["data"]["rsvp"]["event"]["goingCount"], 3);
    let body = answer(&app, &m[3], &event_id, "YES", 0).await;
    assert_eq!(body["data"]["rsvp"]["event"]["goingCount"], 4, "{body}");
    // Full: a whole answer waits, and so does a smaller one behind it.
    let body = answer(&app, &m[1], &event_id, "YES", 2).await;
    assert_eq!(status(&body).as_deref(), Some("WAITLISTED"), "{body}");
    let body = answer(&app, &m[2], &event_id, "YES", 0).await;
    assert_eq!(body["data"]["rsvp"]["waitlistPosition"], 2, "{body}");

    // More guests than places left: refused, the place kept.
    let body = answer(&app, &m[0], &event_id, "YES", 3).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    // Fewer guests free two places; the head of the queue needs three, so it waits, and the
    // answer behind it, which would fit, does not jump the queue.
    let body = answer(&app, &m[0], &event_id, "YES", 0).await;
    assert_eq!(body["data"]["rsvp"]["guests"], 0, "{body}");
    assert_eq!(
        body["data"]["rsvp"]["event"],
        json!({ "goingCount": 2, "waitlistCount": 2 })
    );
    // A new answer that would fit waits behind them too.
    let body = answer(&app, &m[4], &event_id, "YES", 0).await;
    assert_eq!(body["data"]["rsvp"]["waitlistPosition"], 3, "{body}");
    // One more place: the head (3 places) goes whole; the next needs one, none is left.
    let body = answer(&app, &m[3], &event_id, "NO", 0).await;
    assert_eq!(
        body["data"]["rsvp"]["event"],
        json!({ "goingCount": 4, "waitlistCount": 2 }),
        "{body}"
    );
    let mine = app
        .data_as(
            &m[1],
            "query($id: ID!) { event(id: $id) { viewerRsvp { status guests } } }",
            json!({ "id": event_id }),
        )
        .await;
    assert_eq!(
        mine["event"]["viewerRsvp"],
        json!({ "status": "GOING", "guests": 2 })
    );
    // NO frees the member's place and their guests': the next two in line go.
    let body = answer(&app, &m[1], &event_id, "NO", 0).await;
    assert_eq!(
        body["data"]["rsvp"]["event"],
        json!({ "goingCount": 3, "waitlistCount": 0 }),
        "{body}"
    );
}

#[tokio::test]
async fn when_a_waiting_answer_that_did_not_fit_leaves_the_next_one_goes() {
    let app = spawn_app().await;
    let (_, event_id, m) = event_with_guests(&app, 4, 3).await;
    let body = answer(&app, &m[0], &event_id, "YES", 1).await;
    assert_eq!(body["data"]["rsvp"]["event"]["goingCount"], 2, "{body}");
    // Four places wanted, two free: waits; one wanted, but behind it: waits too.
    let body = answer(&app, &m[1], &event_id, "YES", 3).await;
    assert_eq!(body["data"]["rsvp"]["status"], "WAITLISTED", "{body}");
    let body = answer(&app, &m[2], &event_id, "YES", 0).await;
    assert_eq!(body["data"]["rsvp"]["waitlistPosition"], 2, "{body}");
    // The head of the queue gives up: the next fits in the free places and goes at once.
    let body = answer(&app, &m[1], &event_id, "NO", 0).await;
    assert_eq!(
        body["data"]["rsvp"]["event"],
        json!({ "goingCount": 3, "waitlistCount": 0 }),
        "{body}"
    );
}

#[tokio::test]
async fn fifty_answers_with_guests_at_once_never_take_more_than_ten_places() {
    let app = spawn_app().await;
    let (ann, event_id, members) = event_with_guests(&app, 10, 50).await;
    let answers = futures::future::join_all(
        members
            .iter()
            .enumerate()
            .map(|(i, m)| answer(&app, m, &event_id, "YES", (i % 4) as i32)),
    )
    .await;
    let mut going = 0;
    let mut waiting = Vec::new();
    for (i, body) in answers.iter().enumerate() {
        let places = 1 + (i % 4) as i64;
        match body["data"]["rsvp"]["status"].as_str() {
            Some("GOING") => going += places,
            Some("WAITLISTED") => waiting.push((
                body["data"]["rsvp"]["waitlistPosition"].as_i64().unwrap(),
                places,
                i,
            )),
            _ => panic!("{body}"),
        }
    }
    let state = app.data_as(&ann, ANSWERS, json!({ "id": event_id })).await;
    let taken = state["event"]["goingCount"].as_i64().unwrap();
    assert!(taken <= 10, "{state}");
    assert_eq!(
        taken, going,
        "goingCount counts each GOING answer with its guests"
    );
    // The first in the queue did not fit whole when it was turned away; the queue has no gaps.
    waiting.sort();
    let positions: Vec<i64> = waiting.iter().map(|w| w.0).collect();
    assert_eq!(positions, (1..=waiting.len() as i64).collect::<Vec<_>>());

    // Everyone GOING leaves at once: the queue moves up in order, whole answers only, and
    // stops at the first that does not fit.
    let leaving: Vec<&Member> = answers
        .iter()
        .enumerate()
        .filter(|(_, b)| b["data"]["rsvp"]["status"] == "GOING")
        .map(|(i, _)| &members[i])
        .collect();
    futures::future::join_all(leaving.iter().map(|m| answer(&app, m, &event_id, "NO", 0))).await;
    let mut filled = 0;
    let mut expected_going = Vec::new();
    for (_, places, i) in &waiting {
        if filled + places > 10 {
            break;
        }
        filled += places;
        expected_going.push(members[*i].id.clone());
    }
    let state = app.data_as(&ann, ANSWERS, json!({ "id": event_id })).await;
    assert_eq!(state["event"]["goingCount"], filled, "{state}");
    let mut now_going: Vec<String> = state["event"]["attendees"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["user"]["id"].as_str().unwrap().to_owned())
        .collect();
    now_going.sort();
    expected_going.sort();
    assert_eq!(
        now_going, expected_going,
        "the queue's head, in order, as far as it fits whole"
    );
}
