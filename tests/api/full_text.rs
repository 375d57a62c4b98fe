//! Full-text search of groups and events through HTTP: accents, case and word order do not
//! matter, words begin words, the name or title counts more than the description, without
//! `near` the best match comes first and pages never repeat, the index follows renames in
//! the same request, and a search without a place or words is refused.

use serde_json::{Value, json};

use crate::helpers::*;

const GROUPS: &str = "query($f: GroupSearchInput!, $first: Int, $after: String) { searchGroups(filter: $f, first: $first, after: $after) { edges { distanceKm node { name } } pageInfo { hasNextPage endCursor } } }";
const EVENTS: &str = "query($f: EventSearchInput!, $first: Int, $after: String) { searchEvents(filter: $f, first: $first, after: $after) { edges { distanceKm node { title } } pageInfo { hasNextPage endCursor } } }";

const BERLIN: (f64, f64) = (52.52, 13.405);
const MUNICH: (f64, f64) = (48.137, 11.575);

/// The names (or titles) of a search's edges, and their distances.
fn found(body: &Value, field: &str, name: &str) -> Vec<(String, Value)> {
    body["data"][field]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {body}"))
        .iter()
        .map(|e| {
            (
                e["node"][name].as_str().unwrap().to_owned(),
                e["distanceKm"].clone(),
            )
        })
        .collect()
}

async fn groups(app: &TestApp, filter: Value) -> Vec<String> {
    let body = app.graphql(None, GROUPS, json!({ "f": filter })).await;
    found(&body, "searchGroups", "name")
        .into_iter()
        .map(|(name, distance)| {
            assert!(
                distance.is_null() == filter.get("near").is_none(),
                "distanceKm is null exactly without near: {body}"
            );
            name
        })
        .collect()
}

async fn group(
    app: &TestApp,
    by: &Member,
    name: &str,
    at: (f64, f64),
    description: &str,
) -> String {
    app.create_group(
        by,
        group_input_with(name, at.0, at.1, json!({ "description": description })),
    )
    .await
    .id
}

#[tokio::test]
async fn groups_are_found_by_words_in_any_order_without_accents_or_case_best_first() {
    let app = spawn_app().await;
    let olga = app.verified_member("olga@example.com", "Olga").await;
    group(
        &app,
        &olga,
        "Repair Café Kreuzberg",
        BERLIN,
        "We fix toasters together.",
    )
    .await;
    group(
        &app,
        &olga,
        "Berlin Walkers",
        BERLIN,
        "Long walks; coffee after, at a café.",
    )
    .await;
    group(
        &app,
        &olga,
        "Müncher Schachfreunde",
        MUNICH,
        "Schach und Kaffee.",
    )
    .await;
    group(
        &app,
        &olga,
        "Hiking Friends",
        MUNICH,
        "Mountains and cafes in the valley.",
    )
    .await;

    let without_near = |q: &str| json!({ "query": q });
    // "cafe" begins "Café" and "cafes": the name match first, then description matches.
    let cafe = groups(&app, without_near("cafe")).await;
    assert_eq!(cafe.len(), 3, "{cafe:?}");
    assert_eq!(
        cafe[0], "Repair Café Kreuzberg",
        "a word in the name counts most"
    );
    assert!(cafe.contains(&"Berlin Walkers".to_owned()));
    assert!(cafe.contains(&"Hiking Friends".to_owned()));
    for q in ["CAFÉ", "Cafe", "café"] {
        assert_eq!(groups(&app, without_near(q)).await, cafe, "query {q:?}");
    }
    // Every word counts, in any order, each the start of a word.
    assert_eq!(
        groups(&app, without_near("berl walk")).await,
        ["Berlin Walkers"]
    );
    assert_eq!(
        groups(&app, without_near("walkers BERLIN")).await,
        ["Berlin Walkers"]
    );
    assert_eq!(
        groups(&app, without_near("muncher")).await,
        ["Müncher Schachfreunde"]
    );
    assert!(groups(&app, without_near("alkers")).await.is_empty());
    assert!(groups(&app, without_near("cafe opera")).await.is_empty());

    // With near, the words filter and the nearest come first, distances given.
    let near_munich = json!({ "near": { "lat": MUNICH.0, "lng": MUNICH.1 }, "radiusKm": 20, "query": "cafe kaffee" });
    assert!(
        groups(&app, near_munich).await.is_empty(),
        "both words are required"
    );
    let near_munich =
        json!({ "near": { "lat": MUNICH.0, "lng": MUNICH.1 }, "radiusKm": 20, "query": "caf" });
    assert_eq!(groups(&app, near_munich).await, ["Hiking Friends"]);
}

#[tokio::test]
async fn a_renamed_group_is_found_by_its_new_name_at_once() {
    let app = spawn_app().await;
    let olga = app.verified_member("olga@example.com", "Olga").await;
    let id = group(&app, &olga, "Tuesday Knitters", BERLIN, "Wool and tea.").await;
    assert_eq!(
        groups(&app, json!({ "query": "knit" })).await,
        ["Tuesday Knitters"]
    );
    let body = app
        .graphql(
            Some(&olga.access_token),
            "mutation($i: UpdateGroupInput!) { updateGroup(input: $i) { name } }",
            json!({ "i": { "groupId": id, "name": "Thursday Crocheters", "description": "Yarn." } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateGroup"]["name"], "Thursday Crocheters",
        "{body}"
    );
    assert!(groups(&app, json!({ "query": "knit" })).await.is_empty());
    assert!(groups(&app, json!({ "query": "wool" })).await.is_empty());
    assert_eq!(
        groups(&app, json!({ "query": "croch yarn" })).await,
        ["Thursday Crocheters"]
    );
}

#[tokio::test]
async fn best_match_pages_never_repeat_and_keep_the_order_of_one_page() {
    let app = spawn_app().await;
    let olga = app.verified_member("olga@example.com", "Olga").await;
    // Ranks differ (name, description, both, twice) and some tie.
    for (i, (name, description)) in [
        ("Chess Club North", "Boards."),
        ("Board Games", "Chess, go and more."),
        ("Chess and Chess", "Chess all day."),
        ("Chess Club South", "Boards."),
        ("Quiet Readers", "Sometimes chess."),
        ("Chess Club East", "Boards."),
    ]
    .into_iter()
    .enumerate()
    {
        let at = (BERLIN.0 + i as f64 * 0.01, BERLIN.1);
        group(&app, &olga, name, at, description).await;
    }
    let whole = app
        .graphql(
            None,
            GROUPS,
            json!({ "f": { "query": "chess" }, "first": 10 }),
        )
        .await;
    let whole: Vec<String> = found(&whole, "searchGroups", "name")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(whole.len(), 6, "{whole:?}");
    assert_eq!(whole[0], "Chess and Chess", "the most matches first");
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        assert!(seen.len() <= whole.len(), "paging does not end: {seen:?}");
        let body = app
            .graphql(
                None,
                GROUPS,
                json!({ "f": { "query": "chess" }, "first": 1, "after": after }),
            )
            .await;
        seen.extend(
            found(&body, "searchGroups", "name")
                .into_iter()
                .map(|(n, _)| n),
        );
        let info = &body["data"]["searchGroups"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen, whole);

    // A cursor of a nearby search is no cursor for a search by words, and the reverse.
    let body = app
        .graphql(
            None,
            GROUPS,
            json!({ "f": { "query": "chess" }, "first": 1 }),
        )
        .await;
    let by_words = body["data"]["searchGroups"]["pageInfo"]["endCursor"].clone();
    let nearby = json!({ "near": { "lat": BERLIN.0, "lng": BERLIN.1 }, "radiusKm": 10 });
    let body = app
        .graphql(
            None,
            GROUPS,
            json!({ "f": nearby, "first": 1, "after": by_words }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "after", "{body}");
}

#[tokio::test]
async fn a_search_needs_a_place_with_its_radius_or_a_word() {
    let app = spawn_app().await;
    let near = json!({ "lat": BERLIN.0, "lng": BERLIN.1 });
    for (query, filter, field) in [
        (GROUPS, json!({}), "filter.near"),
        (GROUPS, json!({ "query": "  %% " }), "filter.near"),
        (
            GROUPS,
            json!({ "near": near, "query": "chess" }),
            "filter.radiusKm",
        ),
        (
            GROUPS,
            json!({ "radiusKm": 5, "query": "chess" }),
            "filter.near",
        ),
        (EVENTS, json!({ "query": "" }), "filter.near"),
        (EVENTS, json!({ "near": near }), "filter.radiusKm"),
        (
            EVENTS,
            json!({ "radiusKm": 5, "query": "chess" }),
            "filter.near",
        ),
    ] {
        let body = app.graphql(None, query, json!({ "f": filter })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{filter}: {body}");
        assert_eq!(error_field(&body), field, "{filter}: {body}");
    }
}

#[tokio::test]
async fn events_are_found_by_words_best_first_without_near_and_soonest_first_with_it() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let berlin = app
        .create_group(&ann, group_input("Hack Nights", BERLIN.0, BERLIN.1))
        .await
        .id;
    let munich = app
        .create_group(&ann, group_input("Munich Makers", MUNICH.0, MUNICH.1))
        .await
        .id;
    let at = |days: i64| {
        let s = chrono::Utc::now() + chrono::Duration::days(days);
        json!({ "startsAt": s.to_rfc3339(), "endsAt": (s + chrono::Duration::hours(2)).to_rfc3339() })
    };
    let mut make = Vec::new();
    for (group, title, description, days) in [
        (&berlin, "Soldering Evening", "Bring a café latte.", 3),
        (&berlin, "Repair Café", "Fix a toaster.", 5),
        (&munich, "Café der Reparatur", "Toaster und Kaffee.", 4),
        (&berlin, "Cancelled Café", "Not happening.", 2),
    ] {
        let mut input = event_input(group, at(days));
        input["title"] = json!(title);
        input["description"] = json!(description);
        if group == &munich {
            input["venue"] = json!({ "name": "Werkstatt", "address": "München", "location": { "lat": MUNICH.0, "lng": MUNICH.1 } });
        }
        make.push(app.create_event(&ann, input).await.id);
    }
    let body = app
        .graphql(
            Some(&ann.access_token),
            "mutation($i: CancelEventInput!) { cancelEvent(input: $i) { status } }",
            json!({ "i": { "eventId": make[3] } }),
        )
        .await;
    assert_eq!(body["data"]["cancelEvent"]["status"], "CANCELLED", "{body}");

    let search = |filter: Value| {
        let app = &app;
        async move {
            let body = app
                .graphql(None, EVENTS, json!({ "f": filter, "first": 10 }))
                .await;
            found(&body, "searchEvents", "title")
        }
    };
    // Without near: best match first (title matches before the description's), no
    // distance, cancelled events left out, anywhere.
    let cafe = search(json!({ "query": "CAFE" })).await;
    let titles: Vec<&str> = cafe.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert_eq!(
        titles[2], "Soldering Evening",
        "a description match comes last"
    );
    assert!(titles[..2].contains(&"Repair Café"));
    assert!(titles[..2].contains(&"Café der Reparatur"));
    assert!(cafe.iter().all(|(_, d)| d.is_null()));
    assert_eq!(
        search(json!({ "query": "reparatur cafe" })).await[0].0,
        "Café der Reparatur"
    );
    // With near: only what is in the circle, soonest first, with distances.
    let near =
        json!({ "near": { "lat": BERLIN.0, "lng": BERLIN.1 }, "radiusKm": 25, "query": "café" });
    let nearby = search(near).await;
    let titles: Vec<&str> = nearby.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles, ["Soldering Evening", "Repair Café"]);
    assert!(nearby.iter().all(|(_, d)| d.is_number()));
    // A renamed event is found by its new title at once.
    let body = app
        .graphql(
            Some(&ann.access_token),
            "mutation($i: UpdateEventInput!) { updateEvent(input: $i) { title } }",
            json!({ "i": { "eventId": make[0], "title": "Lötabend" } }),
        )
        .await;
    assert_eq!(body["data"]["updateEvent"]["title"], "Lötabend", "{body}");
    assert_eq!(search(json!({ "query": "lotabend" })).await.len(), 1);
    assert!(search(json!({ "query": "soldering" })).await.is_empty());
}
