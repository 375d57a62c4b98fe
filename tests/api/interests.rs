//! The interest taxonomy and a member's interests.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_taxonomy_holds_at_least_100_interests_in_10_categories() {
    let app = spawn_app().await;
    let all = app.all_interests().await;
    assert!(all.len() >= 100, "{} interests", all.len());

    let ids: HashSet<&str> = all.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let slugs: HashSet<&str> = all.iter().map(|i| i["slug"].as_str().unwrap()).collect();
    let categories: HashSet<&str> = all
        .iter()
        .map(|i| i["category"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), all.len(), "paging repeated an interest");
    assert_eq!(slugs.len(), all.len(), "slugs are unique");
    assert!(categories.len() >= 10, "{categories:?}");
    for slug in &slugs {
        assert!(
            !slug.is_empty()
                && slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{slug} is not URL-safe"
        );
    }
    let board_games = all.iter().find(|i| i["name"] == "Board Games").unwrap();
    assert_eq!(board_games["slug"], "board-games");
    assert_eq!(board_games["category"], "Games");

    // totalCount is the whole list, whatever the page size.
    let body = app
        .graphql(
            None,
            "{ interests(first: 3) { totalCount nodes { id } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["interests"]["totalCount"],
        all.len() as u64,
        "{body}"
    );
    assert_eq!(
        body["data"]["interests"]["nodes"].as_array().unwrap().len(),
        3
    );
    assert_eq!(body["data"]["interests"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn paging_through_a_filtered_list_keeps_its_order_and_count() {
    let app = spawn_app().await;
    let all = app.all_interests().await;
    let query = "query($after: String) { interests(query: \"ing\", first: 7, after: $after) { totalCount nodes { id name } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    loop {
        assert!(seen.len() < 1000, "paging does not end: {seen:?}");
        let body = app.graphql(None, query, json!({ "after": after })).await;
        let page = &body["data"]["interests"];
        total.get_or_insert(page["totalCount"].as_u64().unwrap());
        assert_eq!(page["totalCount"].as_u64(), total, "{body}");
        seen.extend(
            page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    // Exactly the interests with "ing" in their name, in the order of the whole list.
    let expected: Vec<String> = all
        .iter()
        .filter(|i| i["name"].as_str().unwrap().to_lowercase().contains("ing"))
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(expected.len() > 14, "{} matches", expected.len());
    assert_eq!(seen, expected);
    assert_eq!(total, Some(expected.len() as u64));
}

#[tokio::test]
async fn query_matches_any_part_of_the_name_in_any_case() {
    let app = spawn_app().await;
    let all = app.all_interests().await;
    let search =
        "query($q: String) { interests(query: $q, first: 100) { totalCount nodes { name } } }";
    for q in ["GAMES", "games", "gAmEs", "ame", "CAFÉS"] {
        let body = app.graphql(None, search, json!({ "q": q })).await;
        let names: Vec<&str> = body["data"]["interests"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        let needle = q.trim().to_lowercase();
        let expected: Vec<&str> = all
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .filter(|name| name.to_lowercase().contains(&needle))
            .collect();
        assert_eq!(names, expected, "query {q:?}: {body}");
        assert_eq!(
            body["data"]["interests"]["totalCount"],
            expected.len() as u64,
            "{body}"
        );
    }
    let body = app.graphql(None, search, json!({ "q": "GAMES" })).await;
    let names = body["data"]["interests"]["nodes"].to_string();
    assert!(names.contains("Board Games"), "{body}");
    assert!(names.contains("Video Games"), "{body}");

    // Wildcards are taken literally; nothing matches a nonsense word.
    for q in ["%", "_", "zzqx"] {
        let body = app.graphql(None, search, json!({ "q": q })).await;
        assert_eq!(body["data"]["interests"]["totalCount"], 0, "{q}: {body}");
        assert_eq!(body["data"]["interests"]["nodes"], json!([]), "{q}: {body}");
    }
}

#[tokio::test]
async fn a_page_size_outside_1_to_100_is_bad_input() {
    let app = spawn_app().await;
    for first in [0, -1, 101] {
        let body = app
            .graphql(
                None,
                "query($first: Int) { interests(first: $first) { nodes { id } } }",
                json!({ "first": first }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{first}: {body}");
        assert_eq!(error_field(&body), "first", "{body}");
    }
    let body = app
        .graphql(
            None,
            "{ interests(first: 100) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["interests"]["nodes"].as_array().unwrap().len(),
        100,
        "{body}"
    );
    let body = app
        .graphql(
            None,
            "{ interests(after: \"not-a-cursor\") { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "after", "{body}");
}

const MY_INTERESTS: &str = "{ viewer { user { id interests { id name category } } } }";
const SET_INTERESTS: &str = "mutation($ids: [ID!]!) { setInterests(input: { interestIds: $ids }) { id interests { id name } } }";

fn names(interests: &serde_json::Value) -> Vec<&str> {
    interests
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {interests}"))
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn set_interests_replaces_the_set() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let token = Some(ann.access_token.as_str());
    let ids = app
        .interest_ids(&["Chess", "Hiking", "Rust", "Pottery"])
        .await;

    let body = app
        .graphql(token, SET_INTERESTS, json!({ "ids": &ids[..3] }))
        .await;
    let mut got = names(&body["data"]["setInterests"]["interests"]);
    got.sort_unstable();
    assert_eq!(got, ["Chess", "Hiking", "Rust"], "{body}");

    // Replaced, not added to.
    let body = app
        .graphql(token, SET_INTERESTS, json!({ "ids": [&ids[1], &ids[3]] }))
        .await;
    let mut got = names(&body["data"]["setInterests"]["interests"]);
    got.sort_unstable();
    assert_eq!(got, ["Hiking", "Pottery"], "{body}");

    // Others see the same set on the public profile.
    let body = app
        .graphql(
            None,
            "query($id: ID!) { user(id: $id) { interests { id name category } } }",
            json!({ "id": ann.id }),
        )
        .await;
    let mut got = names(&body["data"]["user"]["interests"]);
    got.sort_unstable();
    assert_eq!(got, ["Hiking", "Pottery"], "{body}");
    let viewer = app.graphql(token, MY_INTERESTS, json!({})).await;
    assert_eq!(
        viewer["data"]["viewer"]["user"]["interests"], body["data"]["user"]["interests"],
        "{viewer}"
    );

    // Naming one twice holds it once; an empty list clears the set.
    let body = app
        .graphql(token, SET_INTERESTS, json!({ "ids": [&ids[0], &ids[0]] }))
        .await;
    assert_eq!(
        names(&body["data"]["setInterests"]["interests"]),
        ["Chess"],
        "{body}"
    );
    let body = app
        .graphql(token, SET_INTERESTS, json!({ "ids": [] }))
        .await;
    assert_eq!(
        body["data"]["setInterests"]["interests"],
        json!([]),
        "{body}"
    );
}

#[tokio::test]
async fn set_interests_refuses_unknown_ids_and_keeps_the_old_set() {
    let app = spawn_app().await;
    let bo = app.sign_up("bo@example.com", "Bo").await;
    let token = Some(bo.access_token.as_str());
    let ids = app.interest_ids(&["Chess", "Go"]).await;
    app.set_interests(&bo, &ids).await;

    for unknown in [unknown_interest_id(), bo.id.clone(), "garbage".to_owned()] {
        let body = app
            .graphql(token, SET_INTERESTS, json!({ "ids": [&ids[0], unknown] }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.interestIds", "{body}");
    }
    let viewer = app.graphql(token, MY_INTERESTS, json!({})).await;
    let mut got = names(&viewer["data"]["viewer"]["user"]["interests"]);
    got.sort_unstable();
    assert_eq!(got, ["Chess", "Go"], "{viewer}");

    // Signed out, there is nobody whose interests to set.
    let body = app
        .graphql(None, SET_INTERESTS, json!({ "ids": &ids }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn node_finds_an_interest_by_its_id() {
    let app = spawn_app().await;
    let ids = app.interest_ids(&["Board Games"]).await;
    let body = app
        .graphql(
            None,
            "query($id: ID!) { node(id: $id) { id ... on Interest { slug name category } } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(body["data"]["node"]["id"], ids[0].as_str(), "{body}");
    assert_eq!(body["data"]["node"]["slug"], "board-games", "{body}");
    assert_eq!(body["data"]["node"]["category"], "Games", "{body}");
    let body = app
        .graphql(
            None,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": unknown_interest_id() }),
        )
        .await;
    assert!(body["data"]["node"].is_null(), "{body}");
    assert!(body["errors"].is_null(), "{body}");
}
