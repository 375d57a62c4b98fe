//! Every selected field is in the response, as a value or null, whoever asks: what Apollo's
//! generated parsers need. A walker follows each representative query's selection (with
//! fragments and aliases) through the answer and fails on any key that is missing.

use async_graphql::parser::parse_query;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned};
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::helpers::*;

/// Asserts that `data` holds every field `query` selects, down to the first null.
fn assert_complete(query: &str, data: &Value) {
    let document = parse_query(query).unwrap();
    let selection = match &document.operations {
        DocumentOperations::Single(op) => &op.node.selection_set,
        DocumentOperations::Multiple(ops) => &ops.values().next().unwrap().node.selection_set,
    };
    walk(&document, selection, data, "data");
}

fn walk(document: &ExecutableDocument, set: &Positioned<SelectionSet>, value: &Value, at: &str) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(document, set, item, &format!("{at}[{i}]"));
            }
        }
        Value::Object(object) => {
            for (key, below) in selected(&document.fragments, set, object) {
                let inner = object
                    .get(key.as_str())
                    .unwrap_or_else(|| panic!("{at}.{key} is missing from {value}"));
                if !below.node.items.is_empty() {
                    walk(document, below, inner, &format!("{at}.{key}"));
                }
            }
        }
        _ => panic!("{at} is a scalar where an object was selected: {value}"),
    }
}

/// The response keys `set` selects on this object, with the selection below each. Inline
/// fragments and spreads count when their type is the object's `__typename` (each query
/// selects it where it spreads on an interface), or when they carry no type.
fn selected<'a>(
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    set: &'a Positioned<SelectionSet>,
    object: &serde_json::Map<String, Value>,
) -> Vec<(String, &'a Positioned<SelectionSet>)> {
    let typename = object.get("__typename").and_then(Value::as_str);
    let applies = |on: Option<&str>| match (on, typename) {
        (None, _) | (_, None) => true,
        (Some(on), Some(ty)) => on == ty || !is_object_type(on),
    };
    let mut keys = Vec::new();
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => keys.push((
                field.node.response_key().node.to_string(),
                &field.node.selection_set,
            )),
            Selection::InlineFragment(inline) => {
                let on = inline
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str());
                if applies(on) {
                    keys.extend(selected(fragments, &inline.node.selection_set, object));
                }
            }
            Selection::FragmentSpread(spread) => {
                let fragment = &fragments[&spread.node.fragment_name.node];
                if applies(Some(fragment.node.type_condition.node.on.node.as_str())) {
                    keys.extend(selected(fragments, &fragment.node.selection_set, object));
                }
            }
        }
    }
    keys
}

/// Interfaces of the contract: a fragment on one applies to every object implementing it.
fn is_object_type(name: &str) -> bool {
    name != "Node"
}

/// A shared fragment an app would write for an event row, with fields only some may see.
const EVENT_ROW: &str = "fragment EventRow on Event { __typename id title startsAt status goingCount hosts { id displayName } group { id name memberCount viewerMembership { id role } } viewerRsvp { id status waitlistPosition } attendees(first: 5) { nodes { id user { id displayName } } pageInfo { hasNextPage endCursor } } peopleToMeet(first: 3) { user { id } sharedInterests { name } } series { id } venue { name location { lat lng } } }";

fn queries(group: &str, event: &str, rsvp: &str, membership: &str) -> Vec<(String, Value)> {
    vec![
        (
            format!("query($e: ID!) {{ event(id: $e) {{ ...EventRow }} }} {EVENT_ROW}"),
            json!({ "e": event }),
        ),
        (
            format!("{{ searchEvents(filter: {{ near: {{ lat: 52.52, lng: 13.405 }}, radiusKm: 50 }}, first: 10) {{ edges {{ cursor distanceKm node {{ ...EventRow }} }} pageInfo {{ hasNextPage }} }} }} {EVENT_ROW}"),
            json!({}),
        ),
        (
            "query($g: ID!) { group(id: $g) { __typename id name organizers { id } members(first: 10) { nodes { id role user { displayName verification { level inPersonCount } } } } upcomingEvents(first: 5) { nodes { id title attendees { nodes { id } } } } viewerMembership { id status } } }".to_owned(),
            json!({ "g": group }),
        ),
        (
            "query($id: ID!) { a: node(id: $id) { __typename id ... on Rsvp { status user { id } } } }".to_owned(),
            json!({ "id": rsvp }),
        ),
        (
            "query($m: ID!, $g: ID!) { m: node(id: $m) { __typename id ... on Membership { role user { id } } } g: node(id: $g) { __typename id ... on Group { name members { nodes { id } } } } }".to_owned(),
            json!({ "m": membership, "g": group }),
        ),
        (
            "{ viewer { email user { id displayName } memberships(first: 5) { nodes { id group { id members(first: 2) { nodes { id } } } } } upcomingEvents(first: 5) { nodes { id attendees(first: 2) { nodes { id } } } } notifications(first: 5) { nodes { id kind event { id } } } } }".to_owned(),
            json!({}),
        ),
    ]
}

#[tokio::test]
async fn every_selected_field_is_in_the_answer_for_a_member_a_stranger_and_anyone() {
    let app = spawn_app().await;
    let (olga, group_id, _) = app.organiser_with_event(json!({})).await;
    let event = app
        .create_event(&olga, starting_soon(&group_id, json!({ "capacity": 1 })))
        .await;
    let member = app.member_of(&group_id, "member@example.com").await;
    app.going(&member, &event.id).await;
    let waiting = app.member_of(&group_id, "waiting@example.com").await;
    app.says_yes(&waiting, &event.id, "WAITLISTED").await;
    let stranger = app.sign_up("stranger@example.com", "Stranger").await;
    let ids = app
        .data_as(
            &member,
            "query($e: ID!, $g: ID!) { event(id: $e) { viewerRsvp { id } } group(id: $g) { viewerMembership { id } } }",
            json!({ "e": event.id, "g": group_id }),
        )
        .await;
    let rsvp = ids["event"]["viewerRsvp"]["id"].as_str().unwrap();
    let membership = ids["group"]["viewerMembership"]["id"].as_str().unwrap();

    for (who, token) in [
        ("a member", Some(member.access_token.as_str())),
        ("a stranger", Some(stranger.access_token.as_str())),
        ("anyone", None),
    ] {
        for (query, variables) in queries(&group_id, &event.id, rsvp, membership) {
            let body = app.graphql(token, &query, variables).await;
            assert!(body["data"].is_object(), "{who}: {query}: {body}");
            assert_complete(&query, &body["data"]);
            for error in body["errors"].as_array().into_iter().flatten() {
                assert!(
                    error["path"].is_array(),
                    "{who}: an error without a path: {body}"
                );
                assert!(
                    ["FORBIDDEN", "UNAUTHENTICATED"]
                        .contains(&error["extensions"]["code"].as_str().unwrap()),
                    "{who}: {body}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_list_a_viewer_may_not_see_is_null_with_one_error_at_its_path() {
    let app = spawn_app().await;
    let (_, group_id, event) = app.organiser_with_event(json!({})).await;
    let stranger = app.sign_up("stranger@example.com", "Stranger").await;
    let query = "query($g: ID!, $e: ID!) { group(id: $g) { name members { nodes { id } } } event(id: $e) { title attendees { nodes { id } } peopleToMeet { user { id } } } }";
    for (token, code) in [
        (Some(stranger.access_token.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let body = app
            .graphql(token, query, json!({ "g": group_id, "e": event.id }))
            .await;
        assert!(body["data"]["group"]["name"].is_string(), "{body}");
        assert!(body["data"]["group"]["members"].is_null(), "{body}");
        assert!(body["data"]["group"].get("members").is_some(), "{body}");
        assert!(body["data"]["event"]["title"].is_string(), "{body}");
        assert!(body["data"]["event"].get("attendees").is_some(), "{body}");
        assert!(body["data"]["event"]["attendees"].is_null(), "{body}");
        assert!(
            body["data"]["event"].get("peopleToMeet").is_some(),
            "{body}"
        );
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 3, "{body}");
        let paths: Vec<&Value> = errors.iter().map(|e| &e["path"]).collect();
        for path in [
            json!(["group", "members"]),
            json!(["event", "attendees"]),
            json!(["event", "peopleToMeet"]),
        ] {
            assert!(paths.contains(&&path), "{path} in {body}");
        }
        assert!(
            errors.iter().all(|e| e["extensions"]["code"] == code),
            "{body}"
        );
    }
}
