//! Lists cost a few SQL statements whatever their length: related rows come through data
//! loaders, a query per kind, not one per item. Counted through
//! `kith_sql_statements_total` in `/metrics`.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

async fn statements(app: &TestApp) -> u64 {
    app.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix("kith_sql_statements_total "))
        .expect("the statement counter is exported")
        .trim()
        .parse()
        .unwrap()
}

/// Statements one request runs: the fewest counted in three runs, because the counter also
/// counts what the app does in the background (the jobs loop, work after a commit), which
/// only ever adds.
async fn cost(app: &TestApp, token: &str, query: &str, variables: Value) -> (u64, Value) {
    cost_as(app, Some(token), query, variables).await
}

/// As [`cost`], signed in (`token`) or not.
async fn cost_as(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (u64, Value) {
    let mut fewest = u64::MAX;
    let mut body = Value::Null;
    for _ in 0..3 {
        let before = statements(app).await;
        body = app.graphql(token, query, variables.clone()).await;
        assert!(body["errors"].is_null(), "{body}");
        fewest = fewest.min(statements(app).await - before);
    }
    (fewest, body)
}

/// 101 groups near Berlin with two interests each, made by `ann`: the last one's ID.
async fn a_hundred_and_one_groups(app: &TestApp, ann: &Member) -> String {
    let likes = app.interest_ids(&["Hiking", "Chess"]).await;
    let mut group_id = String::new();
    for i in 0..101 {
        let input = group_input_with(
            &format!("Group number {i}"),
            52.52 + i as f64 * 0.0005,
            13.405,
            json!({ "interestIds": likes }),
        );
        group_id = app.create_group(ann, input).await.id;
    }
    group_id
}

/// `searchGroups` with what each group is related to costs a few statements more than
/// without, for 20 results or 100.
async fn searching_groups_costs_a_few_statements(app: &TestApp, ann: &Member) {
    // How many statements the search itself takes depends on how far it must widen its
    // circle to fill the page; what each result adds must not depend on the page size.
    let plain = "query($n: Int!) { searchGroups(filter: { near: { lat: 52.52, lng: 13.405 }, radiusKm: 50 }, first: $n) { edges { distanceKm node { name memberCount } } } }";
    let full = "query($n: Int!) { searchGroups(filter: { near: { lat: 52.52, lng: 13.405 }, radiusKm: 50 }, first: $n) { edges { distanceKm node { name memberCount interests { name } organizers { displayName } viewerMembership { role } } } } }";
    let mut added = Vec::new();
    for n in [20, 100] {
        let (base, _) = cost(app, &ann.access_token, plain, json!({ "n": n })).await;
        let (with_related, body) = cost(app, &ann.access_token, full, json!({ "n": n })).await;
        assert_eq!(
            body["data"]["searchGroups"]["edges"]
                .as_array()
                .unwrap()
                .len(),
            n
        );
        // A handful for the widening search, one per related kind, and room for a batch
        // split in two on a loaded machine; one per item would be over a hundred.
        assert!(
            with_related <= 16,
            "searchGroups first: {n}: {with_related} statements"
        );
        added.push(with_related - base);
    }
    // Without loaders the 100 groups would cost 300 statements more. Loaders batch what is
    // asked within a short window (async-graphql's DataLoader, 1 ms), so a slow debug
    // build may split a batch in two: the bound allows that, not one query per item.
    assert!(
        added.iter().all(|&a| a <= 8),
        "related rows cost {} statements for 20 groups, {} for 100",
        added[0],
        added[1]
    );
}

/// 101 online events of the group, three days from now, a minute apart.
async fn a_hundred_and_one_events(app: &TestApp, ann: &Member, group_id: &str) {
    let starts = Utc::now() + Duration::days(3);
    for i in 0..101 {
        let at = starts + Duration::minutes(i);
        let input = json!({
            "groupId": group_id, "title": format!("Event number {i}"),
            "startsAt": at.to_rfc3339(), "endsAt": (at + Duration::hours(1)).to_rfc3339(),
            "onlineUrl": "https://meet.example/x",
        });
        app.create_event(ann, input).await;
    }
}

/// A group's `upcomingEvents` with what each event is related to.
async fn upcoming_events_cost_a_few_statements(app: &TestApp, ann: &Member, group_id: &str) {
    let events = "query($g: ID!, $n: Int!) { group(id: $g) { upcomingEvents(first: $n) { nodes { title goingCount group { name } hosts { displayName } viewerRsvp { status } } } } }";
    let (twenty, _) = cost(
        app,
        &ann.access_token,
        events,
        json!({ "g": group_id, "n": 20 }),
    )
    .await;
    let (hundred, body) = cost(
        app,
        &ann.access_token,
        events,
        json!({ "g": group_id, "n": 100 }),
    )
    .await;
    assert_eq!(
        body["data"]["group"]["upcomingEvents"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    assert!(
        twenty <= 10 && hundred <= 12,
        "upcomingEvents: {twenty} statements for 20, {hundred} for 100"
    );
    println!("upcomingEvents: {twenty} statements for 20 items, {hundred} for 100");
}

/// The home screen: events near a place with their group, hosts, goingCount and the
/// viewer's RSVP.
async fn the_home_screen_costs_a_few_statements(app: &TestApp, ann: &Member) {
    let home = "query($n: Int!) { searchEvents(filter: { near: { lat: 52.52, lng: 13.405 }, radiusKm: 25 }, first: $n) { edges { distanceKm node { title goingCount group { name } hosts { displayName } viewerRsvp { status } } } } }";
    let (twenty, body) = cost(app, &ann.access_token, home, json!({ "n": 20 })).await;
    assert_eq!(
        body["data"]["searchEvents"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let (hundred, body) = cost(app, &ann.access_token, home, json!({ "n": 100 })).await;
    assert_eq!(
        body["data"]["searchEvents"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    assert!(
        twenty <= 10 && hundred <= 12,
        "searchEvents: {twenty} statements for 20, {hundred} for 100"
    );
    println!("searchEvents (home screen): {twenty} statements for 20 items, {hundred} for 100");
}

#[tokio::test]
async fn related_rows_of_a_list_cost_a_few_statements_not_one_per_item() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group_id = a_hundred_and_one_groups(&app, &ann).await;
    searching_groups_costs_a_few_statements(&app, &ann).await;
    a_hundred_and_one_events(&app, &ann, &group_id).await;
    upcoming_events_cost_a_few_statements(&app, &ann, &group_id).await;
    the_home_screen_costs_a_few_statements(&app, &ann).await;
}

/// The two reads apps send most, signed out: an event with its group and hosts is one
/// statement; a group's page with its upcoming events and their hosts is two (the group and
/// its version, then the events with their hosts), and one while the page is kept. Each
/// event shows its own host.
#[tokio::test]
async fn an_event_is_one_statement_and_a_group_page_with_its_events_two_then_one() {
    // Without the background loops, whose statements the counter would count too.
    let app = spawn_app_with(&[("KITH_BACKGROUND_JOBS", "off")]).await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Repair Cafe", 52.52, 13.405))
        .await;
    let bob = app
        .new_member_of(&group.id, "bob@example.com", "Bob", Address::Verified)
        .await;
    app.give_role(&ann, &group.id, &bob, "EVENT_HOST").await;
    // Six evenings a day apart, hosted in turn by Ann and Bob.
    let starts = Utc::now() + Duration::days(2);
    let mut made = Vec::new();
    for i in 0..6 {
        let (host, name) = if i % 2 == 0 {
            (&ann, "Ann")
        } else {
            (&bob, "Bob")
        };
        let at = starts + Duration::days(i);
        let input = event_input(
            &group.id,
            json!({ "title": format!("Evening {i}"), "startsAt": at.to_rfc3339(), "endsAt": (at + Duration::hours(2)).to_rfc3339() }),
        );
        made.push((app.create_event(host, input).await.id, name));
    }

    let point = "query($id: ID!) { event(id: $id) { title group { name } hosts { displayName } } }";
    for (id, host) in &made[..2] {
        let (count, body) = cost_as(&app, None, point, json!({ "id": id })).await;
        assert_eq!(body["data"]["event"]["group"]["name"], "Repair Cafe");
        assert_eq!(
            body["data"]["event"]["hosts"],
            json!([{ "displayName": host }])
        );
        assert_eq!(
            count, 1,
            "event(id:) with group and hosts: {count} statements"
        );
    }

    let page = "query($g: ID!, $n: Int!) { group(id: $g) { name upcomingEvents(first: $n) { nodes { id title hosts { displayName } } pageInfo { hasNextPage } } } }";
    for n in [4, 20] {
        // The first read of a page: the group with its version, then the events with their
        // hosts. Then, while nothing changes, the page is kept: the group alone.
        let before = statements(&app).await;
        let first = app
            .graphql(None, page, json!({ "g": group.id, "n": n }))
            .await;
        let read = statements(&app).await - before;
        let (count, body) = cost_as(&app, None, page, json!({ "g": group.id, "n": n })).await;
        assert_eq!(first, body);
        assert_eq!(read, 2, "a group page of {n}, read: {read} statements");
        let events = &body["data"]["group"]["upcomingEvents"];
        let shown: Vec<(String, Value)> = events["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].as_str().unwrap().to_owned(), e["hosts"].clone()))
            .collect();
        let expected: Vec<(String, Value)> = made
            .iter()
            .take(n)
            .map(|(id, host)| (id.clone(), json!([{ "displayName": host }])))
            .collect();
        assert_eq!(shown, expected, "{body}");
        assert_eq!(events["pageInfo"]["hasNextPage"], n < made.len());
        assert_eq!(count, 1, "a group page of {n}, kept: {count} statements");
    }
}
