//! Work the server does in the background, run here as of a chosen moment: recurring series
//! topped up as time passes, and notification mail retried until it is sent.

use chrono::{DateTime, Duration, Utc};
use kith::domain::series;
use kith::notify::outbox;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

const SERIES_LIST: &str = "query($g: ID!) { group(id: $g) { upcomingEvents(first: 100) { nodes { id title startsAt endsAt hosts { id } series { id } } } } }";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The group's upcoming occurrences of series, soonest first.
async fn occurrences(app: &TestApp, group_id: &str) -> Vec<Value> {
    let body = app
        .graphql(None, SERIES_LIST, json!({ "g": group_id }))
        .await;
    body["data"]["group"]["upcomingEvents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|e| !e["series"].is_null())
        .cloned()
        .collect()
}

async fn create_series(app: &TestApp, ann: &Member, group_id: &str, rule: &str) {
    // Sundays at 09:00 in Berlin (08:00Z in winter) from 3 January 2027.
    let input = event_input(
        group_id,
        json!({
            "title": "Sunday Run",
            "startsAt": "2027-01-03T08:00:00Z", "endsAt": "2027-01-03T09:00:00Z",
            "timeZone": "Europe/Berlin", "recurrence": rule,
        }),
    );
    app.create_event(ann, input).await;
}

#[tokio::test]
async fn an_open_ended_series_is_topped_up_from_its_latest_occurrence() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({})).await;
    create_series(&app, &ann, &group_id, "FREQ=WEEKLY").await;
    let made = occurrences(&app, &group_id).await;
    assert_eq!(made.len(), 52, "a year's worth at most 52");
    assert_eq!(made[51]["startsAt"], "2027-12-26T08:00:00.000Z");

    // The last occurrence moves to 10:00 under a new name, and so do the ones after it.
    let edit = app
        .graphql(
            Some(&ann.access_token),
            UPDATE_EVENT,
            json!({ "input": { "eventId": made[51]["id"], "scope": "THIS_AND_FOLLOWING", "title": "Sunday Long Run", "startsAt": "2027-12-26T09:00:00Z", "endsAt": "2027-12-26T10:00:00Z" } }),
        )
        .await;
    assert!(edit["data"]["updateEvent"]["id"].is_string(), "{edit}");

    // On 1 March 2027 nine Sundays have passed: nine more, up to 27 February 2028.
    let march = at("2027-03-01T00:00:00Z");
    assert_eq!(series::top_up_all(&app.state.db, march).await.unwrap(), 9);
    assert_eq!(
        series::top_up_all(&app.state.db, march).await.unwrap(),
        0,
        "nothing twice"
    );
    let all = occurrences(&app, &group_id).await;
    assert_eq!(all.len(), 61);
    let new = &all[52..];
    assert_eq!(new[0]["startsAt"], "2028-01-02T09:00:00.000Z");
    assert_eq!(new[8]["startsAt"], "2028-02-27T09:00:00.000Z");
    assert_eq!(new[8]["endsAt"], "2028-02-27T10:00:00.000Z");
    for event in new {
        assert_eq!(event["title"], "Sunday Long Run");
        assert_eq!(event["series"], all[0]["series"]);
        assert_eq!(event["hosts"], json!([{ "id": ann.id }]));
    }

    // Two processes topping up at once make each occurrence once.
    let week_later = march + Duration::days(7);
    let (a, b) = tokio::join!(
        series::top_up_all(&app.state.db, week_later),
        series::top_up_all(&app.state.db, week_later),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let all = occurrences(&app, &group_id).await;
    assert_eq!(all.len(), 62);
    assert_eq!(all[61]["startsAt"], "2028-03-05T09:00:00.000Z");
}

#[tokio::test]
async fn a_counted_series_stops_at_its_count() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({})).await;
    create_series(&app, &ann, &group_id, "FREQ=WEEKLY;COUNT=55").await;
    assert_eq!(occurrences(&app, &group_id).await.len(), 52);

    let march = at("2027-03-01T00:00:00Z");
    assert_eq!(series::top_up_all(&app.state.db, march).await.unwrap(), 3);
    let june = at("2027-06-01T00:00:00Z");
    assert_eq!(series::top_up_all(&app.state.db, june).await.unwrap(), 0);
    let all = occurrences(&app, &group_id).await;
    assert_eq!(all.len(), 55);
    assert_eq!(all[54]["startsAt"], "2028-01-16T08:00:00.000Z");
}

#[tokio::test]
async fn notification_mail_that_could_not_be_sent_is_sent_later_once() {
    let app = spawn_app().await;
    let (_ann, group_id, event) = app
        .organiser_with_event(json!({ "capacity": 1, "title": "Pottery Evening" }))
        .await;
    let id = event.id.as_str();
    let bo = app.member_of(&group_id, "bo@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    let dee = app.member_of(&group_id, "dee@example.com").await;
    app.answer(&bo, id, "YES").await;
    app.answer(&cy, id, "YES").await;
    app.answer(&dee, id, "YES").await;

    // Sent at once: nothing is owed afterwards.
    app.answer(&bo, id, "NO").await;
    assert!(app.mail_arrives("cy@example.com", "Pottery Evening").await);
    // The file appears a moment before the send marks the mail sent; wait for the mark.
    for _ in 0..100 {
        let owed = entity::mail_outbox::Entity::find()
            .filter(entity::mail_outbox::Column::DueAt.is_not_null())
            .count(&app.state.db)
            .await
            .unwrap();
        if owed == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let later = Utc::now() + outbox::GRACE + Duration::seconds(1);
    assert_eq!(
        outbox::retry(&app.state.db, &app.state.outlets.mailer, later)
            .await
            .unwrap(),
        0
    );

    // The mail folder is gone, so the send after the commit fails; the notification stays.
    std::fs::remove_dir_all(&app.mail_dir).unwrap();
    app.answer(&cy, id, "NO").await;
    let body = app
        .graphql(
            Some(&dee.access_token),
            "{ viewer { notifications(first: 5) { nodes { kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["viewer"]["notifications"]["nodes"][0]["kind"], "WAITLIST_PROMOTED",
        "{body}"
    );
    // Let the failed send finish before the folder comes back.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    std::fs::create_dir_all(&app.mail_dir).unwrap();
    assert_eq!(app.count_mails("dee@example.com", "Pottery Evening"), 0);

    // Not before its grace period: the send after the commit has that long.
    assert_eq!(
        outbox::retry(&app.state.db, &app.state.outlets.mailer, Utc::now())
            .await
            .unwrap(),
        0
    );
    let later = Utc::now() + outbox::GRACE + Duration::seconds(1);
    assert_eq!(
        outbox::retry(&app.state.db, &app.state.outlets.mailer, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.count_mails("dee@example.com", "Pottery Evening"), 1);
    assert_eq!(
        outbox::retry(
            &app.state.db,
            &app.state.outlets.mailer,
            later + Duration::hours(1)
        )
        .await
        .unwrap(),
        0,
        "sent, so no longer owed"
    );
    assert_eq!(app.count_mails("dee@example.com", "Pottery Evening"), 1);
}
