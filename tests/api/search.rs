//! Nearby search and recommendations: distances, the radius edge, the antimeridian and the
//! poles, stable paging through ties, the filters, and the recommendation score.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::*;

const POTSDAM: (f64, f64) = (52.3906, 13.0645);
const MUNICH: (f64, f64) = (48.1351, 11.5820);

const SEARCH: &str = "query($filter: GroupSearchInput!, $first: Int, $after: String) { searchGroups(filter: $filter, first: $first, after: $after) { edges { cursor distanceKm node { id name location { lat lng } } } pageInfo { hasNextPage endCursor } } }";

const RECOMMENDED: &str = "query($near: GeoPointInput, $first: Int, $after: String) { recommendedGroups(near: $near, first: $first, after: $after) { edges { cursor score node { id name } sharedInterests { name } } pageInfo { hasNextPage endCursor } } }";

fn filter(near: (f64, f64), radius_km: f64) -> Value {
    json!({ "near": { "lat": near.0, "lng": near.1 }, "radiusKm": radius_km })
}

fn filter_with(near: (f64, f64), radius_km: f64, extra: Value) -> Value {
    let mut f = filter(near, radius_km);
    for (key, value) in extra.as_object().unwrap() {
        f[key] = value.clone();
    }
    f
}

/// One edge of a search, as the tests read it.
#[derive(Debug, Clone)]
struct Hit {
    id: String,
    name: String,
    distance_km: f64,
}

fn hits(body: &Value) -> Vec<Hit> {
    body["data"]["searchGroups"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {body}"))
        .iter()
        .map(|e| Hit {
            id: e["node"]["id"].as_str().unwrap().to_owned(),
            name: e["node"]["name"].as_str().unwrap().to_owned(),
            distance_km: e["distanceKm"].as_f64().unwrap(),
        })
        .collect()
}

fn names(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.name.as_str()).collect()
}

impl TestApp {
    async fn search(&self, filter: Value, first: Option<i64>, after: Option<&str>) -> Value {
        self.graphql(
            None,
            SEARCH,
            json!({ "filter": filter, "first": first, "after": after }),
        )
        .await
    }

    /// Every hit of a search, one page of `first` at a time.
    async fn search_all(&self, filter: Value, first: i64) -> Vec<Hit> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            assert!(all.len() < 1000, "paging does not end: {all:?}");
            let body = self
                .search(filter.clone(), Some(first), after.as_deref())
                .await;
            let page = hits(&body);
            assert!(page.len() as i64 <= first, "{body}");
            let info = &body["data"]["searchGroups"]["pageInfo"];
            if info["hasNextPage"] == true {
                assert_eq!(
                    page.len() as i64,
                    first,
                    "a short page before the end: {body}"
                );
            }
            all.extend(page);
            if info["hasNextPage"] != true {
                return all;
            }
            after = Some(info["endCursor"].as_str().unwrap().to_owned());
        }
    }
}

/// A verified organiser who creates groups for a test.
async fn organiser(app: &TestApp) -> Member {
    app.verified_member("org@example.com", "Olga").await
}

async fn group_at(app: &TestApp, by: &Member, name: &str, at: (f64, f64)) -> String {
    app.create_group(by, group_input(name, at.0, at.1)).await.id
}

async fn group_with(
    app: &TestApp,
    by: &Member,
    name: &str,
    at: (f64, f64),
    extra: Value,
) -> String {
    app.create_group(by, group_input_with(name, at.0, at.1, extra))
        .await
        .id
}

fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} is not within {tolerance} of {expected}"
    );
}

#[tokio::test]
async fn berlin_to_potsdam_is_about_27_km_and_munich_is_out_of_reach() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    group_at(&app, &olga, "Berlin Group", BERLIN).await;
    group_at(&app, &olga, "Potsdam Group", POTSDAM).await;
    group_at(&app, &olga, "Munich Group", MUNICH).await;

    let body = app.search(filter(BERLIN, 50.0), None, None).await;
    let found = hits(&body);
    assert_eq!(names(&found), ["Berlin Group", "Potsdam Group"], "{body}");
    assert_eq!(found[0].distance_km, 0.0);
    assert_close(found[1].distance_km, 27.0, 1.5, "Berlin–Potsdam");
    assert_close(
        found[1].distance_km,
        haversine_km(BERLIN, POTSDAM),
        0.05,
        "Berlin–Potsdam, great circle",
    );
    assert_eq!(
        body["data"]["searchGroups"]["pageInfo"]["hasNextPage"],
        false
    );

    // Munich is about 504 km from Berlin: beyond the largest radius.
    assert_close(haversine_km(BERLIN, MUNICH), 504.0, 3.0, "Berlin–Munich");
    let body = app.search(filter(BERLIN, 200.0), None, None).await;
    assert_eq!(
        names(&hits(&body)),
        ["Berlin Group", "Potsdam Group"],
        "{body}"
    );
    let body = app.search(filter(MUNICH, 200.0), None, None).await;
    assert_eq!(names(&hits(&body)), ["Munich Group"], "{body}");

    // The same distance seen from Potsdam.
    let body = app.search(filter(POTSDAM, 30.0), None, None).await;
    let found = hits(&body);
    assert_eq!(names(&found), ["Potsdam Group", "Berlin Group"], "{body}");
    assert_close(
        found[1].distance_km,
        haversine_km(POTSDAM, BERLIN),
        0.05,
        "Potsdam–Berlin",
    );
}

#[tokio::test]
async fn the_radius_edge_keeps_what_is_inside_and_drops_what_is_outside() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    let centre = (50.0, 8.0);
    group_at(
        &app,
        &olga,
        "Just Inside",
        north_of(centre.0, centre.1, 9.95),
    )
    .await;
    group_at(
        &app,
        &olga,
        "Just Outside",
        north_of(centre.0, centre.1, 10.05),
    )
    .await;
    group_at(
        &app,
        &olga,
        "South Inside",
        north_of(centre.0, centre.1, -9.9),
    )
    .await;

    let body = app.search(filter(centre, 10.0), None, None).await;
    let found = hits(&body);
    assert_eq!(names(&found), ["South Inside", "Just Inside"], "{body}");
    assert_close(found[1].distance_km, 9.95, 0.01, "inside");

    let body = app.search(filter(centre, 10.1), None, None).await;
    assert_eq!(
        names(&hits(&body)),
        ["South Inside", "Just Inside", "Just Outside"],
        "{body}"
    );

    // To the metre: a circle one metre wider holds the group, one metre narrower does not.
    let d = found[1].distance_km;
    let body = app.search(filter(centre, d + 0.001), None, None).await;
    assert_eq!(
        names(&hits(&body)),
        ["South Inside", "Just Inside"],
        "{body}"
    );
    let body = app.search(filter(centre, d - 0.001), None, None).await;
    assert_eq!(names(&hits(&body)), ["South Inside"], "{body}");
}

#[tokio::test]
async fn the_search_reaches_across_the_antimeridian() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    group_at(&app, &olga, "Fiji East", (-17.0, 179.95)).await;
    group_at(&app, &olga, "Dateline", (-17.0, 180.0)).await;
    group_at(&app, &olga, "Fiji West", (-17.0, -179.98)).await;
    group_at(&app, &olga, "Far West", (-17.0, -179.0)).await;

    let body = app.search(filter((-17.0, -179.95), 20.0), None, None).await;
    let found = hits(&body);
    assert_eq!(
        names(&found),
        ["Fiji West", "Dateline", "Fiji East"],
        "{body}"
    );
    assert_close(found[2].distance_km, 10.6, 0.1, "179.95 from -179.95");
    for (hit, at) in found
        .iter()
        .zip([(-17.0, -179.98), (-17.0, 180.0), (-17.0, 179.95)])
    {
        assert_close(
            hit.distance_km,
            haversine_km((-17.0, -179.95), at),
            0.01,
            &hit.name,
        );
    }

    // And the other way round.
    let body = app.search(filter((-17.0, 179.95), 20.0), None, None).await;
    let found = hits(&body);
    assert_eq!(
        names(&found),
        ["Fiji East", "Dateline", "Fiji West"],
        "{body}"
    );
    assert_eq!(found[0].distance_km, 0.0);
    assert_close(
        found[2].distance_km,
        haversine_km((-17.0, 179.95), (-17.0, -179.98)),
        0.01,
        "west",
    );

    // -180 and 180 are the same meridian.
    let body = app.search(filter((-17.0, -180.0), 1.0), None, None).await;
    let found = hits(&body);
    assert_eq!(names(&found), ["Dateline"], "{body}");
    assert_close(found[0].distance_km, 0.0, 1e-6, "-180 vs 180");

    let body = app
        .search(filter((-17.0, -179.95), 200.0), None, None)
        .await;
    assert_eq!(hits(&body).len(), 4, "{body}");
}

#[tokio::test]
async fn the_search_works_near_the_poles() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    group_at(&app, &olga, "Pole 0", (89.95, 0.0)).await;
    group_at(&app, &olga, "Pole 120", (89.95, 120.0)).await;
    group_at(&app, &olga, "Pole -120", (89.95, -120.0)).await;
    group_at(&app, &olga, "Far North", (89.0, 60.0)).await;
    group_at(&app, &olga, "South A", (-89.99, 45.0)).await;
    group_at(&app, &olga, "South B", (-89.99, -135.0)).await;

    // From the pole itself, every meridian is the same 5.56 km away.
    let body = app.search(filter((90.0, 0.0), 10.0), None, None).await;
    let found = hits(&body);
    let got: HashSet<&str> = names(&found).into_iter().collect();
    assert_eq!(
        got,
        HashSet::from(["Pole 0", "Pole 120", "Pole -120"]),
        "{body}"
    );
    for hit in &found {
        assert_close(hit.distance_km, 5.56, 0.01, &hit.name);
    }

    // Across the pole: from longitude 180, the group at longitude 0 is the farthest.
    let body = app.search(filter((89.95, 180.0), 15.0), None, None).await;
    let found = hits(&body);
    assert_eq!(found.len(), 3, "{body}");
    assert_eq!(found[2].name, "Pole 0", "{body}");
    assert_close(found[2].distance_km, 11.12, 0.01, "over the pole");
    for hit in &found {
        let lng = match hit.name.as_str() {
            "Pole 120" => 120.0,
            "Pole -120" => -120.0,
            _ => 0.0,
        };
        assert_close(
            hit.distance_km,
            haversine_km((89.95, 180.0), (89.95, lng)),
            0.01,
            &hit.name,
        );
    }
    let body = app.search(filter((89.95, 180.0), 120.0), None, None).await;
    assert!(names(&hits(&body)).contains(&"Far North"), "{body}");

    let body = app.search(filter((-89.99, -135.0), 3.0), None, None).await;
    let found = hits(&body);
    assert_eq!(names(&found), ["South B", "South A"], "{body}");
    assert_close(found[1].distance_km, 2.22, 0.01, "across the south pole");
}

/// The whole list within the radius, in one page: nearest first, ties at one distance.
async fn the_whole_list(app: &TestApp, radius: &Value) -> Vec<Hit> {
    let body = app.search(radius.clone(), Some(20), None).await;
    let whole = hits(&body);
    assert_eq!(whole.len(), 12, "{body}");
    assert_eq!(
        body["data"]["searchGroups"]["pageInfo"]["hasNextPage"],
        false
    );
    let buckets: Vec<&str> = whole
        .iter()
        .map(|h| h.name.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        buckets,
        [
            "centre", "centre", "0.5", "1", "1", "1", "4", "4", "4", "20", "60", "150"
        ],
        "nearest first: {body}"
    );
    for pair in whole.windows(2) {
        assert!(pair[0].distance_km <= pair[1].distance_km, "{pair:?}");
        if pair[0].name.split(' ').next() == pair[1].name.split(' ').next() {
            assert_eq!(pair[0].distance_km, pair[1].distance_km, "a tie: {pair:?}");
        }
    }
    for hit in &whole {
        let km: f64 = hit.name.split(' ').next().unwrap().parse().unwrap_or(0.0);
        assert_close(hit.distance_km, km, 0.01, &hit.name);
    }

    whole
}

/// One at a time: the same list, in the same order, each group once.
async fn paging_gives_the_same_list(app: &TestApp, radius: &Value, whole: &[Hit]) {
    let ids: Vec<&str> = whole.iter().map(|h| h.id.as_str()).collect();
    for first in [1, 2, 5, 12] {
        let paged = app.search_all(radius.clone(), first).await;
        let paged_ids: Vec<&str> = paged.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(paged_ids, ids, "first: {first}");
        for (a, b) in paged.iter().zip(whole) {
            assert_eq!(a.distance_km, b.distance_km);
        }
    }
}

/// The last page says so.
async fn the_last_page_says_so(app: &TestApp, radius: &Value) {
    let body = app.search(radius.clone(), Some(12), None).await;
    assert_eq!(
        body["data"]["searchGroups"]["pageInfo"]["hasNextPage"], false,
        "{body}"
    );
    let body = app.search(radius.clone(), Some(11), None).await;
    assert_eq!(
        body["data"]["searchGroups"]["pageInfo"]["hasNextPage"], true,
        "{body}"
    );
    let end = body["data"]["searchGroups"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap();
    let body = app.search(radius.clone(), Some(1), Some(end)).await;
    assert_eq!(names(&hits(&body)), ["150 km"], "{body}");
    assert_eq!(
        body["data"]["searchGroups"]["pageInfo"]["hasNextPage"], false,
        "{body}"
    );
}

#[tokio::test]
async fn results_come_nearest_first_and_page_one_by_one_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    let c = (48.8566, 2.3522);
    // Created out of distance order; several share one spot, so distances tie.
    let spots: [(&str, f64); 13] = [
        ("60 km", 60.0),
        ("1 km a", 1.0),
        ("centre a", 0.0),
        ("4 km a", -4.0),
        ("150 km", 150.0),
        ("1 km b", 1.0),
        ("0.5 km", 0.5),
        ("4 km b", -4.0),
        ("centre b", 0.0),
        ("20 km", -20.0),
        ("1 km c", 1.0),
        ("4 km c", -4.0),
        ("250 km", 250.0),
    ];
    for (name, km) in spots {
        group_at(&app, &olga, name, north_of(c.0, c.1, km)).await;
    }
    let radius = filter(c, 200.0);

    let whole = the_whole_list(&app, &radius).await;
    paging_gives_the_same_list(&app, &radius, &whole).await;
    the_last_page_says_so(&app, &radius).await;
}

#[tokio::test]
async fn paging_stays_stable_when_groups_are_added_between_pages() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    let c = (41.3874, 2.1686);
    for (name, km) in [
        ("tie 1", 0.0),
        ("tie 2", 0.0),
        ("tie 3", 0.0),
        ("at 3 km", 3.0),
        ("at 7 km", 7.0),
        ("at 30 km", 30.0),
    ] {
        group_at(&app, &olga, name, north_of(c.0, c.1, km)).await;
    }
    let radius = filter(c, 50.0);
    let body = app.search(radius.clone(), Some(4), None).await;
    let mut first_page: Vec<String> = names(&hits(&body)).iter().map(|n| n.to_string()).collect();
    first_page.sort_unstable();
    assert_eq!(first_page, ["at 3 km", "tie 1", "tie 2", "tie 3"], "{body}");
    let cursor = body["data"]["searchGroups"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // Groups nearer than the cursor belong to the page already read: they must not push
    // the rest around. One farther away takes its place in the rest.
    group_at(&app, &olga, "late centre", c).await;
    group_at(&app, &olga, "late near", north_of(c.0, c.1, 1.0)).await;
    group_at(&app, &olga, "late far", north_of(c.0, c.1, 10.0)).await;
    let mut rest = Vec::new();
    let mut after = Some(cursor);
    while let Some(cursor) = after {
        assert!(rest.len() < 10, "paging does not end: {rest:?}");
        let body = app.search(radius.clone(), Some(1), Some(&cursor)).await;
        rest.extend(hits(&body));
        let info = &body["data"]["searchGroups"]["pageInfo"];
        after =
            (info["hasNextPage"] == true).then(|| info["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(names(&rest), ["at 7 km", "late far", "at 30 km"]);
}

#[tokio::test]
async fn paging_one_by_one_never_repeats_whatever_the_distances() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    let c = (41.3874, 2.1686);
    let mut expected = Vec::new();
    for km in 1..=15 {
        let name = format!("{km} km north");
        group_at(&app, &olga, &name, north_of(c.0, c.1, km as f64)).await;
        expected.push(name);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        assert!(
            seen.len() <= expected.len(),
            "paging does not end: {seen:?}"
        );
        let body = app.search(filter(c, 50.0), Some(1), after.as_deref()).await;
        seen.extend(hits(&body).into_iter().map(|h| h.name));
        let info = &body["data"]["searchGroups"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = Some(info["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn the_text_query_matches_name_or_description_in_any_case() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    let c = BERLIN;
    group_with(
        &app,
        &olga,
        "Berlin Chess Club",
        c,
        json!({ "description": "Blitz on Tuesdays." }),
    )
    .await;
    group_with(
        &app,
        &olga,
        "Kreuzberg Knitters",
        north_of(c.0, c.1, 1.0),
        json!({ "description": "We knit, and sometimes play CHESS variants." }),
    )
    .await;
    group_with(
        &app,
        &olga,
        "Hiking Friends",
        north_of(c.0, c.1, 2.0),
        json!({ "description": "Long walks, 100% outdoors." }),
    )
    .await;
    group_with(
        &app,
        &olga,
        "Chess in Munich",
        MUNICH,
        json!({ "description": "Far away." }),
    )
    .await;

    let cases: [(&str, &[&str]); 9] = [
        ("chess", &["Berlin Chess Club", "Kreuzberg Knitters"]),
        ("CHESS", &["Berlin Chess Club", "Kreuzberg Knitters"]),
        ("cHeSs Cl", &["Berlin Chess Club"]),
        ("knit", &["Kreuzberg Knitters"]),
        ("TUESDAYS", &["Berlin Chess Club"]),
        ("walks", &["Hiking Friends"]),
        ("100%", &["Hiking Friends"]),
        ("opera", &[]),
        // Words begin words: "ess" is inside "chess", not at its start.
        ("ess", &[]),
    ];
    for (query, expected) in cases {
        let body = app
            .search(filter_with(c, 50.0, json!({ "query": query })), None, None)
            .await;
        assert_eq!(names(&hits(&body)), expected, "query {query:?}: {body}");
    }
    // No query, or one without a letter or digit, keeps everything in reach.
    for extra in [
        json!({}),
        json!({ "query": null }),
        json!({ "query": "" }),
        json!({ "query": "%" }),
        json!({ "query": "_ -- '\"" }),
    ] {
        let body = app.search(filter_with(c, 50.0, extra), None, None).await;
        assert_eq!(hits(&body).len(), 3, "{body}");
    }
}

#[tokio::test]
async fn the_interest_filter_keeps_groups_with_any_of_the_interests() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    let ids = app.interest_ids(&["Chess", "Hiking", "Pottery"]).await;
    let (chess, hiking, pottery) = (&ids[0], &ids[1], &ids[2]);
    let c = BERLIN;
    for (name, at, extra) in [
        ("Chess Only", c, json!({ "interestIds": [chess] })),
        (
            "Hiking Only",
            north_of(c.0, c.1, 1.0),
            json!({ "interestIds": [hiking] }),
        ),
        (
            "Chess and Hiking",
            north_of(c.0, c.1, 2.0),
            json!({ "interestIds": [chess, hiking] }),
        ),
        ("No Interests", north_of(c.0, c.1, 3.0), json!({})),
        ("Far Chess", MUNICH, json!({ "interestIds": [chess] })),
    ] {
        group_with(&app, &olga, name, at, extra).await;
    }

    let cases: [(Vec<&String>, &[&str]); 5] = [
        (vec![chess], &["Chess Only", "Chess and Hiking"]),
        (vec![hiking], &["Hiking Only", "Chess and Hiking"]),
        (
            vec![chess, hiking],
            &["Chess Only", "Hiking Only", "Chess and Hiking"],
        ),
        (vec![pottery], &[]),
        (
            vec![],
            &[
                "Chess Only",
                "Hiking Only",
                "Chess and Hiking",
                "No Interests",
            ],
        ),
    ];
    for (interest_ids, expected) in cases {
        let body = app
            .search(
                filter_with(c, 50.0, json!({ "interestIds": interest_ids })),
                None,
                None,
            )
            .await;
        assert_eq!(names(&hits(&body)), expected, "{interest_ids:?}: {body}");
    }
    // Both filters at once.
    let body = app
        .search(
            filter_with(
                c,
                50.0,
                json!({ "interestIds": [hiking], "query": "chess" }),
            ),
            None,
            None,
        )
        .await;
    assert_eq!(names(&hits(&body)), ["Chess and Hiking"], "{body}");

    // Paging through a filtered list one by one.
    let paged = app
        .search_all(
            filter_with(c, 50.0, json!({ "interestIds": [chess, hiking] })),
            1,
        )
        .await;
    assert_eq!(
        names(&paged),
        ["Chess Only", "Hiking Only", "Chess and Hiking"]
    );

    for unknown in [unknown_interest_id(), olga.id.clone()] {
        let body = app
            .search(
                filter_with(c, 50.0, json!({ "interestIds": [chess, unknown] })),
                None,
                None,
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "filter.interestIds", "{body}");
    }
}

#[tokio::test]
async fn a_bad_radius_or_place_is_bad_input_naming_the_field() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    group_at(&app, &olga, "Somewhere", BERLIN).await;
    for radius in [0.0, -1.0, 200.5, 1e9] {
        let body = app.search(filter(BERLIN, radius), None, None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{radius}: {body}");
        assert_eq!(error_field(&body), "filter.radiusKm", "{body}");
    }
    for radius in [200.0, 0.001] {
        let body = app.search(filter(BERLIN, radius), None, None).await;
        assert_eq!(names(&hits(&body)), ["Somewhere"], "{radius}: {body}");
    }
    let cases = [
        ((95.0, 13.0), "filter.near.lat"),
        ((-90.01, 13.0), "filter.near.lat"),
        ((52.0, 181.0), "filter.near.lng"),
        ((52.0, -180.5), "filter.near.lng"),
    ];
    for (near, field) in cases {
        let body = app.search(filter(near, 10.0), None, None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{near:?}: {body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    for first in [0, 101, -3] {
        let body = app.search(filter(BERLIN, 10.0), Some(first), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{first}: {body}");
        assert_eq!(error_field(&body), "first", "{body}");
    }
    let body = app.search(filter(BERLIN, 10.0), None, Some("forged")).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "after", "{body}");
}

// ---- Recommendations ----

/// A member with interests, an organiser, and groups around Berlin.
struct World {
    app: TestApp,
    viewer: Member,
    other: Member,
    /// The shared interests each recommendable group has with the viewer, by name.
    expected: Vec<(&'static str, (f64, f64), Vec<&'static str>)>,
}

async fn world() -> World {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    let viewer = app.sign_up("vic@example.com", "Vic").await;
    let other = app.sign_up("wes@example.com", "Wes").await;
    let ids = app
        .interest_ids(&["Chess", "Go", "Hiking", "Pottery"])
        .await;
    let [chess, go, hiking, pottery] = [&ids[0], &ids[1], &ids[2], &ids[3]];
    app.set_interests(&viewer, &[chess.clone(), go.clone(), hiking.clone()])
        .await;
    app.set_interests(&other, std::slice::from_ref(pottery))
        .await;

    let (lat, lng) = BERLIN;
    let near10 = north_of(lat, lng, 10.0);
    let south5 = north_of(lat, lng, -5.0);
    let north30 = north_of(lat, lng, 30.0);
    let groups: Vec<(&str, (f64, f64), Vec<&String>)> = vec![
        ("Next Door", BERLIN, vec![chess, go]),
        ("Ten Km", near10, vec![chess, go, hiking, pottery]),
        ("Five Km", south5, vec![chess]),
        ("Thirty A", north30, vec![hiking]),
        ("Thirty B", north30, vec![hiking]),
        ("Pottery Only", north_of(lat, lng, 2.0), vec![pottery]),
        ("No Interests", BERLIN, vec![]),
        (
            "Far Away",
            north_of(lat, lng, 120.0),
            vec![chess, go, hiking],
        ),
        ("Joined", BERLIN, vec![chess, go, hiking]),
    ];
    for (name, at, interests) in &groups {
        let id = group_with(&app, &olga, name, *at, json!({ "interestIds": interests })).await;
        if *name == "Joined" {
            app.joins_open_group(&viewer, &id).await;
        }
    }
    let expected = vec![
        ("Next Door", BERLIN, vec!["Chess", "Go"]),
        ("Ten Km", near10, vec!["Chess", "Go", "Hiking"]),
        ("Five Km", south5, vec!["Chess"]),
        ("Thirty A", north30, vec!["Hiking"]),
        ("Thirty B", north30, vec!["Hiking"]),
    ];
    World {
        app,
        viewer,
        other,
        expected,
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Pick {
    name: String,
    score: f64,
    shared: Vec<String>,
}

impl TestApp {
    async fn recommended(&self, member: &Member, near: Option<(f64, f64)>) -> Vec<Pick> {
        let near = near.map(|(lat, lng)| json!({ "lat": lat, "lng": lng }));
        let body = self
            .graphql(
                Some(&member.access_token),
                RECOMMENDED,
                json!({ "near": near, "first": 50 }),
            )
            .await;
        assert_eq!(
            body["data"]["recommendedGroups"]["pageInfo"]["hasNextPage"], false,
            "{body}"
        );
        body["data"]["recommendedGroups"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
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
                    name: e["node"]["name"].as_str().unwrap().to_owned(),
                    score: e["score"].as_f64().unwrap(),
                    shared,
                }
            })
            .collect()
    }
}

#[tokio::test]
async fn recommendations_need_a_signed_in_member() {
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
        body["data"].is_null() || body["data"]["recommendedGroups"].is_null(),
        "{body}"
    );
}

#[tokio::test]
async fn recommendations_rank_by_shared_interests_and_nearness() {
    let World {
        app,
        viewer,
        expected,
        ..
    } = world().await;

    // The distances, as the search measures them from the same place.
    let body = app.search(filter(BERLIN, 200.0), Some(50), None).await;
    let distances: Vec<Hit> = hits(&body);
    let distance_of = |name: &str| {
        distances
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("{name} not found near Berlin"))
            .distance_km
    };

    let picks = app.recommended(&viewer, Some(BERLIN)).await;
    let got: Vec<&str> = picks.iter().map(|p| p.name.as_str()).collect();
    // Thirty A and Thirty B tie; their order is the server's (by ID), but they come last.
    assert_eq!(got.len(), 5, "{picks:?}");
    assert_eq!(&got[..3], ["Next Door", "Ten Km", "Five Km"], "{picks:?}");
    let mut tail = got[3..].to_vec();
    tail.sort_unstable();
    assert_eq!(tail, ["Thirty A", "Thirty B"], "{picks:?}");

    for (name, at, shared) in &expected {
        let pick = picks.iter().find(|p| p.name == *name).unwrap();
        assert_eq!(pick.shared, *shared, "{name}");
        let d = distance_of(name);
        assert_close(d, haversine_km(BERLIN, *at), 0.01, name);
        let score = shared.len() as f64 * 10.0 / (10.0 + d);
        assert_close(pick.score, score, 1e-9, name);
    }
    // Next door counts in full; ten km away, half.
    assert_eq!(picks[0].score, 2.0, "{picks:?}");
    assert_close(picks[1].score, 1.5, 1e-3, "ten km");
    assert_eq!(picks[3].score, picks[4].score, "{picks:?}");
    for pair in picks.windows(2) {
        assert!(pair[0].score >= pair[1].score, "{pair:?}");
    }

    // One at a time: the same list, each once.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        assert!(paged.len() < 50, "paging does not end: {paged:?}");
        let body = app
            .graphql(
                Some(&viewer.access_token),
                RECOMMENDED,
                json!({ "near": { "lat": BERLIN.0, "lng": BERLIN.1 }, "first": 1, "after": after }),
            )
            .await;
        let conn = &body["data"]["recommendedGroups"];
        let edges = conn["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
        assert_eq!(edges.len(), 1, "{body}");
        paged.push(edges[0]["node"]["name"].as_str().unwrap().to_owned());
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = Some(conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(paged, got);

    // Joining a recommended group takes it off the list.
    let next_door = distances.iter().find(|h| h.name == "Next Door").unwrap();
    app.join_group(&viewer, &next_door.id).await;
    let picks = app.recommended(&viewer, Some(BERLIN)).await;
    assert_eq!(picks[0].name, "Ten Km", "{picks:?}");
    assert_eq!(picks.len(), 4, "{picks:?}");
}

#[tokio::test]
async fn recommendations_page_one_by_one_without_repeats() {
    let app = spawn_app().await;
    let olga = organiser(&app).await;
    let viewer = app.sign_up("vic@example.com", "Vic").await;
    let chess = app.interest_ids(&["Chess"]).await;
    app.set_interests(&viewer, &chess).await;
    let mut expected = Vec::new();
    for km in 1..=15 {
        let name = format!("{km} km north");
        let at = north_of(BERLIN.0, BERLIN.1, km as f64);
        group_with(&app, &olga, &name, at, json!({ "interestIds": chess })).await;
        expected.push(name);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        assert!(
            seen.len() <= expected.len(),
            "paging does not end: {seen:?}"
        );
        let body = app
            .graphql(
                Some(&viewer.access_token),
                RECOMMENDED,
                json!({ "near": { "lat": BERLIN.0, "lng": BERLIN.1 }, "first": 1, "after": after }),
            )
            .await;
        let conn = &body["data"]["recommendedGroups"];
        let edges = conn["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_owned()),
        );
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = Some(conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, expected, "nearest scores highest, each once");
}

#[tokio::test]
async fn without_a_place_the_score_is_the_number_of_shared_interests() {
    let World { app, viewer, .. } = world().await;
    let picks = app.recommended(&viewer, None).await;
    let mut got: Vec<(String, f64)> = picks.iter().map(|p| (p.name.clone(), p.score)).collect();
    for pair in picks.windows(2) {
        assert!(pair[0].score >= pair[1].score, "{pair:?}");
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            ("Far Away".to_owned(), 3.0),
            ("Five Km".to_owned(), 1.0),
            ("Next Door".to_owned(), 2.0),
            ("Ten Km".to_owned(), 3.0),
            ("Thirty A".to_owned(), 1.0),
            ("Thirty B".to_owned(), 1.0),
        ],
        "{picks:?}"
    );
}

#[tokio::test]
async fn the_home_location_ranks_but_is_never_shown() {
    let World {
        app, viewer, other, ..
    } = world().await;
    let update = "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }";
    let set_home = |at: (f64, f64)| {
        app.graphql(
            Some(&viewer.access_token),
            update,
            json!({ "input": { "homeLocation": { "lat": at.0, "lng": at.1 } } }),
        )
    };

    // At home in Berlin: the same as asking near Berlin.
    let body = set_home(BERLIN).await;
    assert!(body["errors"].is_null(), "{body}");
    let from_home = app.recommended(&viewer, None).await;
    let from_berlin = app.recommended(&viewer, Some(BERLIN)).await;
    assert_eq!(from_home, from_berlin);
    assert_eq!(from_home.len(), 5);

    // At home in Munich: nothing within 100 km; but a place given wins over the home.
    set_home(MUNICH).await;
    assert_eq!(app.recommended(&viewer, None).await, []);
    assert_eq!(app.recommended(&viewer, Some(BERLIN)).await, from_berlin);

    // The member sees their own home; nobody else can even ask for it.
    let body = app
        .graphql(
            Some(&viewer.access_token),
            "{ viewer { homeLocation { lat lng } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["viewer"]["homeLocation"],
        json!({ "lat": MUNICH.0, "lng": MUNICH.1 }),
        "{body}"
    );
    let body = app
        .graphql(
            Some(&other.access_token),
            "query($id: ID!) { user(id: $id) { displayName homeLocation { lat lng } } }",
            json!({ "id": viewer.id }),
        )
        .await;
    assert!(body["data"].is_null(), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("homeLocation"), "{body}");
    let body = app
        .graphql(
            Some(&other.access_token),
            "query($id: ID!) { user(id: $id) { id displayName bio interests { name } memberSince verification { level } } node(id: $id) { id ... on User { displayName } } }",
            json!({ "id": viewer.id }),
        )
        .await;
    assert_eq!(body["data"]["user"]["displayName"], "Vic", "{body}");
    let text = body.to_string();
    assert!(
        !text.contains("48.1351") && !text.contains("11.582"),
        "{body}"
    );
}

#[tokio::test]
async fn recommendations_need_shared_interests_and_a_valid_place() {
    let World {
        app, other, viewer, ..
    } = world().await;
    // Pottery is shared with "Ten Km" and "Pottery Only".
    let picks = app.recommended(&other, Some(BERLIN)).await;
    let names: Vec<&str> = picks.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Pottery Only", "Ten Km"], "{picks:?}");
    assert_eq!(picks[1].shared, ["Pottery"]);

    let nobody = app.sign_up("nil@example.com", "Nil").await;
    assert_eq!(app.recommended(&nobody, Some(BERLIN)).await, []);
    assert_eq!(app.recommended(&nobody, None).await, []);

    let body = app
        .graphql(
            Some(&viewer.access_token),
            RECOMMENDED,
            json!({ "near": { "lat": 95.0, "lng": 13.4 } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "near.lat", "{body}");
    let body = app
        .graphql(
            Some(&viewer.access_token),
            RECOMMENDED,
            json!({ "first": 0 }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "first", "{body}");
}
