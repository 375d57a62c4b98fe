//! A group's page of upcoming events is kept in each process while the group's version holds
//! (`domain::kept_pages`). What a client sees must never lag a change: made through this
//! process, through another one on the same database, or by hand in SQL; nor the clock.

use chrono::{Duration, Utc};
use entity::{event, event_host, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::helpers::*;

const PAGE: &str = "query($g: ID!) { group(id: $g) { name upcomingEvents(first: 20) { nodes { id title status goingCount hosts { displayName } } } } }";

/// The page as a signed-out visitor sees it, twice in a row (the second from the store when
/// nothing changed): both answers must agree.
async fn page(app: &TestApp, group_id: &str) -> Vec<Value> {
    let first = app.graphql(None, PAGE, json!({ "g": group_id })).await;
    let again = app.graphql(None, PAGE, json!({ "g": group_id })).await;
    assert!(first["errors"].is_null(), "{first}");
    assert_eq!(first, again);
    first["data"]["group"]["upcomingEvents"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

/// The same page reached from one of its events (`event.group`, whose version comes through
/// a data loader, not with the group).
async fn page_via_event(app: &TestApp, event_id: &str) -> Vec<Value> {
    let query = PAGE.replace(
        "query($g: ID!) { group(id: $g)",
        "query($e: ID!) { event(id: $e) { group",
    ) + " }";
    let body = app.graphql(None, &query, json!({ "e": event_id })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["event"]["group"]["upcomingEvents"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

fn titles(nodes: &[Value]) -> Vec<&str> {
    nodes.iter().map(|n| n["title"].as_str().unwrap()).collect()
}

fn node<'a>(nodes: &'a [Value], id: &str) -> &'a Value {
    nodes
        .iter()
        .find(|n| n["id"] == id)
        .unwrap_or_else(|| panic!("{id} is listed: {nodes:?}"))
}

fn host_names(nodes: &[Value], id: &str) -> Vec<String> {
    node(nodes, id)["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["displayName"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_kept_group_page_shows_every_change_from_any_process_or_by_hand() {
    let here = spawn_app().await;
    let there = spawn_app_with(&[("DATABASE_URL", &here.database_url)]).await;
    let ann = here.verified_member("ann@example.com", "Ann").await;
    let group = here
        .create_group(&ann, group_input("Repair Cafe", 52.52, 13.405))
        .await;
    let starts = Utc::now() + Duration::days(2);
    let mut ids = Vec::new();
    for i in 0..3 {
        let at = starts + Duration::days(i);
        let input = event_input(
            &group.id,
            json!({ "title": format!("Evening {i}"), "startsAt": at.to_rfc3339(), "endsAt": (at + Duration::hours(2)).to_rfc3339() }),
        );
        ids.push(here.create_event(&ann, input).await.id);
    }
    let shown = page(&here, &group.id).await;
    assert_eq!(titles(&shown), ["Evening 0", "Evening 1", "Evening 2"]);
    assert_eq!(node(&shown, &ids[0])["goingCount"], 0);

    // An RSVP through the other process.
    let bob = there
        .new_member_of(&group.id, "bob@example.com", "Bob", Address::Verified)
        .await;
    assert_eq!(
        node(&page_via_event(&here, &ids[0]).await, &ids[0])["goingCount"],
        0
    );
    there.going(&bob, &ids[0]).await;
    assert_eq!(
        page_via_event(&here, &ids[0]).await,
        page(&here, &group.id).await
    );
    assert_eq!(
        node(&page(&here, &group.id).await, &ids[0])["goingCount"],
        1
    );

    // The host renames herself through the other process.
    let body = there
        .data_as(
            &ann,
            "mutation { updateProfile(input: { displayName: \"Ann K.\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(body["updateProfile"]["id"].is_string(), "{body}");
    assert_eq!(
        node(&page(&here, &group.id).await, &ids[1])["hosts"],
        json!([{ "displayName": "Ann K." }])
    );

    // Changed and cancelled through this process.
    let body = here
        .data_as(
            &ann,
            "mutation($id: ID!) { updateEvent(input: { eventId: $id, title: \"Evening one\" }) { id } }",
            json!({ "id": ids[1] }),
        )
        .await;
    assert!(body["updateEvent"]["id"].is_string(), "{body}");
    let body = here
        .data_as(
            &ann,
            "mutation($id: ID!) { cancelEvent(input: { eventId: $id }) { id } }",
            json!({ "id": ids[2] }),
        )
        .await;
    assert!(body["cancelEvent"]["id"].is_string(), "{body}");
    let shown = page(&here, &group.id).await;
    assert_eq!(titles(&shown), ["Evening 0", "Evening one", "Evening 2"]);
    assert_eq!(node(&shown, &ids[2])["status"], "CANCELLED");

    // A new event, sooner than the rest, made through the other process.
    let at = Utc::now() + Duration::days(1);
    let input = event_input(
        &group.id,
        json!({ "title": "Tomorrow", "startsAt": at.to_rfc3339(), "endsAt": (at + Duration::hours(2)).to_rfc3339() }),
    );
    let tomorrow = there.create_event(&ann, input).await.id;
    assert_eq!(
        titles(&page(&here, &group.id).await),
        ["Tomorrow", "Evening 0", "Evening one", "Evening 2"]
    );

    // By hand, in SQL, behind every process's back: an event's row, a host's row, a host
    // added, a host taken off, an event deleted.
    let db = &here.state.db;
    event::Entity::update_many()
        .col_expr(event::Column::Title, Expr::value("Evening zero"))
        .filter(event::Column::Id.eq(uuid_of(&ids[0])))
        .exec(db)
        .await
        .unwrap();
    user::Entity::update_many()
        .col_expr(user::Column::DisplayName, Expr::value("Bobby"))
        .filter(user::Column::Id.eq(uuid_of(&bob.id)))
        .exec(db)
        .await
        .unwrap();
    let shown = page(&here, &group.id).await;
    assert_eq!(node(&shown, &ids[0])["title"], "Evening zero");
    event_host::ActiveModel {
        event_id: Set(uuid_of(&ids[0])),
        user_id: Set(uuid_of(&bob.id)),
    }
    .insert(db)
    .await
    .unwrap();
    let mut hosts = host_names(&page(&here, &group.id).await, &ids[0]);
    hosts.sort();
    assert_eq!(hosts, ["Ann K.", "Bobby"]);
    user::Entity::update_many()
        .col_expr(user::Column::DisplayName, Expr::value("Robert"))
        .filter(user::Column::Id.eq(uuid_of(&bob.id)))
        .exec(db)
        .await
        .unwrap();
    let mut hosts = host_names(&page(&here, &group.id).await, &ids[0]);
    hosts.sort();
    assert_eq!(hosts, ["Ann K.", "Robert"]);
    event_host::Entity::delete_many()
        .filter(event_host::Column::EventId.eq(uuid_of(&ids[0])))
        .filter(event_host::Column::UserId.eq(uuid_of(&bob.id)))
        .exec(db)
        .await
        .unwrap();
    assert_eq!(
        node(&page(&here, &group.id).await, &ids[0])["hosts"],
        json!([{ "displayName": "Ann K." }])
    );
    event::Entity::delete_by_id(uuid_of(&tomorrow))
        .exec(db)
        .await
        .unwrap();
    assert_eq!(
        titles(&page(&here, &group.id).await),
        ["Evening zero", "Evening one", "Evening 2"]
    );
}

/// Time alone changes what is upcoming: an event that ends leaves the kept page, with no
/// write to tell.
#[tokio::test]
async fn an_event_leaves_the_kept_page_when_it_ends() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Repair Cafe", 52.52, 13.405))
        .await;
    let soon = Utc::now() + Duration::seconds(4);
    let input = event_input(
        &group.id,
        json!({ "title": "Brief", "startsAt": soon.to_rfc3339(), "endsAt": (soon + Duration::seconds(2)).to_rfc3339() }),
    );
    app.create_event(&ann, input).await;
    let later = Utc::now() + Duration::days(1);
    let input = event_input(
        &group.id,
        json!({ "title": "Tomorrow", "startsAt": later.to_rfc3339(), "endsAt": (later + Duration::hours(2)).to_rfc3339() }),
    );
    app.create_event(&ann, input).await;
    assert_eq!(titles(&page(&app, &group.id).await), ["Brief", "Tomorrow"]);
    let ends = soon + Duration::seconds(2);
    tokio::time::sleep((ends - Utc::now()).to_std().unwrap_or_default()).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(titles(&page(&app, &group.id).await), ["Tomorrow"]);
}
