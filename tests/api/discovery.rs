//! Discovery through HTTP: the viewer's feed and recommended events (with the people the
//! viewer met who are going).

use chrono::{Duration, Utc};
use entity::event;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

const FEED: &str = "query($after: String) { viewer { feed(first: 2, after: $after) { nodes { title status } pageInfo { hasNextPage endCursor } } } }";

const RECOMMENDED: &str = "query($near: GeoPointInput, $first: Int, $after: String) { recommendedEvents(near: $near, first: $first, after: $after) { edges { cursor score node { id title } sharedInterests { name } peopleYouMetGoing { id } } pageInfo { hasNextPage endCursor } } }";

const MUNICH: (f64, f64) = (48.1351, 11.5820);

/// An event of the group titled `title`, `days` from now, two hours long, at `at`.
async fn event_at(
    app: &TestApp,
    by: &Member,
    group_id: &str,
    title: &str,
    days: i64,
    at: (f64, f64),
) -> String {
    let starts = Utc::now() + Duration::days(days);
    let input = event_input(
        group_id,
        json!({
            "title": title,
            "startsAt": starts.to_rfc3339(),
            "endsAt": (starts + Duration::hours(2)).to_rfc3339(),
            "venue": { "name": "Somewhere", "address": "Somewhere 1", "location": { "lat": at.0, "lng": at.1 } },
        }),
    );
    app.create_event(by, input).await.id
}

/// Every (title, status) of the member's feed, page by page (two a page).
async fn feed(app: &TestApp, member: &Member) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.data_as(member, FEED, json!({ "after": after })).await;
        let page = &data["viewer"]["feed"];
        for node in page["nodes"].as_array().unwrap() {
            seen.push((
                node["title"].as_str().unwrap().to_owned(),
                node["status"].as_str().unwrap().to_owned(),
            ));
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return seen;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn the_feed_lists_my_groups_and_what_i_answered_soonest_first() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let bob = app.verified_member("bob@example.com", "Bob").await;
    let mine = app
        .create_group(&ann, group_input("Mine", 52.52, 13.405))
        .await;
    let theirs = app
        .create_group(&bob, group_input("Theirs", 52.52, 13.405))
        .await;
    let cy = app.member_of(&mine.id, "cy@example.com").await;

    event_at(&app, &ann, &mine.id, "Mine in three days", 3, BERLIN).await;
    event_at(&app, &ann, &mine.id, "Mine tomorrow", 1, BERLIN).await;
    let cancelled = event_at(&app, &ann, &mine.id, "Mine cancelled", 4, BERLIN).await;
    let ended = event_at(&app, &ann, &mine.id, "Mine ended", 5, BERLIN).await;
    let answered = event_at(&app, &bob, &theirs.id, "Theirs answered", 2, BERLIN).await;
    event_at(&app, &bob, &theirs.id, "Theirs other", 6, BERLIN).await;

    // Cy answers an event of a group and leaves it: the answer keeps it in the feed.
    app.joins_open_group(&cy, &theirs.id).await;
    app.going(&cy, &answered).await;
    let body = app
        .graphql(
            Some(&cy.access_token),
            LEAVE_GROUP,
            json!({ "id": theirs.id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");

    let body = app
        .graphql(
            Some(&ann.access_token),
            CANCEL_EVENT,
            json!({ "input": { "eventId": cancelled } }),
        )
        .await;
    assert_eq!(body["data"]["cancelEvent"]["status"], "CANCELLED", "{body}");

    let over = Utc::now() - Duration::minutes(5);
    event::Entity::update_many()
        .col_expr(
            event::Column::StartsAt,
            Expr::value(over - Duration::hours(2)),
        )
        .col_expr(event::Column::EndsAt, Expr::value(over))
        .filter(event::Column::Id.eq(uuid_of(&ended)))
        .exec(&app.state.db)
        .await
        .unwrap();

    let got = feed(&app, &cy).await;
    let expected = [
        ("Mine tomorrow", "SCHEDULED"),
        ("Theirs answered", "SCHEDULED"),
        ("Mine in three days", "SCHEDULED"),
        ("Mine cancelled", "CANCELLED"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(t, s)| ((*t).to_owned(), (*s).to_owned()))
        .collect();
    assert_eq!(got, expected);

    // Bob's feed: his own group's events only, the ended one is not Bob's.
    let got: Vec<String> = feed(&app, &bob).await.into_iter().map(|(t, _)| t).collect();
    assert_eq!(got, ["Theirs answered", "Theirs other"]);

    let body = app
        .graphql(None, "{ viewer { feed { nodes { id } } } }", json!({}))
        .await;
    assert!(body["data"]["viewer"].is_null(), "{body}");
}

struct Pick {
    title: String,
    score: f64,
    shared: Vec<String>,
    met: Vec<String>,
}

impl TestApp {
    /// One page of the member's recommended events, and the cursor after it.
    async fn recommended_page(
        &self,
        member: &Member,
        near: Option<(f64, f64)>,
        first: i64,
        after: Value,
    ) -> (Vec<Pick>, Value) {
        let near = near.map(|(lat, lng)| json!({ "lat": lat, "lng": lng }));
        let data = self
            .data_as(
                member,
                RECOMMENDED,
                json!({ "near": near, "first": first, "after": after }),
            )
            .await;
        let conn = &data["recommendedEvents"];
        let picks = conn["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{data}"))
            .iter()
            .map(|e| {
                let mut shared: Vec<String> = e["sharedInterests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["name"].as_str().unwrap().to_owned())
                    .collect();
                shared.sort_unstable();
                Pick {
                    title: e["node"]["title"].as_str().unwrap().to_owned(),
                    score: e["score"].as_f64().unwrap(),
                    shared,
                    met: e["peopleYouMetGoing"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|u| u["id"].as_str().unwrap().to_owned())
                        .collect(),
                }
            })
            .collect();
        let next = if conn["pageInfo"]["hasNextPage"] == true {
            conn["pageInfo"]["endCursor"].clone()
        } else {
            Value::Null
        };
        (picks, next)
    }
}

#[tokio::test]
async fn recommended_events_rank_by_shared_interests_and_nearness() {
    let app = spawn_app().await;
    let olga = app.verified_member("olga@example.com", "Olga").await;
    let ids = app.interest_ids(&["Chess", "Hiking", "Pottery"]).await;
    let (chess, hiking, pottery) = (&ids[0], &ids[1], &ids[2]);
    let both = app
        .create_group(
            &olga,
            group_input_with(
                "Both",
                BERLIN.0,
                BERLIN.1,
                json!({ "interestIds": [chess, hiking] }),
            ),
        )
        .await;
    let chess_only = app
        .create_group(
            &olga,
            group_input_with(
                "Chess",
                BERLIN.0,
                BERLIN.1,
                json!({ "interestIds": [chess] }),
            ),
        )
        .await;
    let clay = app
        .create_group(
            &olga,
            group_input_with(
                "Clay",
                BERLIN.0,
                BERLIN.1,
                json!({ "interestIds": [pottery] }),
            ),
        )
        .await;
    let five_km = north_of(BERLIN.0, BERLIN.1, 5.0);
    event_at(&app, &olga, &both.id, "Both next door", 2, BERLIN).await;
    event_at(&app, &olga, &both.id, "Both five km", 3, five_km).await;
    event_at(&app, &olga, &both.id, "Both in Munich", 4, MUNICH).await;
    event_at(&app, &olga, &both.id, "Both in a year", 365, BERLIN).await;
    event_at(&app, &olga, &chess_only.id, "Chess next door", 5, BERLIN).await;
    let declined = event_at(&app, &olga, &chess_only.id, "Chess declined", 6, BERLIN).await;
    event_at(&app, &olga, &clay.id, "Clay next door", 7, BERLIN).await;

    let vic = app.sign_up("vic@example.com", "Vic").await;
    app.set_interests(&vic, &[chess.clone(), hiking.clone()])
        .await;
    // Any answer, even NO, takes an event out.
    app.joins_open_group(&vic, &chess_only.id).await;
    let body = app.answer(&vic, &declined, "NO").await;
    assert!(body["errors"].is_null(), "{body}");

    // Two a page, no repeats.
    let (first, after) = app
        .recommended_page(&vic, Some(BERLIN), 2, Value::Null)
        .await;
    assert!(!after.is_null());
    let (second, after) = app.recommended_page(&vic, Some(BERLIN), 2, after).await;
    assert!(after.is_null());
    let picks: Vec<Pick> = first.into_iter().chain(second).collect();
    let titles: Vec<&str> = picks.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Both next door", "Both five km", "Chess next door"]
    );

    let d = haversine_km(BERLIN, five_km);
    let scores: Vec<f64> = picks.iter().map(|p| p.score).collect();
    for (got, want) in scores.iter().zip([2.0, 2.0 * 10.0 / (10.0 + d), 1.0]) {
        assert!((got - want).abs() < 1e-3, "{scores:?}");
    }
    assert_eq!(picks[0].shared, ["Chess", "Hiking"]);
    assert_eq!(picks[2].shared, ["Chess"]);
    assert!(picks.iter().all(|p| p.met.is_empty()));

    // Without a place (and no home), the score is the number of shared interests, and the
    // far events count too (the one a year ahead is past the horizon).
    let (picks, _) = app.recommended_page(&vic, None, 10, Value::Null).await;
    let mut titles: Vec<(&str, f64)> = picks.iter().map(|p| (p.title.as_str(), p.score)).collect();
    titles.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(
        titles,
        [
            ("Both five km", 2.0),
            ("Both in Munich", 2.0),
            ("Both next door", 2.0),
            ("Chess next door", 1.0),
        ]
    );
}

#[tokio::test]
async fn people_you_met_going_are_the_confirmed_meetings_going() {
    let app = spawn_app().await;
    let olga = app.verified_member("olga@example.com", "Olga").await;
    let ids = app.interest_ids(&["Chess"]).await;
    let group = app
        .create_group(
            &olga,
            group_input_with(
                "Chess",
                BERLIN.0,
                BERLIN.1,
                json!({ "interestIds": [ids[0]] }),
            ),
        )
        .await;
    let vic = app.member_of(&group.id, "vic@example.com").await;
    app.set_interests(&vic, &ids).await;
    let met = app.member_of(&group.id, "met@example.com").await;
    let withdrawn = app.member_of(&group.id, "withdrawn@example.com").await;
    let blocked = app.member_of(&group.id, "blocked@example.com").await;
    let stranger = app.member_of(&group.id, "stranger@example.com").await;
    let met_not_going = app.member_of(&group.id, "notgoing@example.com").await;

    let tonight = app
        .create_event(
            &olga,
            starting_soon(&group.id, json!({ "title": "Tonight" })),
        )
        .await
        .id;
    let everyone = [&vic, &met, &withdrawn, &blocked, &met_not_going];
    for member in everyone {
        app.going(member, &tonight).await;
    }
    app.hosts_check_in(&olga, &olga, &tonight, &everyone).await;
    for other in [&met, &withdrawn, &blocked, &met_not_going] {
        app.meet_and_accept(&vic, other, &tonight).await;
    }
    let body = app
        .graphql(
            Some(&vic.access_token),
            "mutation($u: ID!) { withdrawMeeting(input: { userId: $u }) { id status } }",
            json!({ "u": withdrawn.id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app
        .graphql(
            Some(&blocked.access_token),
            "mutation($u: ID!) { blockUser(input: { userId: $u }) { id } }",
            json!({ "u": vic.id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");

    let next_week = event_at(&app, &olga, &group.id, "Next week", 7, BERLIN).await;
    for member in [&met, &withdrawn, &blocked, &stranger] {
        app.going(member, &next_week).await;
    }
    let body = app.answer(&met_not_going, &next_week, "NO").await;
    assert!(body["errors"].is_null(), "{body}");

    // Tonight is answered, so only next week is recommended.
    let (picks, _) = app
        .recommended_page(&vic, Some(BERLIN), 10, Value::Null)
        .await;
    let titles: Vec<&str> = picks.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["Next week"]);
    assert_eq!(picks[0].met, vec![met.id.as_str()]);
}

#[tokio::test]
async fn recommended_events_need_a_signed_in_member() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            None,
            RECOMMENDED,
            json!({ "near": { "lat": 52.5, "lng": 13.4 } }),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert!(
        body["data"].is_null() || body["data"]["recommendedEvents"].is_null(),
        "{body}"
    );
}

/// Statements the request runs: the fewest counted in three runs (background work only
/// ever adds to the counter).
async fn statements_of(app: &TestApp, member: &Member, query: &str, variables: Value) -> u64 {
    async fn counted(app: &TestApp) -> u64 {
        app.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix("kith_sql_statements_total "))
            .expect("the statement counter is exported")
            .trim()
            .parse()
            .unwrap()
    }
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = counted(app).await;
        let body = app
            .graphql(Some(&member.access_token), query, variables.clone())
            .await;
        assert!(body["errors"].is_null(), "{body}");
        fewest = fewest.min(counted(app).await - before);
    }
    fewest
}

#[tokio::test]
async fn a_page_of_recommendations_costs_the_same_whatever_its_length() {
    let app = spawn_app().await;
    let olga = app.verified_member("olga@example.com", "Olga").await;
    let ids = app.interest_ids(&["Chess"]).await;
    let group = app
        .create_group(
            &olga,
            group_input_with(
                "Chess",
                BERLIN.0,
                BERLIN.1,
                json!({ "interestIds": [ids[0]] }),
            ),
        )
        .await;
    let vic = app.member_of(&group.id, "vic@example.com").await;
    app.set_interests(&vic, &ids).await;
    let met = app.member_of(&group.id, "met@example.com").await;
    let tonight = app
        .create_event(
            &olga,
            starting_soon(&group.id, json!({ "title": "Tonight" })),
        )
        .await
        .id;
    for member in [&vic, &met] {
        app.going(member, &tonight).await;
    }
    app.hosts_check_in(&olga, &olga, &tonight, &[&vic, &met])
        .await;
    app.meet_and_accept(&vic, &met, &tonight).await;
    for day in 1..=10 {
        let id = event_at(&app, &olga, &group.id, &format!("Day {day}"), day, BERLIN).await;
        app.going(&met, &id).await;
    }

    let (picks, _) = app
        .recommended_page(&vic, Some(BERLIN), 10, Value::Null)
        .await;
    assert_eq!(picks.len(), 10);
    assert!(picks.iter().all(|p| p.met == [met.id.as_str()]));

    let query = "query($n: Int!) { recommendedEvents(near: { lat: 52.52, lng: 13.405 }, first: $n) { edges { score sharedInterests { name } peopleYouMetGoing { displayName } node { title } } } }";
    let one = statements_of(&app, &vic, query, json!({ "n": 1 })).await;
    let ten = statements_of(&app, &vic, query, json!({ "n": 10 })).await;
    assert_eq!(one, ten, "first: 1 costs {one} statements, first: 10 {ten}");
}
