//! Leaving for good, and taking one's data along. `deleteAccount` asks for the password,
//! then at once gives up the member's places (the waitlist moves up), meetings and
//! memberships (a group passes to its longest-standing co-organiser, or closes), and ends
//! every token; the address is free again. `exportMyData` hands over everything stored about
//! the member, and of anyone else no more than an id and a display name.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

use crate::helpers::*;

const DELETE: &str = "mutation($p: String!) { deleteAccount(input: { password: $p }) }";
const EXPORT: &str = "{ exportMyData }";
const VIEWER: &str = "{ viewer { email } }";
const GROUP: &str = "query($id: ID!) { group(id: $id) { memberCount closedAt organizers { id } viewerMembership { role } } }";
const MEMBERS: &str =
    "query($id: ID!) { group(id: $id) { members(first: 50) { nodes { user { id } } } } }";
const EVENT: &str = "query($id: ID!) { event(id: $id) { status goingCount waitlistCount viewerRsvp { status waitlistPosition } } }";
const ATTENDEES: &str =
    "query($id: ID!) { event(id: $id) { attendees(first: 50) { nodes { user { id } } } } }";
const SEARCH: &str = "{ searchGroups(filter: { near: { lat: 52.51, lng: 13.40 }, radiusKm: 50 }, first: 50) { nodes { id } } }";
const UPDATE_PROFILE: &str =
    "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }";

// ---- Helpers ----

/// The member's notifications as (kind, id of the event or group, or "").
async fn told(app: &TestApp, member: &Member) -> Vec<(String, String)> {
    app.notifications(member, false)
        .await
        .into_iter()
        .map(|n| {
            let about = n.event.or(n.group).map(|r| r.id).unwrap_or_default();
            (n.kind, about)
        })
        .collect()
}

/// The user ids in a list of `{ user { id } }` nodes.
fn user_ids(nodes: &Value) -> BTreeSet<String> {
    nodes
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {nodes}"))
        .iter()
        .map(|n| n["user"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn group_as(app: &TestApp, member: &Member, group_id: &str) -> Value {
    app.data_as(member, GROUP, json!({ "id": group_id })).await["group"].clone()
}

async fn event_as(app: &TestApp, member: &Member, event_id: &str) -> Value {
    app.data_as(member, EVENT, json!({ "id": event_id })).await["event"].clone()
}

async fn found_groups(app: &TestApp) -> BTreeSet<String> {
    let body = app.graphql(None, SEARCH, json!({})).await;
    body["data"]["searchGroups"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An RFC 3339 time (panics on anything else).
fn time(value: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a time: {value}")),
    )
    .unwrap_or_else(|e| panic!("not RFC 3339: {value}: {e}"))
}

/// The names of an object's fields.
fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

// ---- Deleting ----

#[tokio::test]
async fn a_stolen_access_token_buys_few_password_guesses() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    // Ten wrong passwords, whichever mutation asks for one, are told so; the eleventh try
    // is RATE_LIMITED, even with the right password.
    for round in 0..10 {
        let body = match round % 3 {
            0 => {
                app.graphql(
                    Some(&ann.access_token),
                    DELETE,
                    json!({ "p": "guess number one" }),
                )
                .await
            }
            1 => {
                let change = "mutation($c: String!) { changePassword(input: { currentPassword: $c, newPassword: \"a brand new secret\" }) }";
                app.graphql(
                    Some(&ann.access_token),
                    change,
                    json!({ "c": "guess number two" }),
                )
                .await
            }
            _ => {
                let change = "mutation($p: String!) { changeEmail(input: { newEmail: \"new@example.com\", password: $p }) { email } }";
                app.graphql(
                    Some(&ann.access_token),
                    change,
                    json!({ "p": "guess number three" }),
                )
                .await
            }
        };
        assert_eq!(
            error_code(&body),
            "UNAUTHENTICATED",
            "round {round}: {body}"
        );
    }
    let body = app
        .graphql(Some(&ann.access_token), DELETE, json!({ "p": PASSWORD }))
        .await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    let data = app.data_as(&ann, VIEWER, json!({})).await;
    assert_eq!(
        data["viewer"]["email"], "ann@example.com",
        "still there: {data}"
    );
}

#[tokio::test]
async fn a_wrong_password_deletes_nothing() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group_id = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await
        .id;
    let bo = app
        .new_member_of(&group_id, "bo@example.com", "Bo", Address::Unverified)
        .await;

    let body = app.graphql(None, DELETE, json!({ "p": PASSWORD })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app
        .graphql(
            Some(&ann.access_token),
            DELETE,
            json!({ "p": "not my password" }),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    // Ann is still there, signed in, and runs her group.
    let data = app.data_as(&ann, VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["email"], "ann@example.com", "{data}");
    let group = group_as(&app, &bo, &group_id).await;
    assert_eq!(group["memberCount"], 2, "{group}");
    assert_eq!(group["organizers"], json!([{ "id": ann.id }]), "{group}");
    assert!(group["closedAt"].is_null(), "{group}");
    let body = app
        .graphql(None, REFRESH, json!({ "t": ann.refresh_token }))
        .await;
    assert!(
        body["data"]["refreshSession"]["accessToken"].is_string(),
        "{body}"
    );
    let body = app.log_in("ann@example.com", PASSWORD).await;
    assert_eq!(
        body["data"]["logIn"]["user"]["id"],
        ann.id.as_str(),
        "{body}"
    );
}

/// Dee runs two groups. Hack Nights has two co-organisers (Cai joined first, but Cole was
/// named first), a full workshop where Dee holds the one place with Wren and then Cole
/// waiting, and a meet-up today where Dee and Cai confirmed meeting. Chess Club has no
/// co-organiser, and Mo is going to its next game.
struct DeesGroups {
    dee: Member,
    hack: String,
    chess: String,
    cai: Member,
    cole: Member,
    wren: Member,
    mo: Member,
    workshop: String,
    meetup: String,
    game: String,
}

async fn dee_runs_two_groups(app: &TestApp) -> DeesGroups {
    let dee = app.verified_member("dee@example.com", "Dee").await;
    let hack = app
        .create_group(&dee, group_input("Hack Nights", 52.52, 13.405))
        .await
        .id;
    let chess = app
        .create_group(&dee, group_input("Chess Club", 52.50, 13.39))
        .await
        .id;
    let cai = app
        .new_member_of(&hack, "cai@example.com", "Cai", Address::Verified)
        .await;
    let cole = app
        .new_member_of(&hack, "cole@example.com", "Cole", Address::Unverified)
        .await;
    let wren = app
        .new_member_of(&hack, "wren@example.com", "Wren", Address::Unverified)
        .await;
    app.give_role(&dee, &hack, &cole, "CO_ORGANIZER").await;
    app.give_role(&dee, &hack, &cai, "CO_ORGANIZER").await;
    let mo = app
        .new_member_of(&chess, "mo@example.com", "Mo", Address::Unverified)
        .await;

    let workshop = app
        .create_event(
            &dee,
            event_input(&hack, json!({ "title": "Small Workshop", "capacity": 1 })),
        )
        .await
        .id;
    app.says_yes(&dee, &workshop, "GOING").await;
    app.says_yes(&wren, &workshop, "WAITLISTED").await;
    app.says_yes(&cole, &workshop, "WAITLISTED").await;

    let meetup = app
        .create_event(
            &dee,
            starting_soon(&hack, json!({ "title": "Meet-up Today" })),
        )
        .await
        .id;
    for member in [&dee, &cai] {
        app.says_yes(member, &meetup, "GOING").await;
    }
    app.hosts_check_in(&dee, &cai, &meetup, &[&dee, &cai]).await;
    app.meet_and_accept(&dee, &cai, &meetup).await;
    assert_eq!(app.verification(&cai).await.0, 1);

    let game = app
        .create_event(
            &dee,
            event_input(&chess, json!({ "title": "Blitz Evening" })),
        )
        .await
        .id;
    app.says_yes(&mo, &game, "GOING").await;
    app.give_role(&dee, &chess, &mo, "EVENT_HOST").await;
    DeesGroups {
        dee,
        hack,
        chess,
        cai,
        cole,
        wren,
        mo,
        workshop,
        meetup,
        game,
    }
}

/// Dee's place goes to Wren, first in the queue, who is told; Cole moves up.
async fn wren_has_dees_place_and_cole_moves_up(app: &TestApp, d: &DeesGroups) {
    let DeesGroups {
        cole,
        wren,
        workshop,
        ..
    } = d;
    let seen = event_as(app, wren, workshop).await;
    assert_eq!(seen["viewerRsvp"]["status"], "GOING", "{seen}");
    assert_eq!(seen["status"], "SCHEDULED", "{seen}");
    assert_eq!(seen["goingCount"], 1, "{seen}");
    assert_eq!(seen["waitlistCount"], 1, "{seen}");
    let seen = event_as(app, cole, workshop).await;
    assert_eq!(seen["viewerRsvp"]["status"], "WAITLISTED", "{seen}");
    assert_eq!(seen["viewerRsvp"]["waitlistPosition"], 1, "{seen}");
    let attendees = app
        .data_as(wren, ATTENDEES, json!({ "id": workshop }))
        .await;
    assert_eq!(
        user_ids(&attendees["event"]["attendees"]["nodes"]),
        BTreeSet::from([wren.id.clone()]),
        "{attendees}"
    );
    let wrens = told(app, wren).await;
    assert!(
        wrens.contains(&("WAITLIST_PROMOTED".into(), workshop.clone())),
        "{wrens:?}"
    );
    let coles = told(app, cole).await;
    assert!(
        !coles.iter().any(|(kind, _)| kind == "WAITLIST_PROMOTED"),
        "{coles:?}"
    );
}

/// Their meeting no longer counts for Cai; Dee is gone from the meet-up's list.
async fn the_meeting_no_longer_counts_for_cai(app: &TestApp, d: &DeesGroups) {
    let DeesGroups { cai, meetup, .. } = d;
    assert_eq!(app.verification(cai).await.0, 0);
    let attendees = app.data_as(cai, ATTENDEES, json!({ "id": meetup })).await;
    assert_eq!(
        user_ids(&attendees["event"]["attendees"]["nodes"]),
        BTreeSet::from([cai.id.clone()]),
        "{attendees}"
    );
}

/// Hack Nights passes to Cai, the co-organiser who joined first, who is told.
async fn hack_nights_passes_to_cai(app: &TestApp, d: &DeesGroups) {
    let DeesGroups {
        hack,
        cai,
        cole,
        wren,
        ..
    } = d;
    let group = group_as(app, cai, hack).await;
    assert_eq!(group["viewerMembership"]["role"], "ORGANIZER", "{group}");
    assert_eq!(group["organizers"], json!([{ "id": cai.id }]), "{group}");
    assert_eq!(group["memberCount"], 3, "{group}");
    assert!(group["closedAt"].is_null(), "{group}");
    let group = group_as(app, cole, hack).await;
    assert_eq!(group["viewerMembership"]["role"], "CO_ORGANIZER", "{group}");
    let members = app.data_as(cai, MEMBERS, json!({ "id": hack })).await;
    assert_eq!(
        user_ids(&members["group"]["members"]["nodes"]),
        BTreeSet::from([cai.id.clone(), cole.id.clone(), wren.id.clone()]),
        "{members}"
    );
    let cais = told(app, cai).await;
    assert!(
        cais.contains(&("GROUP_HANDED_OVER".into(), hack.clone())),
        "{cais:?}"
    );
    let coles = told(app, cole).await;
    assert!(
        !coles.iter().any(|(kind, _)| kind == "GROUP_HANDED_OVER"),
        "{coles:?}"
    );
}

/// Chess Club had no one to take over: it is closed, out of search, its game cancelled.
async fn chess_club_closes(app: &TestApp, d: &DeesGroups) {
    let DeesGroups {
        hack,
        chess,
        mo,
        game,
        ..
    } = d;
    let group = group_as(app, mo, chess).await;
    time(&group["closedAt"]);
    assert_eq!(found_groups(app).await, BTreeSet::from([hack.clone()]));
    let seen = event_as(app, mo, game).await;
    assert_eq!(seen["status"], "CANCELLED", "{seen}");
    let mos = told(app, mo).await;
    assert!(
        mos.contains(&("EVENT_CANCELLED".into(), game.clone())),
        "{mos:?}"
    );
    let newcomer = app.sign_up("new@example.com", "Newcomer").await;
    let body = app.join_group(&newcomer, chess).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    // Nor does it take new events, even from one who may host them.
    let body = app
        .graphql(
            Some(&mo.access_token),
            CREATE_EVENT,
            json!({ "input": event_input(chess, json!({ "title": "Blitz Again" })) }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app.join_group(&newcomer, hack).await;
    assert_eq!(body["data"]["joinGroup"]["status"], "ACTIVE", "{body}");
}

/// Dee (see `DeesGroups`) deletes her account.
#[tokio::test]
async fn a_deleted_account_passes_on_its_place_and_groups_and_leaves_no_trace_in_lists() {
    let app = spawn_app().await;
    let d = dee_runs_two_groups(&app).await;
    let DeesGroups {
        dee,
        hack,
        chess,
        cai,
        mo,
        ..
    } = &d;
    assert_eq!(
        found_groups(&app).await,
        BTreeSet::from([hack.clone(), chess.clone()])
    );
    assert_eq!(group_as(&app, cai, hack).await["memberCount"], 4);
    assert!(group_as(&app, mo, chess).await["closedAt"].is_null());

    let data = app.data_as(dee, DELETE, json!({ "p": PASSWORD })).await;
    assert_eq!(data["deleteAccount"], true, "{data}");

    wren_has_dees_place_and_cole_moves_up(&app, &d).await;
    the_meeting_no_longer_counts_for_cai(&app, &d).await;
    hack_nights_passes_to_cai(&app, &d).await;
    chess_club_closes(&app, &d).await;
}

#[tokio::test]
async fn a_deleted_account_signs_in_nowhere_and_its_address_is_free_again() {
    let app = spawn_app().await;
    let olga = app.verified_member("olga@example.com", "Olga").await;
    let group_id = app
        .create_group(&olga, group_input("Hack Nights", 52.52, 13.405))
        .await
        .id;
    let event_id = app
        .create_event(&olga, event_input(&group_id, json!({})))
        .await
        .id;
    let ann = app
        .new_member_of(&group_id, "ann@example.com", "Ann", Address::Unverified)
        .await;
    let phone = app
        .log_in_from("ann@example.com", PASSWORD, "Kith/1.0 (Pixel 8)")
        .await;

    let data = app.data_as(&ann, DELETE, json!({ "p": PASSWORD })).await;
    assert_eq!(data["deleteAccount"], true, "{data}");

    for device in [&ann, &phone] {
        // Access tokens stop at once, for reading and for changing.
        let body = app
            .graphql(Some(&device.access_token), VIEWER, json!({}))
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        let body = app.answer(device, &event_id, "YES").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        let body = app.join_group(device, &group_id).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        let body = app
            .graphql(Some(&device.access_token), DELETE, json!({ "p": PASSWORD }))
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        // Refresh tokens too.
        let body = app
            .graphql(None, REFRESH, json!({ "t": device.refresh_token }))
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = app.log_in("ann@example.com", PASSWORD).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    // The address is free: a new account, someone new.
    let again = app.sign_up("ann@example.com", "Ann").await;
    assert_ne!(again.id, ann.id);
    let data = app.data_as(&again, VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["email"], "ann@example.com", "{data}");
    let group = group_as(&app, &again, &group_id).await;
    assert!(group["viewerMembership"].is_null(), "{group}");
    assert_eq!(group["memberCount"], 1, "{group}");
}

// ---- Exporting ----

/// What Ann leaves at Olga's Hack Nights, to be found again in her export: a profile,
/// interests, a membership, an answer, a check-in by a host, a meeting with Olga (Olga
/// scanned, Ann accepted), its notification read, a second device, a report and a block.
struct Traces {
    olga: Member,
    ann: Member,
    /// Ann's second device.
    phone: Member,
    /// Whom Ann reported.
    cy: Member,
    /// Whom Ann blocked.
    dan: Member,
    group_id: String,
    event: Event,
    interests: Vec<String>,
    confirmation: String,
    notification: Notification,
    /// What the API shows Ann as `viewer`, to hold the export against.
    shown: Value,
}

async fn ann_leaves_traces(app: &TestApp) -> Traces {
    let olga = app.verified_member("olga@example.com", "Olga").await;
    app.data_as(
        &olga,
        UPDATE_PROFILE,
        json!({ "input": { "bio": "Olga's own words", "homeLocation": { "lat": 48.1351, "lng": 11.582 }, "timeZone": "Europe/Vienna" } }),
    )
    .await;
    let group = app
        .create_group(&olga, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let group_id = group.id.clone();

    let ann = app
        .new_member_of(&group_id, "ann@example.com", "Ann", Address::Verified)
        .await;
    app.data_as(
        &ann,
        UPDATE_PROFILE,
        json!({ "input": { "bio": "Climbs on Sundays.", "homeLocation": { "lat": 52.52, "lng": 13.405 }, "timeZone": "Europe/Berlin" } }),
    )
    .await;
    let interests = app.interest_ids(&["Chess", "Hiking"]).await;
    app.set_interests(&ann, &interests).await;
    let event = app
        .create_event(
            &olga,
            starting_soon(&group_id, json!({ "title": "Thursday Hack Night" })),
        )
        .await;
    let event_id = event.id.clone();
    for member in [&olga, &ann] {
        app.says_yes(member, &event_id, "GOING").await;
    }
    app.host_checks_in(&olga, &event_id, &ann).await;
    app.self_checks_in(&olga, &event_id).await;
    let confirmation = app.meet_and_accept(&olga, &ann, &event_id).await;
    let notifications = app.notifications(&ann, false).await;
    assert_eq!(notifications.len(), 1, "{notifications:?}");
    let notification = notifications[0].clone();
    app.data_as(&ann, MARK_READ, json!({ "ids": [notification.id] }))
        .await;
    let phone = app
        .log_in_from("ann@example.com", PASSWORD, "Kith/1.0 (Pixel 8)")
        .await;
    let cy = app.sign_up("cy@example.com", "Cy").await;
    app.data_as(
        &ann,
        "mutation($u: ID!, $e: ID) { reportUser(input: { userId: $u, reason: \"Kept asking for my number\", eventId: $e }) }",
        json!({ "u": cy.id, "e": event_id }),
    )
    .await;
    let dan = app.sign_up("dan@example.com", "Dan").await;
    app.data_as(
        &ann,
        "mutation($u: ID!) { blockUser(input: { userId: $u }) { id } }",
        json!({ "u": dan.id }),
    )
    .await;

    // What the API shows Ann, to hold the export against.
    let shown = app
        .data_as(
        &ann,
        "{ viewer { calendarFeedUrl sessions { id createdAt userAgent } notifications(first: 50) { nodes { id kind message readAt event { id } } } memberships { nodes { role status joinedAt } } } }",
        json!({}),
    )
    .await;
    Traces {
        olga,
        ann,
        phone,
        cy,
        dan,
        group_id,
        event,
        interests,
        confirmation,
        notification,
        shown: shown["viewer"].clone(),
    }
}

/// The member's export, as text and as JSON.
async fn export_of(app: &TestApp, device: &Member) -> (String, Value) {
    let body = app
        .graphql(Some(&device.access_token), EXPORT, json!({}))
        .await;
    let raw = body["data"]["exportMyData"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let doc: Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{e}: {raw}"));
    (raw, doc)
}

/// Every part of the export is there.
fn holds_every_part(doc: &Value) {
    for key in [
        "exportedAt",
        "profile",
        "interests",
        "memberships",
        "rsvps",
        "hostedEvents",
        "checkIns",
        "meetingConfirmations",
        "notifications",
        "sessions",
        "reportsMade",
        "blockedMembers",
    ] {
        assert!(doc.get(key).is_some(), "no {key}: {doc}");
    }
    time(&doc["exportedAt"]);
}

/// The profile and interests are Ann's own.
fn profile_is_anns(doc: &Value, t: &Traces) {
    let Traces { ann, interests, .. } = t;
    let profile = &doc["profile"];
    assert_eq!(profile["id"], ann.id.as_str(), "{profile}");
    assert_eq!(profile["email"], "ann@example.com", "{profile}");
    time(&profile["emailVerifiedAt"]);
    assert_eq!(profile["displayName"], "Ann", "{profile}");
    assert_eq!(profile["bio"], "Climbs on Sundays.", "{profile}");
    assert_eq!(
        profile["homeLocation"],
        json!({ "lat": 52.52, "lng": 13.405 }),
        "{profile}"
    );
    assert_eq!(profile["timeZone"], "Europe/Berlin", "{profile}");
    assert_eq!(profile["trusted"], false, "{profile}");
    assert_eq!(doc["hostedEvents"], json!([]), "Ann hosts nothing");
    time(&profile["createdAt"]);
    time(&profile["updatedAt"]);

    let exported: BTreeSet<(String, String)> = doc["interests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        exported,
        BTreeSet::from([
            (interests[0].clone(), "Chess".to_owned()),
            (interests[1].clone(), "Hiking".to_owned()),
        ])
    );
}

/// Her one membership, of Olga's group.
fn membership_is_anns(doc: &Value, t: &Traces) {
    let (group_id, viewer) = (&t.group_id, &t.shown);
    let memberships = doc["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 1, "{memberships:?}");
    let m = &memberships[0];
    assert_eq!(
        m["group"],
        json!({ "id": group_id, "name": "Hack Nights" }),
        "{m}"
    );
    assert_eq!(m["role"], "MEMBER", "{m}");
    assert_eq!(m["status"], "ACTIVE", "{m}");
    time(&m["requestedAt"]);
    assert_eq!(
        time(&m["joinedAt"]),
        time(&viewer["memberships"]["nodes"][0]["joinedAt"]),
        "{m}"
    );
}

/// The event Ann went to, named by its id, title and start alone.
fn is_the_event(value: &Value, t: &Traces) {
    let (event, event_id) = (&t.event, &t.event.id);
    assert_eq!(
        keys(value),
        BTreeSet::from(["id", "title", "startsAt"]),
        "{value}"
    );
    assert_eq!(value["id"], event_id.as_str(), "{value}");
    assert_eq!(value["title"], "Thursday Hack Night", "{value}");
    assert_eq!(time(&value["startsAt"]), event.starts_at, "{value}");
}

/// Her answer, her check-in and her meeting with Olga, each with the event.
fn answer_check_in_and_meeting_are_anns(doc: &Value, t: &Traces) {
    let Traces {
        olga,
        ann,
        confirmation,
        ..
    } = t;
    let rsvps = doc["rsvps"].as_array().unwrap();
    assert_eq!(rsvps.len(), 1, "{rsvps:?}");
    is_the_event(&rsvps[0]["event"], t);
    assert_eq!(rsvps[0]["status"], "GOING");
    time(&rsvps[0]["createdAt"]);
    time(&rsvps[0]["updatedAt"]);

    let check_ins = doc["checkIns"].as_array().unwrap();
    assert_eq!(check_ins.len(), 1, "{check_ins:?}");
    is_the_event(&check_ins[0]["event"], t);
    assert_eq!(check_ins[0]["method"], "HOST");
    time(&check_ins[0]["at"]);

    let meetings = doc["meetingConfirmations"].as_array().unwrap();
    assert_eq!(meetings.len(), 1, "{meetings:?}");
    let c = &meetings[0];
    assert_eq!(c["id"], confirmation.as_str(), "{c}");
    is_the_event(&c["event"], t);
    assert_eq!(
        c["scanner"],
        json!({ "id": olga.id, "displayName": "Olga" }),
        "{c}"
    );
    assert_eq!(
        c["subject"],
        json!({ "id": ann.id, "displayName": "Ann" }),
        "{c}"
    );
    assert_eq!(c["status"], "CONFIRMED", "{c}");
    time(&c["createdAt"]);
    time(&c["respondedAt"]);
    assert!(c["withdrawnAt"].is_null(), "{c}");
}

/// The notification of her meeting, read.
fn notification_is_anns(doc: &Value, t: &Traces) {
    let (notification, event_id, viewer) = (&t.notification, &t.event.id, &t.shown);
    let exported = doc["notifications"].as_array().unwrap();
    assert_eq!(exported.len(), 1, "{exported:?}");
    let n = &exported[0];
    let read = &viewer["notifications"]["nodes"][0];
    assert_eq!(n["id"], notification.id.as_str(), "{n}");
    assert_eq!(n["kind"], "MEETING_REQUESTED", "{n}");
    assert_eq!(n["kind"], read["kind"], "{n}");
    assert_eq!(n["message"], read["message"], "{n}");
    assert_eq!(n["eventId"], event_id.as_str(), "{n}");
    assert!(n["groupId"].is_null(), "{n}");
    time(&n["createdAt"]);
    assert_eq!(time(&n["readAt"]), time(&read["readAt"]), "{n}");
}

/// Her two sessions, as she sees them.
fn sessions_are_anns(doc: &Value, t: &Traces) {
    let viewer = &t.shown;
    let sessions = doc["sessions"].as_array().unwrap();
    let shown_sessions = viewer["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "sign-up and the phone: {sessions:?}");
    assert_eq!(
        sessions
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect::<BTreeSet<_>>(),
        shown_sessions
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect::<BTreeSet<_>>()
    );
    for s in sessions {
        let twin = shown_sessions.iter().find(|t| t["id"] == s["id"]).unwrap();
        assert_eq!(s["userAgent"], twin["userAgent"], "{s}");
        assert_eq!(time(&s["createdAt"]), time(&twin["createdAt"]), "{s}");
        time(&s["lastUsedAt"]);
        assert!(s["endedAt"].is_null(), "{s}");
    }
    assert!(
        sessions
            .iter()
            .any(|s| s["userAgent"] == "Kith/1.0 (Pixel 8)"),
        "{sessions:?}"
    );
}

/// Whom she reported and whom she blocked, by id and name alone.
fn report_and_block_are_anns(doc: &Value, t: &Traces) {
    let Traces { cy, dan, .. } = t;
    let event_id = &t.event.id;
    let reports = doc["reportsMade"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    let report_id = r["id"].as_str().unwrap_or_else(|| panic!("{r}"));
    assert!(
        !report_id.contains('-'),
        "an opaque ID like the others, not a raw UUID: {r}"
    );
    assert_eq!(
        r["reported"],
        json!({ "id": cy.id, "displayName": "Cy" }),
        "{r}"
    );
    assert_eq!(r["eventId"], event_id.as_str(), "{r}");
    assert_eq!(r["reason"], "Kept asking for my number", "{r}");
    time(&r["createdAt"]);
    assert!(r["resolvedAt"].is_null(), "{r}");

    let blocked = doc["blockedMembers"].as_array().unwrap();
    assert_eq!(blocked.len(), 1, "{blocked:?}");
    assert_eq!(
        keys(&blocked[0]),
        BTreeSet::from(["id", "displayName", "blockedAt"])
    );
    assert_eq!(blocked[0]["id"], dan.id.as_str());
    assert_eq!(blocked[0]["displayName"], "Dan");
    time(&blocked[0]["blockedAt"]);
}

/// Nothing of the others beyond ids and names; no secret, no token.
fn tells_nothing_of_others_and_no_secret(raw: &str, t: &Traces) {
    let Traces { ann, phone, .. } = t;
    let viewer = &t.shown;
    for other in [
        "olga@example.com",
        "cy@example.com",
        "dan@example.com",
        "Olga's own words",
        "Europe/Vienna",
        "48.1351",
    ] {
        assert!(!raw.contains(other), "{other} in {raw}");
    }
    let feed = viewer["calendarFeedUrl"].as_str().unwrap();
    let feed_token = feed
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_owned();
    assert!(feed_token.len() >= 16, "{feed}");
    for secret in [
        ann.refresh_token.as_str(),
        phone.refresh_token.as_str(),
        phone.access_token.as_str(),
        feed_token.as_str(),
    ] {
        assert!(!raw.contains(secret), "a token in {raw}");
    }
    assert!(!raw.to_ascii_lowercase().contains("argon2"), "{raw}");
}

/// Olga's export names Ann, and tells nothing else of her.
async fn olgas_export_names_ann_and_no_more(app: &TestApp, t: &Traces) {
    let Traces {
        olga, ann, event, ..
    } = t;
    let event_id = &event.id;
    let data = app.data_as(olga, EXPORT, json!({})).await;
    let hers = data["exportMyData"].as_str().unwrap();
    assert!(hers.contains(&ann.id), "{hers}");
    let hosted: Value = serde_json::from_str(hers).unwrap();
    assert_eq!(
        hosted["hostedEvents"],
        json!([{ "id": event_id, "title": event.title, "startsAt": hosted["hostedEvents"][0]["startsAt"] }]),
        "Olga hosts the event she made"
    );
    time(&hosted["hostedEvents"][0]["startsAt"]);
    for private in ["ann@example.com", "Climbs on Sundays.", "13.405"] {
        assert!(!hers.contains(private), "{private} in {hers}");
    }
}

#[tokio::test]
async fn export_my_data_holds_what_is_stored_about_the_member_and_only_names_of_others() {
    let app = spawn_app().await;
    let traces = ann_leaves_traces(&app).await;

    let body = app.graphql(None, EXPORT, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let (raw, doc) = export_of(&app, &traces.phone).await;
    holds_every_part(&doc);
    profile_is_anns(&doc, &traces);
    membership_is_anns(&doc, &traces);
    answer_check_in_and_meeting_are_anns(&doc, &traces);
    notification_is_anns(&doc, &traces);
    sessions_are_anns(&doc, &traces);
    report_and_block_are_anns(&doc, &traces);
    tells_nothing_of_others_and_no_secret(&raw, &traces);

    olgas_export_names_ann_and_no_more(&app, &traces).await;
}

// ---- At the same time ----

/// A group with two organisers (Ann and Bo) and a co-organiser (Cy), and an event of one
/// place: Dot goes, Eve waits.
struct RaceClub {
    ann: Member,
    bo: Member,
    cy: Member,
    dot: Member,
    eve: Member,
    group: String,
    event: String,
}

async fn race_club(app: &TestApp, round: usize) -> RaceClub {
    let ann = app
        .verified_member(&format!("ann{round}@example.com"), "Ann")
        .await;
    let group = app
        .create_group(
            &ann,
            group_input(&format!("Race Club {round}"), 52.52, 13.405),
        )
        .await
        .id;
    let bo = app
        .new_member_of(
            &group,
            &format!("bo{round}@example.com"),
            "Bo",
            Address::Unverified,
        )
        .await;
    let cy = app
        .new_member_of(
            &group,
            &format!("cy{round}@example.com"),
            "Cy",
            Address::Unverified,
        )
        .await;
    let dot = app
        .new_member_of(
            &group,
            &format!("dot{round}@example.com"),
            "Dot",
            Address::Unverified,
        )
        .await;
    let eve = app
        .new_member_of(
            &group,
            &format!("eve{round}@example.com"),
            "Eve",
            Address::Unverified,
        )
        .await;
    app.give_role(&ann, &group, &bo, "ORGANIZER").await;
    app.give_role(&ann, &group, &cy, "CO_ORGANIZER").await;
    let event = app
        .create_event(
            &cy,
            event_input(&group, json!({ "title": "One Seat", "capacity": 1 })),
        )
        .await
        .id;
    app.says_yes(&dot, &event, "GOING").await;
    app.says_yes(&eve, &event, "WAITLISTED").await;
    RaceClub {
        ann,
        bo,
        cy,
        dot,
        eve,
        group,
        event,
    }
}

/// Both organisers delete their accounts at once; so does Dot, which gives Eve the place,
/// while Cy answers YES.
async fn all_at_once(app: &TestApp, club: &RaceClub, round: usize) {
    let RaceClub {
        ann,
        bo,
        cy,
        dot,
        event,
        ..
    } = club;
    let (a, b, c, d) = tokio::join!(
        app.graphql(Some(&ann.access_token), DELETE, json!({ "p": PASSWORD })),
        app.graphql(Some(&bo.access_token), DELETE, json!({ "p": PASSWORD })),
        app.graphql(Some(&dot.access_token), DELETE, json!({ "p": PASSWORD })),
        app.answer(cy, event, "YES"),
    );
    for body in [&a, &b, &c] {
        assert_eq!(body["data"]["deleteAccount"], true, "round {round}: {body}");
    }
    assert!(d["errors"].is_null(), "round {round}: {d}");
}

/// Whichever organiser went last handed the group over, to Cy.
async fn the_group_was_handed_over(app: &TestApp, club: &RaceClub, round: usize) {
    let RaceClub { cy, eve, group, .. } = club;
    let seen = group_as(app, cy, group).await;
    assert_eq!(
        seen["viewerMembership"]["role"], "ORGANIZER",
        "round {round}: the group was handed over: {seen}"
    );
    assert!(seen["closedAt"].is_null(), "{seen}");
    assert_eq!(seen["memberCount"], 2, "Cy and Eve: {seen}");
    let members = app.data_as(cy, MEMBERS, json!({ "id": group })).await;
    assert_eq!(
        user_ids(&members["group"]["members"]["nodes"]),
        BTreeSet::from([cy.id.clone(), eve.id.clone()]),
        "{members}"
    );
}

/// Eve, first in the queue, has Dot's place; Cy, whenever she answered, waits.
async fn eve_has_the_place(app: &TestApp, club: &RaceClub) {
    let RaceClub { cy, eve, event, .. } = club;
    let seen = app.data_as(cy, EVENT, json!({ "id": event })).await;
    assert_eq!(seen["event"]["goingCount"], 1, "{seen}");
    assert_eq!(seen["event"]["waitlistCount"], 1, "{seen}");
    assert_eq!(
        seen["event"]["viewerRsvp"]["status"], "WAITLISTED",
        "{seen}"
    );
    let going = app.data_as(cy, ATTENDEES, json!({ "id": event })).await;
    assert_eq!(
        user_ids(&going["event"]["attendees"]["nodes"]),
        BTreeSet::from([eve.id.clone()]),
        "{going}"
    );
}

#[tokio::test]
async fn deletions_and_answers_at_the_same_time_leave_every_count_true() {
    let app = spawn_app().await;
    for round in 0..3 {
        let club = race_club(&app, round).await;
        all_at_once(&app, &club, round).await;
        the_group_was_handed_over(&app, &club, round).await;
        eve_has_the_place(&app, &club).await;
    }
}
