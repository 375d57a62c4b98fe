//! The life of an event through HTTP: saved events (a heart), the RSVP deadline, and past
//! events with who attended.

use chrono::{Duration, Utc};
use entity::event;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

const SAVE: &str = "mutation($id: ID!) { saveEvent(input: {eventId: $id}) { id viewerSaved } }";
const UNSAVE: &str = "mutation($id: ID!) { unsaveEvent(input: {eventId: $id}) { id viewerSaved } }";
const SAVED: &str = "query($after: String) { viewer { savedEvents(first: 2, after: $after) { nodes { title viewerSaved } pageInfo { hasNextPage endCursor } } } }";

async fn titled(app: &TestApp, by: &Member, group_id: &str, title: &str, days: i64) -> String {
    let starts = Utc::now() + Duration::days(days);
    let mut input = event_input(
        group_id,
        json!({ "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339() }),
    );
    input["title"] = json!(title);
    app.create_event(by, input).await.id
}

/// Every title of the viewer's saved events, page by page (two a page).
async fn saved_titles(app: &TestApp, member: &Member) -> Vec<String> {
    let mut titles = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.data_as(member, SAVED, json!({ "after": after })).await;
        let page = &data["viewer"]["savedEvents"];
        for node in page["nodes"].as_array().unwrap() {
            assert_eq!(node["viewerSaved"], true);
            titles.push(node["title"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return titles;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn saved_events_come_newest_saved_first_and_saving_twice_changes_nothing() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let bea = app.verified_member("bea@example.com", "Bea").await;
    let mut ids = Vec::new();
    for (title, days) in [("First", 3), ("Second", 1), ("Third", 9)] {
        ids.push(titled(&app, &ann, &group.id, title, days).await);
    }
    // Anyone signed in may save an event they can see, without joining its group.
    for id in [&ids[1], &ids[0], &ids[2], &ids[1]] {
        let data = app.data_as(&bea, SAVE, json!({ "id": id })).await;
        assert_eq!(data["saveEvent"]["viewerSaved"], true);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Saving "Second" again kept its first time: it is the oldest save.
    assert_eq!(saved_titles(&app, &bea).await, ["Third", "First", "Second"]);
    assert!(
        saved_titles(&app, &ann).await.is_empty(),
        "saves are each member's own"
    );

    let data = app.data_as(&bea, UNSAVE, json!({ "id": ids[0] })).await;
    assert_eq!(data["unsaveEvent"]["viewerSaved"], false);
    let data = app.data_as(&bea, UNSAVE, json!({ "id": ids[0] })).await;
    assert_eq!(
        data["unsaveEvent"]["viewerSaved"], false,
        "unsaving twice is fine"
    );
    assert_eq!(saved_titles(&app, &bea).await, ["Third", "Second"]);

    // Signed out, viewerSaved is null, not false; saving needs an account.
    let body = app
        .graphql(
            None,
            "query($id: ID!) { event(id: $id) { viewerSaved } }",
            json!({ "id": ids[2] }),
        )
        .await;
    assert!(body["data"]["event"]["viewerSaved"].is_null(), "{body}");
    let body = app.graphql(None, SAVE, json!({ "id": ids[2] })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    // An unknown event is NOT_FOUND.
    let unknown = app
        .graphql(
            Some(&bea.access_token),
            SAVE,
            json!({ "id": unknown_id("Event") }),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND", "{unknown}");
}

#[tokio::test]
async fn after_the_deadline_yes_is_refused_and_no_still_taken() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let bea = app.member_of(&group.id, "bea@example.com").await;
    let cy = app.member_of(&group.id, "cy@example.com").await;
    let starts = Utc::now() + Duration::days(2);
    let deadline = starts - Duration::days(1);

    // A deadline after the start is refused, naming the field.
    let mut late = event_input(
        &group.id,
        json!({ "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339() }),
    );
    late["rsvpClosesAt"] = json!((starts + Duration::minutes(1)).to_rfc3339());
    let body = app
        .graphql(
            Some(&ann.access_token),
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": late }),
        )
        .await;
    assert_eq!(error_field(&body), "input.rsvpClosesAt", "{body}");

    let mut input = event_input(
        &group.id,
        json!({ "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339() }),
    );
    input["rsvpClosesAt"] = json!(deadline.to_rfc3339());
    let event_id = app.create_event(&ann, input).await.id;
    app.going(&bea, &event_id).await;

    // Moving the start before the deadline is refused too.
    let update = "mutation($i: UpdateEventInput!) { updateEvent(input: $i) { rsvpClosesAt } }";
    let body = app
        .graphql(
            Some(&ann.access_token),
            update,
            json!({ "i": { "eventId": event_id, "startsAt": (deadline - Duration::hours(1)).to_rfc3339() } }),
        )
        .await;
    assert_eq!(error_field(&body), "input.rsvpClosesAt", "{body}");

    // The organiser closes answers now (a deadline already past).
    let closed = Utc::now() - Duration::minutes(1);
    let body = app
        .graphql(
            Some(&ann.access_token),
            update,
            json!({ "i": { "eventId": event_id, "rsvpClosesAt": closed.to_rfc3339() } }),
        )
        .await;
    assert!(
        body["data"]["updateEvent"]["rsvpClosesAt"].is_string(),
        "{body}"
    );
    let body = app.answer(&cy, &event_id, "YES").await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    // Bea, already going, may say YES again (nothing changes) and then NO.
    let body = app.answer(&bea, &event_id, "YES").await;
    assert_eq!(body["data"]["rsvp"]["status"], "GOING", "{body}");
    let body = app.answer(&bea, &event_id, "NO").await;
    assert_eq!(body["data"]["rsvp"]["status"], "NOT_GOING", "{body}");
    let body = app.answer(&bea, &event_id, "YES").await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // Clearing the deadline opens answers again.
    let body = app
        .graphql(
            Some(&ann.access_token),
            update,
            json!({ "i": { "eventId": event_id, "rsvpClosesAt": null } }),
        )
        .await;
    assert!(
        body["data"]["updateEvent"]["rsvpClosesAt"].is_null(),
        "{body}"
    );
    app.going(&cy, &event_id).await;
}

const PAST: &str = "query($g: ID!) { group(id: $g) { pastEvents(first: 10) { nodes { title } } upcomingEvents(first: 10) { nodes { title } } } viewer { pastEvents(first: 10) { nodes { title viewerRsvp { status attended } } } } }";

#[tokio::test]
async fn past_events_list_what_ended_and_attended_tells_who_came() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let bea = app.member_of(&group.id, "bea@example.com").await;
    let cy = app.member_of(&group.id, "cy@example.com").await;
    let event_id = app
        .create_event(
            &ann,
            starting_soon(&group.id, json!({ "title": "Tonight" })),
        )
        .await
        .id;
    titled(&app, &ann, &group.id, "Next week", 7).await;
    for member in [&bea, &cy] {
        app.going(member, &event_id).await;
    }
    app.self_checks_in(&bea, &event_id).await;

    // Before the end, nothing is past and attended is null.
    let data = app.data_as(&bea, PAST, json!({ "g": group.id })).await;
    assert_eq!(data["group"]["pastEvents"]["nodes"], json!([]), "{data}");
    assert_eq!(data["viewer"]["pastEvents"]["nodes"], json!([]), "{data}");
    let mine = app
        .data_as(
            &bea,
            "query($id: ID!) { event(id: $id) { viewerRsvp { attended checkedIn } } }",
            json!({ "id": event_id }),
        )
        .await;
    assert_eq!(mine["event"]["viewerRsvp"]["checkedIn"], true, "{mine}");
    assert!(mine["event"]["viewerRsvp"]["attended"].is_null(), "{mine}");

    // The evening ends.
    let ended = Utc::now() - Duration::minutes(5);
    event::Entity::update_many()
        .col_expr(
            event::Column::StartsAt,
            Expr::value(ended - Duration::hours(2)),
        )
        .col_expr(event::Column::EndsAt, Expr::value(ended))
        .filter(event::Column::Id.eq(uuid_of(&event_id)))
        .exec(&app.state.db)
        .await
        .unwrap();

    let data = app.data_as(&bea, PAST, json!({ "g": group.id })).await;
    assert_eq!(
        data["group"]["pastEvents"]["nodes"],
        json!([{ "title": "Tonight" }])
    );
    assert_eq!(
        data["group"]["upcomingEvents"]["nodes"],
        json!([{ "title": "Next week" }])
    );
    assert_eq!(
        data["viewer"]["pastEvents"]["nodes"],
        json!([{ "title": "Tonight", "viewerRsvp": { "status": "GOING", "attended": true } }])
    );
    let data = app.data_as(&cy, PAST, json!({ "g": group.id })).await;
    assert_eq!(
        data["viewer"]["pastEvents"]["nodes"],
        json!([{ "title": "Tonight", "viewerRsvp": { "status": "GOING", "attended": false } }]),
        "GOING and not checked in: did not come"
    );
    // Ann answered nothing: the event is not among her past events.
    let data = app.data_as(&ann, PAST, json!({ "g": group.id })).await;
    assert_eq!(data["viewer"]["pastEvents"]["nodes"], json!([]));
}
