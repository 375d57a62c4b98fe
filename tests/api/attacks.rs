//! What an attacker tried, as the tests an attacker would write: each finding of the
//! attacker-minded pass, replayed through HTTP, and what the server answers now.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

const UNKNOWN_GROUP_MEMBERS: &str = "query($g: ID!, $n: Int) { group(id: $g) { members(first: $n) { nodes { user { interests { name } } } } } }";

/// `n` aliases of `field`, in one query.
fn aliases(n: usize, field: &str) -> String {
    let fields: Vec<String> = (0..n).map(|i| format!("a{i}: {field}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

// ---- Denial of service ----

#[tokio::test]
async fn a_page_size_past_100_is_refused_before_anything_is_counted_or_run() {
    let app = spawn_app().await;
    let group = unknown_id("Group");
    for n in [i64::from(i32::MAX), 101, 0, -1] {
        let body = app
            .graphql(None, UNKNOWN_GROUP_MEMBERS, json!({ "g": group, "n": n }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{n}: {body}");
        assert_eq!(error_field(&body), "first", "{n}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    // As a literal, nested, in 300 aliases: the same, however it is written.
    let field = format!(
        "group(id: \"{group}\") {{ members(first: 2147483647) {{ nodes {{ user {{ interests {{ name }} }} }} }} }}"
    );
    let body = app.graphql(None, &aliases(300, &field), json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // And as a variable's default.
    let body = app
        .graphql(
            None,
            "query($n: Int = 2147483647) { interests(first: $n) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_field(&body), "first", "{body}");
    // A page of 100 is fine.
    let body = app
        .graphql(
            None,
            "{ interests(first: 100) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["interests"]["nodes"].as_array().unwrap().len(),
        100
    );
}

#[tokio::test]
async fn searches_recommendations_and_exports_cost_the_work_they_do() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let search = "searchGroups(filter: {near: {lat: 52.52, lng: 13.4}, radiusKm: 200, query: \"zzzz\"}, first: 1) { nodes { id } }";
    for (query, token) in [
        (aliases(1000, search), None),
        (aliases(100, search), None),
        (
            aliases(1000, "recommendedGroups(first: 1) { nodes { id } }"),
            Some(ann.access_token.as_str()),
        ),
        (aliases(5, "exportMyData"), Some(ann.access_token.as_str())),
    ] {
        let body = app.graphql(token, &query, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("complex"), "{message}");
    }
    // What an app asks for still runs.
    let body = app.graphql(None, &aliases(3, search), json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app
        .graphql(Some(&ann.access_token), "{ exportMyData }", json!({}))
        .await;
    assert!(body["data"]["exportMyData"].is_string(), "{body}");
}

#[tokio::test]
async fn every_list_of_people_is_bounded() {
    let app = spawn_app().await;
    let (olga, group_id, event) = app.organiser_with_event(json!({})).await;
    // A group has at most 10 organisers.
    let mut organisers = vec![olga.clone()];
    for i in 0..9 {
        let member = app
            .member_of(&group_id, &format!("org{i}@example.com"))
            .await;
        app.give_role(&olga, &group_id, &member, "ORGANIZER").await;
        organisers.push(member);
    }
    let eleventh = app.member_of(&group_id, "org10@example.com").await;
    let body = app.set_role(&olga, &group_id, &eleventh, "ORGANIZER").await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app
        .graphql(
            None,
            "query($g: ID!, $e: ID!) { group(id: $g) { organizers { id } } event(id: $e) { hosts { id } } }",
            json!({ "g": group_id, "e": event.id }),
        )
        .await;
    assert_eq!(
        body["data"]["group"]["organizers"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    assert_eq!(body["data"]["event"]["hosts"].as_array().unwrap().len(), 1);

    // A member's devices and blocks come a page at a time.
    for i in 0..3 {
        app.log_in_from(&olga.email, PASSWORD, &format!("device {i}"))
            .await;
    }
    let body = app
        .graphql(
            Some(&olga.access_token),
            "{ viewer { sessions(first: 2) { id } blockedUsers(first: 100) { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["viewer"]["sessions"].as_array().unwrap().len(),
        2,
        "{body}"
    );
    let body = app
        .graphql(
            Some(&olga.access_token),
            "{ viewer { sessions(first: 1000) { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_field(&body), "first", "{body}");
}

// ---- Abuse of others ----

#[tokio::test]
async fn sign_ups_from_one_client_are_limited_and_taken_addresses_with_them() {
    let app = spawn_app_with(&[("KITH_SIGN_UPS_PER_HOUR", "3")]).await;
    app.sign_up("taken@example.com", "Taken").await;
    let sign_up = "mutation($e: String!) { signUp(input: { email: $e, password: \"correct horse battery\", displayName: \"X\" }) { accessToken } }";
    let body = app
        .graphql(None, sign_up, json!({ "e": "taken@example.com" }))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    app.sign_up("second@example.com", "Second").await;
    // The fourth attempt from this client, whether the address is taken or not.
    for email in ["taken@example.com", "fresh@example.com"] {
        let body = app.graphql(None, sign_up, json!({ "e": email })).await;
        assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    }
    // Another client signs up as usual.
    let elsewhere = client_from("127.0.0.2");
    let body = app
        .graphql_via(
            &elsewhere,
            None,
            sign_up,
            json!({ "e": "fresh@example.com" }),
        )
        .await;
    assert!(body["data"]["signUp"]["accessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn a_stranger_cannot_lock_an_owner_out() {
    let app = spawn_app().await;
    let owner = app.sign_up("victim@example.com", "Victim").await;
    // The stranger's guesses lock the stranger, not the owner elsewhere.
    let stranger = client_from("127.0.0.2");
    let log_in = format!(
        "mutation($e: String!, $p: String!) {{ logIn(input: {{ email: $e, password: $p }}) {{ {AUTH_FIELDS} }} }}"
    );
    let mut limited = 0;
    for _ in 0..15 {
        let body = app
            .graphql_via(
                &stranger,
                None,
                &log_in,
                json!({ "e": owner.email, "p": "wrong password!" }),
            )
            .await;
        if error_code(&body) == "RATE_LIMITED" {
            limited += 1;
        }
    }
    assert_eq!(limited, 5, "ten guesses, then the stranger waits");
    let body = app.log_in(&owner.email, PASSWORD).await;
    assert!(body["data"]["logIn"]["accessToken"].is_string(), "{body}");

    // Many clients reach the account's own limit (100 in an hour): a new client must wait,
    // but the owner, on a network they signed in from, still gets in.
    for i in 3..15 {
        let client = client_from(&format!("127.0.0.{i}"));
        for _ in 0..10 {
            app.graphql_via(
                &client,
                None,
                &log_in,
                json!({ "e": owner.email, "p": "wrong password!" }),
            )
            .await;
        }
    }
    let body = app
        .graphql_via(
            &client_from("127.0.0.200"),
            None,
            &log_in,
            json!({ "e": owner.email, "p": PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    let body = app.log_in(&owner.email, PASSWORD).await;
    assert!(body["data"]["logIn"]["accessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn a_client_over_its_limit_counts_against_no_account() {
    let app = spawn_app().await;
    app.sign_up("eve@example.com", "Eve").await;
    let flood = client_from("127.0.0.2");
    for i in 0..50 {
        app.graphql_via(
            &flood,
            None,
            "mutation($e: String!) { logIn(input: { email: $e, password: \"wrong password!\" }) { accessToken } }",
            json!({ "e": format!("guess{i}@example.com") }),
        )
        .await;
    }
    // Now blocked, the client hammers Eve's address: none of it is counted for Eve.
    for _ in 0..200 {
        let body = app
            .graphql_via(
                &flood,
                None,
                "mutation { logIn(input: { email: \"eve@example.com\", password: \"wrong password!\" }) { accessToken } }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    }
    let newcomer = client_from("127.0.0.3");
    let body = app
        .graphql_via(
            &newcomer,
            None,
            &format!("mutation {{ logIn(input: {{ email: \"eve@example.com\", password: \"{PASSWORD}\" }}) {{ accessToken }} }}"),
            json!({}),
        )
        .await;
    assert!(body["data"]["logIn"]["accessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn nobody_can_flood_an_inbox_by_making_accounts_with_its_address() {
    let app = spawn_app().await;
    let victim = "victim@example.com";
    let request = "mutation { requestEmailVerification }";
    let change = "mutation($e: String!) { changeEmail(input: { newEmail: $e, password: \"correct horse battery\" }) { email } }";
    let mut refused = 0;
    for round in 0..4 {
        let attacker = app.sign_up(victim, "Not The Victim").await;
        for _ in 0..4 {
            let body = app
                .graphql(Some(&attacker.access_token), request, json!({}))
                .await;
            if body["errors"].is_array() {
                assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
                refused += 1;
            }
        }
        let away = format!("away{round}@example.com");
        app.graphql(Some(&attacker.access_token), change, json!({ "e": away }))
            .await;
    }
    assert!(refused > 0, "the address's own limit was reached");
    // Let the mail that was sent arrive, then count it: ten an hour at most.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let received = app.mails_to(victim).len();
    assert!(received <= 10, "{received} mails to the victim");
    assert!(received >= 4, "{received}: the first codes did go out");
}

#[tokio::test]
async fn addresses_no_mail_can_reach_are_refused_at_sign_up() {
    let app = spawn_app().await;
    for email in ["\"x y\"@example.com", "a@[127.0.0.1]", "a@localhost"] {
        let body = app
            .graphql(
                None,
                "mutation($e: String!) { signUp(input: { email: $e, password: \"correct horse battery\", displayName: \"X\" }) { accessToken } }",
                json!({ "e": email }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{email}: {body}");
        assert_eq!(error_field(&body), "input.email", "{body}");
    }
}

// ---- Integrity ----

#[tokio::test]
async fn a_host_who_lost_the_role_or_left_no_longer_runs_their_event() {
    let app = spawn_app().await;
    let (olga, group_id, _) = app.organiser_with_event(json!({})).await;
    for (leaves, email) in [(false, "hal@example.com"), (true, "hugo@example.com")] {
        let host = app.member_of(&group_id, email).await;
        app.give_role(&olga, &group_id, &host, "EVENT_HOST").await;
        let event = app
            .create_event(&host, starting_soon(&group_id, json!({})))
            .await;
        let guest = app.member_of(&group_id, &format!("guest-{email}")).await;
        app.going(&guest, &event.id).await;
        if leaves {
            let body = app
                .graphql(
                    Some(&host.access_token),
                    LEAVE_GROUP,
                    json!({ "id": group_id }),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        } else {
            app.give_role(&olga, &group_id, &host, "MEMBER").await;
        }
        let update = app
            .graphql(
                Some(&host.access_token),
                UPDATE_EVENT,
                json!({ "input": { "eventId": event.id, "title": "Taken over" } }),
            )
            .await;
        assert_eq!(error_code(&update), "FORBIDDEN", "{update}");
        let cancel = app
            .graphql(
                Some(&host.access_token),
                CANCEL_EVENT,
                json!({ "input": { "eventId": event.id } }),
            )
            .await;
        assert_eq!(error_code(&cancel), "FORBIDDEN", "{cancel}");
        let check_in = app
            .check_in(Some(&host), &event.id, Some(&guest), None)
            .await;
        assert_eq!(error_code(&check_in), "FORBIDDEN", "{check_in}");
        // The organisers still run it.
        app.host_checks_in(&olga, &event.id, &guest).await;
    }
}

#[tokio::test]
async fn a_host_cannot_check_themselves_in_as_a_host() {
    let app = spawn_app().await;
    let (olga, group_id, _) = app.organiser_with_event(json!({})).await;
    let event = app
        .create_event(&olga, starting_soon(&group_id, json!({})))
        .await;
    app.going(&olga, &event.id).await;
    let body = app
        .check_in(Some(&olga), &event.id, Some(&olga), None)
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // By location, the weaker kind, as any member.
    app.self_checks_in(&olga, &event.id).await;
}

#[tokio::test]
async fn a_series_moved_past_its_end_stops_no_other_series() {
    let app = spawn_app().await;
    let (olga, group_id, _) = app.organiser_with_event(json!({})).await;
    let first = Utc::now() + Duration::days(1);
    let series = |title: &str, rule: &str| {
        event_input(
            &group_id,
            json!({
                "title": title,
                "startsAt": first.to_rfc3339(),
                "endsAt": (first + Duration::hours(1)).to_rfc3339(),
                "recurrence": rule,
            }),
        )
    };
    let until = (first + Duration::days(15)).format("%Y%m%dT%H%M%SZ");
    let bounded = app
        .create_event(
            &olga,
            series("Until", &format!("FREQ=WEEKLY;UNTIL={until}")),
        )
        .await;
    app.create_event(&olga, series("Weekly", "FREQ=WEEKLY"))
        .await;
    // The last occurrence of the bounded series moves a month past its UNTIL.
    let body = app
        .graphql(
            None,
            "query($g: ID!) { group(id: $g) { upcomingEvents(first: 100) { nodes { id title startsAt } } } }",
            json!({ "g": group_id }),
        )
        .await;
    let last = body["data"]["group"]["upcomingEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["title"] == "Until")
        .unwrap()
        .clone();
    assert_ne!(last["id"], bounded.id);
    let moved = first + Duration::days(45);
    let body = app
        .graphql(
            Some(&olga.access_token),
            UPDATE_EVENT,
            json!({ "input": { "eventId": last["id"], "scope": "THIS_AND_FOLLOWING", "startsAt": moved.to_rfc3339(), "endsAt": (moved + Duration::hours(1)).to_rfc3339() } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // A year on, the weekly series is topped up all the same.
    let later = Utc::now() + Duration::days(120);
    let made = kith::domain::series::top_up_all(&app.state.db, later)
        .await
        .unwrap();
    assert!(made > 0, "the weekly series was topped up");
    assert_eq!(
        kith::domain::series::top_up_all(&app.state.db, later)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_title_cannot_write_its_own_calendar_lines() {
    let app = spawn_app().await;
    let (olga, group_id, _) = app.organiser_with_event(json!({})).await;
    let body = app
        .graphql(
            Some(&olga.access_token),
            CREATE_EVENT,
            json!({ "input": event_input(&group_id, json!({ "title": "Evil\r\nBEGIN:VEVENT\r\nSUMMARY:Injected" })) }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.title", "{body}");
    // Punctuation that means something in iCalendar is escaped.
    let event = app
        .create_event(
            &olga,
            event_input(
                &group_id,
                json!({ "title": "Pub quiz; darts, and \\ more" }),
            ),
        )
        .await;
    let ics = app
        .client
        .get(app.url(&format!("/events/{}.ics", event.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1, "{ics}");
    assert!(
        ics.contains("NAME:Pub quiz\\; darts\\, and \\\\ more"),
        "{ics}"
    );
    assert!(
        ics.contains("SUMMARY:Pub quiz\\; darts\\, and \\\\ more"),
        "{ics}"
    );
}

#[tokio::test]
async fn times_outside_2000_to_2200_are_bad_input_never_a_crash() {
    let app = spawn_app().await;
    let (olga, group_id, event) = app.organiser_with_event(json!({})).await;
    for (starts, ends) in [
        ("9999-12-31T22:00:00Z", "9999-12-31T23:00:00Z"),
        ("+262142-01-01T00:00:00Z", "+262142-01-01T01:00:00Z"),
        ("1900-01-01T00:00:00Z", "1900-01-01T01:00:00Z"),
    ] {
        let input = event_input(
            &group_id,
            json!({ "startsAt": starts, "endsAt": ends, "recurrence": "FREQ=YEARLY" }),
        );
        let body = app
            .graphql(
                Some(&olga.access_token),
                CREATE_EVENT,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let body = app
            .graphql(
                Some(&olga.access_token),
                UPDATE_EVENT,
                json!({ "input": { "eventId": event.id, "scope": "THIS_AND_FOLLOWING", "startsAt": starts, "endsAt": ends } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
    // A rule that runs on past the years is cut at them, not crashed on.
    let body = app
        .graphql(
            Some(&olga.access_token),
            CREATE_EVENT,
            json!({ "input": event_input(&group_id, json!({ "startsAt": "2199-12-01T10:00:00Z", "endsAt": "2199-12-01T11:00:00Z", "recurrence": "FREQ=YEARLY;INTERVAL=50" })) }),
        )
        .await;
    assert!(
        body["data"]["createEvent"]["id"].is_string() || error_code(&body) == "BAD_USER_INPUT",
        "{body}"
    );
}

#[tokio::test]
async fn a_search_text_of_50_000_bytes_is_bad_input() {
    let app = spawn_app().await;
    let long = "x".repeat(50_001);
    for (query, field) in [
        (
            "query($q: String) { searchGroups(filter: { near: { lat: 52.5, lng: 13.4 }, radiusKm: 10, query: $q }) { nodes { id } } }",
            "filter.query",
        ),
        (
            "query($q: String) { searchEvents(filter: { near: { lat: 52.5, lng: 13.4 }, radiusKm: 10, query: $q }) { nodes { id } } }",
            "filter.query",
        ),
        (
            "query($q: String) { interests(query: $q) { nodes { id } } }",
            "query",
        ),
    ] {
        let body: Value = app.graphql(None, query, json!({ "q": long })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
}

#[tokio::test]
async fn a_nul_character_in_any_string_is_bad_input_on_every_database() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    for (query, variables) in [
        ("{ groupBySlug(slug: \"a\\u0000b\") { id } }", json!({})),
        (
            "query($q: String) { interests(query: $q) { nodes { id } } }",
            json!({ "q": "a\u{0}b" }),
        ),
        (
            "mutation($b: String) { updateProfile(input: { bio: $b }) { id } }",
            json!({ "b": "hello\u{0}" }),
        ),
        (
            "query($c: String) { interests(after: $c) { nodes { id } } }",
            json!({ "c": "WyJcdTAwMDAiLCIwMTkzMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDAiXQ" }),
        ),
    ] {
        let body = app.graphql(Some(&ann.access_token), query, variables).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
    }
}
