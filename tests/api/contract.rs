//! Pieces of the contract the apps' caches and screens rely on: `Viewer.id`, `serverInfo`
//! without signing in, and `nodes(ids:)` answering in order with null for what is missing
//! or hidden.

use kith::graphql::ids::{Kind, encode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const SERVER_INFO: &str = "{ serverInfo { version checkInRadiusMeters meetingTokenSeconds maxPageSize maxQueryDepth maxQueryComplexity } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";

#[tokio::test]
async fn server_info_needs_no_sign_in_and_viewer_id_is_the_members_user_id() {
    let app = spawn_app().await;
    let body = app.graphql(None, SERVER_INFO, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let info = &body["data"]["serverInfo"];
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["maxPageSize"], 100);
    assert_eq!(info["maxQueryDepth"], 15);
    assert_eq!(info["maxQueryComplexity"], 2000);
    assert!(
        info["checkInRadiusMeters"].as_f64().unwrap() > 0.0,
        "{body}"
    );
    assert!(info["meetingTokenSeconds"].as_i64().unwrap() > 0, "{body}");

    let ann = app.sign_up("ann@example.com", "Ann").await;
    let body = app
        .graphql(
            Some(&ann.access_token),
            "{ viewer { id user { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["viewer"]["id"], ann.id.as_str(), "{body}");
    assert_eq!(body["data"]["viewer"]["user"]["id"], ann.id.as_str());
}

fn typenames(body: &Value) -> Vec<Value> {
    body["data"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {body}"))
        .iter()
        .map(|node| node["__typename"].clone())
        .collect()
}

#[tokio::test]
async fn nodes_answer_in_order_with_null_for_what_is_missing_or_hidden() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let bo = app.sign_up("bo@example.com", "Bo").await;
    let group = app
        .create_group(&ann, group_input("Berlin Walkers", 52.52, 13.405))
        .await;
    let membership = app
        .graphql(
            Some(&ann.access_token),
            "query($id: ID!) { group(id: $id) { viewerMembership { id } } }",
            json!({ "id": group.id }),
        )
        .await["data"]["group"]["viewerMembership"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing_event = encode(Kind::Event, Uuid::now_v7()).to_string();
    let ids = json!([group.id, missing_event, membership, ann.id, "not an id"]);

    // Ann sees her own membership; Bo, not a member, gets null in its place.
    let for_ann = app
        .graphql(Some(&ann.access_token), NODES, json!({ "ids": ids }))
        .await;
    assert!(for_ann["errors"].is_null(), "{for_ann}");
    assert_eq!(
        typenames(&for_ann),
        vec![
            json!("Group"),
            Value::Null,
            json!("Membership"),
            json!("User"),
            Value::Null
        ]
    );
    assert_eq!(for_ann["data"]["nodes"][0]["id"], group.id.as_str());
    assert_eq!(for_ann["data"]["nodes"][3]["id"], ann.id.as_str());
    let for_bo = app
        .graphql(Some(&bo.access_token), NODES, json!({ "ids": ids }))
        .await;
    assert_eq!(
        typenames(&for_bo),
        vec![
            json!("Group"),
            Value::Null,
            Value::Null,
            json!("User"),
            Value::Null
        ]
    );

    // At most 100 at once.
    let many: Vec<&str> = std::iter::repeat_n(group.id.as_str(), 101).collect();
    let refused = app
        .graphql(Some(&bo.access_token), NODES, json!({ "ids": many }))
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    let hundred: Vec<&str> = std::iter::repeat_n(group.id.as_str(), 100).collect();
    let fine = app
        .graphql(Some(&bo.access_token), NODES, json!({ "ids": hundred }))
        .await;
    assert_eq!(typenames(&fine).len(), 100, "{fine}");
}

/// Every time in `value` (a string under a key ending in `At`), with its path.
fn times<'a>(value: &'a Value, path: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let here = format!("{path}.{key}");
                match field.as_str() {
                    Some(text) if key.ends_with("At") => found.push((here, text)),
                    _ => times(field, here, found),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                times(item, format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// `2027-03-28T17:00:00.000Z`: UTC, `Z`, milliseconds, nothing else.
fn in_the_one_form(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| range.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
}

#[tokio::test]
async fn every_time_in_a_response_has_the_one_form_whatever_offset_came_in() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({})).await;
    // An input with an offset and no fraction is read as the instant it names.
    let input = event_input(
        &group_id,
        json!({ "startsAt": "2027-03-04T19:00:00+01:00", "endsAt": "2027-03-04T21:30:00.5+01:00" }),
    );
    let made = app
        .graphql(
            Some(&ann.access_token),
            "mutation($input: CreateEventInput!) { createEvent(input: $input) { startsAt endsAt } }",
            json!({ "input": input }),
        )
        .await;
    assert_eq!(
        made["data"]["createEvent"]["startsAt"], "2027-03-04T18:00:00.000Z",
        "{made}"
    );
    assert_eq!(
        made["data"]["createEvent"]["endsAt"], "2027-03-04T20:30:00.500Z",
        "{made}"
    );

    let body = app
        .graphql(
            Some(&ann.access_token),
            "query($g: ID!) { viewer { sessions { createdAt lastUsedAt } memberships(first: 5) { nodes { joinedAt } } } group(id: $g) { createdAt closedAt upcomingEvents(first: 5) { nodes { startsAt endsAt } } } }",
            json!({ "g": group_id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let mut found = Vec::new();
    times(&body["data"], "data".into(), &mut found);
    assert!(found.len() >= 7, "a sample with many times: {found:?}");
    for (path, text) in found {
        assert!(in_the_one_form(text), "{path} is {text:?}");
    }
}
