//! In-person verification: check-in, meeting tokens and codes, confirmations and their
//! answers, the verification level, people to meet and reports. Every rule and every
//! attack, through HTTP.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use entity::event;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kith::auth::Keys;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::events::{answer, event_input, member_of};
use crate::helpers::*;

/// Where `event_input`'s venue (c-base) is.
const VENUE: (f64, f64) = (52.5129, 13.4201);
/// About 55 m north of the venue: inside the default 300 m.
const NEAR_VENUE: (f64, f64) = (52.5134, 13.4201);
/// About 1.1 km north of the venue.
const FAR_FROM_VENUE: (f64, f64) = (52.5229, 13.4201);

const CREATE_EVENT: &str =
    "mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }";
const CANCEL_EVENT: &str =
    "mutation($id: ID!) { cancelEvent(input: { eventId: $id }) { id status } }";
const SET_ROLE: &str = "mutation($g: ID!, $u: ID!, $r: GroupRole!) { setMemberRole(input: { groupId: $g, userId: $u, role: $r }) { role } }";
const CHECK_IN: &str = "mutation($e: ID!, $u: ID, $loc: GeoPointInput) { checkIn(input: { eventId: $e, userId: $u, location: $loc }) { id status checkedIn user { id } event { id } } }";
const VIEWER_RSVP: &str = "query($id: ID!) { event(id: $id) { viewerRsvp { status checkedIn } } }";
const CREATE_TOKEN: &str =
    "mutation($e: ID!) { createMeetingToken(input: { eventId: $e }) { token code expiresAt } }";
const CONFIRM: &str = "mutation($token: String, $code: String) { confirmMeeting(input: { token: $token, code: $code }) { id status createdAt event { id } scanner { id } subject { id } } }";
const RESPOND: &str = "mutation($id: ID!, $accept: Boolean!) { respondToMeeting(input: { confirmationId: $id, accept: $accept }) { id status scanner { id } subject { id } } }";
const WITHDRAW: &str = "mutation($u: ID!) { withdrawMeeting(input: { userId: $u }) }";
const REPORT: &str = "mutation($u: ID!, $reason: String!, $e: ID) { reportUser(input: { userId: $u, reason: $reason, eventId: $e }) }";
const VERIFICATION: &str =
    "query($id: ID!) { user(id: $id) { verification { emailVerified inPersonCount level } } }";
const CONFIRMATION: &str = "query($id: ID!) { node(id: $id) { id ... on MeetingConfirmation { status event { id } scanner { id } subject { id } } } }";
const PENDING: &str = "{ viewer { pendingMeetingConfirmations(first: 20) { totalCount nodes { id status scanner { id } subject { id } } } } }";
const NOTIFICATIONS: &str =
    "{ viewer { notifications(first: 50) { nodes { kind event { id } } } } }";
const PEOPLE: &str =
    "query($id: ID!) { event(id: $id) { peopleToMeet { user { id } sharedInterests { name } } } }";
const PEOPLE_FIRST: &str = "query($id: ID!, $first: Int!) { event(id: $id) { peopleToMeet(first: $first) { user { id } sharedInterests { name } } } }";

// ---- Helpers ----

fn meeting_key() -> Vec<u8> {
    Keys::derive(TEST_SECRET.as_bytes()).meeting_token.to_vec()
}

fn access_key() -> Vec<u8> {
    Keys::derive(TEST_SECRET.as_bytes()).access_token.to_vec()
}

fn header_of_type(typ: &str) -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(typ.into());
    header
}

fn sign(header: Header, claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
}

/// The claims of a JWT, read without checking anything.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// `event_input` for an event that starts in ten minutes and lasts two hours: "now" is
/// inside the check-in window, which opens 30 minutes before the start.
fn starting_soon(group_id: &str, changes: Value) -> Value {
    let starts = Utc::now() + Duration::minutes(10);
    let mut input = event_input(
        group_id,
        json!({ "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339() }),
    );
    for (key, value) in changes.as_object().expect("an object of changes") {
        input[key] = value.clone();
    }
    input
}

async fn create_event(app: &TestApp, host: &Member, input: Value) -> String {
    let body = app
        .graphql(
            Some(&host.access_token),
            CREATE_EVENT,
            json!({ "input": input }),
        )
        .await;
    body["data"]["createEvent"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("createEvent failed: {body}"))
        .to_owned()
}

/// A new member with a verified email, ACTIVE in the group.
async fn joined(app: &TestApp, group_id: &str, email: &str, name: &str) -> Member {
    let member = app.verified_member(email, name).await;
    let body = app.join_group(&member, group_id).await;
    assert_eq!(body["data"]["joinGroup"]["status"], "ACTIVE", "{body}");
    member
}

/// The member answers YES and is GOING.
async fn going(app: &TestApp, member: &Member, event_id: &str) {
    let body = answer(app, member, event_id, "YES").await;
    assert_eq!(body["data"]["rsvp"]["status"], "GOING", "{body}");
}

async fn set_role(app: &TestApp, organiser: &Member, group_id: &str, member: &Member, role: &str) {
    let body = app
        .graphql(
            Some(&organiser.access_token),
            SET_ROLE,
            json!({ "g": group_id, "u": member.id, "r": role }),
        )
        .await;
    assert_eq!(body["data"]["setMemberRole"]["role"], role, "{body}");
}

/// `checkIn` as `actor` (None: signed out): of `target` by a host, or of oneself at
/// `location` when `target` is None.
async fn check_in(
    app: &TestApp,
    actor: Option<&Member>,
    event_id: &str,
    target: Option<&Member>,
    location: Option<(f64, f64)>,
) -> Value {
    app.graphql(
        actor.map(|a| a.access_token.as_str()),
        CHECK_IN,
        json!({
            "e": event_id,
            "u": target.map(|t| t.id.clone()),
            "loc": location.map(|(lat, lng)| json!({ "lat": lat, "lng": lng })),
        }),
    )
    .await
}

/// A host checks the member in (panics when refused).
async fn host_checks_in(app: &TestApp, host: &Member, event_id: &str, member: &Member) {
    let body = check_in(app, Some(host), event_id, Some(member), None).await;
    assert_eq!(body["data"]["checkIn"]["checkedIn"], true, "{body}");
    assert_eq!(
        body["data"]["checkIn"]["user"]["id"],
        member.id.as_str(),
        "{body}"
    );
}

/// The member checks themselves in a few metres from the venue (panics when refused).
async fn self_checks_in(app: &TestApp, member: &Member, event_id: &str) {
    let body = check_in(app, Some(member), event_id, None, Some(NEAR_VENUE)).await;
    assert_eq!(body["data"]["checkIn"]["checkedIn"], true, "{body}");
    assert_eq!(
        body["data"]["checkIn"]["user"]["id"],
        member.id.as_str(),
        "{body}"
    );
}

async fn viewer_rsvp(app: &TestApp, member: &Member, event_id: &str) -> Value {
    let body = app
        .graphql(
            Some(&member.access_token),
            VIEWER_RSVP,
            json!({ "id": event_id }),
        )
        .await;
    let rsvp = body["data"]["event"]["viewerRsvp"].clone();
    assert!(rsvp.is_object(), "{body}");
    rsvp
}

async fn create_token(app: &TestApp, member: &Member, event_id: &str) -> Value {
    app.graphql(
        Some(&member.access_token),
        CREATE_TOKEN,
        json!({ "e": event_id }),
    )
    .await
}

/// A meeting token (`{ token code expiresAt }`) for the member (panics when refused).
async fn meeting_token(app: &TestApp, member: &Member, event_id: &str) -> Value {
    let body = create_token(app, member, event_id).await;
    let token = body["data"]["createMeetingToken"].clone();
    assert!(
        token["token"].is_string(),
        "createMeetingToken failed: {body}"
    );
    assert!(token["code"].is_string(), "{body}");
    token
}

fn token_in(meeting_token: &Value) -> &str {
    meeting_token["token"].as_str().unwrap()
}

fn code_in_token(meeting_token: &Value) -> &str {
    meeting_token["code"].as_str().unwrap()
}

async fn confirm_token(app: &TestApp, scanner: &Member, token: &str) -> Value {
    app.graphql(
        Some(&scanner.access_token),
        CONFIRM,
        json!({ "token": token }),
    )
    .await
}

async fn confirm_code(app: &TestApp, scanner: &Member, code: &str) -> Value {
    app.graphql(
        Some(&scanner.access_token),
        CONFIRM,
        json!({ "code": code }),
    )
    .await
}

/// Asserts a PENDING confirmation of `scanner` meeting `subject` at `event_id`; its ID.
fn pending_confirmation(
    body: &Value,
    scanner: &Member,
    subject: &Member,
    event_id: &str,
) -> String {
    let c = &body["data"]["confirmMeeting"];
    assert_eq!(c["status"], "PENDING", "{body}");
    assert_eq!(c["scanner"]["id"], scanner.id.as_str(), "{body}");
    assert_eq!(c["subject"]["id"], subject.id.as_str(), "{body}");
    assert_eq!(c["event"]["id"], event_id, "{body}");
    c["id"].as_str().unwrap().to_owned()
}

/// The subject shows a token, the scanner scans it: a PENDING confirmation's ID.
async fn meet(app: &TestApp, scanner: &Member, subject: &Member, event_id: &str) -> String {
    let token = meeting_token(app, subject, event_id).await;
    let body = confirm_token(app, scanner, token_in(&token)).await;
    pending_confirmation(&body, scanner, subject, event_id)
}

async fn respond(app: &TestApp, member: &Member, confirmation_id: &str, accept: bool) -> Value {
    app.graphql(
        Some(&member.access_token),
        RESPOND,
        json!({ "id": confirmation_id, "accept": accept }),
    )
    .await
}

/// `meet`, then the subject accepts: a CONFIRMED confirmation's ID.
async fn meet_and_accept(
    app: &TestApp,
    scanner: &Member,
    subject: &Member,
    event_id: &str,
) -> String {
    let id = meet(app, scanner, subject, event_id).await;
    let body = respond(app, subject, &id, true).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "CONFIRMED",
        "{body}"
    );
    id
}

/// `(inPersonCount, level)` as anyone, signed out, sees them.
async fn verification(app: &TestApp, member: &Member) -> (i64, String) {
    let body = app
        .graphql(None, VERIFICATION, json!({ "id": member.id }))
        .await;
    let v = &body["data"]["user"]["verification"];
    (
        v["inPersonCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{body}")),
        v["level"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned(),
    )
}

fn level(count: i64, level: &str) -> (i64, String) {
    (count, level.to_owned())
}

/// The confirmation as `viewer` sees it through `node(id:)`: null when hidden.
async fn confirmation_seen_by(app: &TestApp, viewer: Option<&Member>, id: &str) -> Value {
    let body = app
        .graphql(
            viewer.map(|v| v.access_token.as_str()),
            CONFIRMATION,
            json!({ "id": id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["node"].clone()
}

/// The IDs of the viewer's PENDING confirmations, and `totalCount`.
async fn pending_of(app: &TestApp, member: &Member) -> (Vec<String>, i64) {
    let body = app
        .graphql(Some(&member.access_token), PENDING, json!({}))
        .await;
    let list = &body["data"]["viewer"]["pendingMeetingConfirmations"];
    let ids = list["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|n| {
            assert_eq!(n["status"], "PENDING", "{body}");
            assert_eq!(n["subject"]["id"], member.id.as_str(), "{body}");
            n["id"].as_str().unwrap().to_owned()
        })
        .collect();
    (ids, list["totalCount"].as_i64().unwrap())
}

async fn notification_kinds(app: &TestApp, member: &Member) -> Vec<String> {
    let body = app
        .graphql(Some(&member.access_token), NOTIFICATIONS, json!({}))
        .await;
    body["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn withdraw(app: &TestApp, member: &Member, other_id: &str) -> Value {
    app.graphql(
        Some(&member.access_token),
        WITHDRAW,
        json!({ "u": other_id }),
    )
    .await
}

async fn report(
    app: &TestApp,
    reporter: &Member,
    user_id: &str,
    reason: &str,
    event_id: Option<&str>,
) -> Value {
    app.graphql(
        Some(&reporter.access_token),
        REPORT,
        json!({ "u": user_id, "reason": reason, "e": event_id }),
    )
    .await
}

/// Moves the event's times, as the passing of time would.
async fn move_event(app: &TestApp, event_id: &str, starts: DateTime<Utc>, ends: DateTime<Utc>) {
    let result = event::Entity::update_many()
        .col_expr(event::Column::StartsAt, Expr::value(starts))
        .col_expr(event::Column::EndsAt, Expr::value(ends))
        .filter(event::Column::Id.eq(uuid_of(event_id)))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(result.rows_affected, 1);
}

/// An organiser, their group and an event in it that starts in ten minutes at the venue,
/// with `people`: members with verified emails, GOING, each checked in by the organiser.
struct Meetup {
    organiser: Member,
    group_id: String,
    event_id: String,
    people: Vec<Member>,
}

async fn meetup(app: &TestApp, n: usize) -> Meetup {
    let organiser = app.verified_member("org@example.com", "Olu").await;
    let group = app
        .create_group(&organiser, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    let event_id = create_event(app, &organiser, starting_soon(&group_id, json!({}))).await;
    let mut people = Vec::new();
    for i in 0..n {
        people.push(
            joined(
                app,
                &group_id,
                &format!("p{i}@example.com"),
                &format!("P{i}"),
            )
            .await,
        );
    }
    for person in &people {
        going(app, person, &event_id).await;
        host_checks_in(app, &organiser, &event_id, person).await;
    }
    Meetup {
        organiser,
        group_id,
        event_id,
        people,
    }
}

impl Meetup {
    /// A second event of the group, also starting in ten minutes, with these members
    /// GOING and checked in by the organiser.
    async fn second_event(&self, app: &TestApp, members: &[&Member]) -> String {
        let id = create_event(
            app,
            &self.organiser,
            starting_soon(&self.group_id, json!({ "title": "Second Room" })),
        )
        .await;
        for member in members {
            going(app, member, &id).await;
            host_checks_in(app, &self.organiser, &id, member).await;
        }
        id
    }
}

// ---- Check-in ----

#[tokio::test]
async fn hosts_check_in_going_members_and_no_one_else_does() {
    let app = spawn_app().await;
    let m = meetup(&app, 0).await;
    let ev = m.event_id.as_str();
    let ada = joined(&app, &m.group_id, "ada@example.com", "Ada").await;
    let bea = joined(&app, &m.group_id, "bea@example.com", "Bea").await;
    let cid = joined(&app, &m.group_id, "cid@example.com", "Cid").await;
    let eve = joined(&app, &m.group_id, "eve@example.com", "Eve").await;
    for member in [&ada, &bea, &eve] {
        going(&app, member, ev).await;
    }
    assert_eq!(viewer_rsvp(&app, &ada, ev).await["checkedIn"], false);

    // A member going to the event, but no host of it.
    let body = check_in(&app, Some(&bea), ev, Some(&ada), None).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // The EVENT_HOST role is not enough: one must host this event.
    set_role(&app, &m.organiser, &m.group_id, &eve, "EVENT_HOST").await;
    let body = check_in(&app, Some(&eve), ev, Some(&ada), None).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = check_in(&app, None, ev, Some(&ada), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(viewer_rsvp(&app, &ada, ev).await["checkedIn"], false);

    // The event's host.
    let body = check_in(&app, Some(&m.organiser), ev, Some(&ada), None).await;
    let rsvp = &body["data"]["checkIn"];
    assert_eq!(rsvp["checkedIn"], true, "{body}");
    assert_eq!(rsvp["status"], "GOING", "{body}");
    assert_eq!(rsvp["user"]["id"], ada.id.as_str(), "{body}");
    assert_eq!(rsvp["event"]["id"], ev, "{body}");
    // Again: nothing changes and nothing is refused.
    let again = check_in(&app, Some(&m.organiser), ev, Some(&ada), None).await;
    assert_eq!(again["data"]["checkIn"]["checkedIn"], true, "{again}");
    assert_eq!(again["data"]["checkIn"]["id"], rsvp["id"], "{again}");
    let seen = viewer_rsvp(&app, &ada, ev).await;
    assert_eq!(seen["checkedIn"], true, "{seen}");
    assert_eq!(seen["status"], "GOING", "{seen}");

    // Only those GOING are checked in: not someone who never answered, nor one who said no.
    let body = check_in(&app, Some(&m.organiser), ev, Some(&cid), None).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let no = answer(&app, &cid, ev, "NO").await;
    assert_eq!(no["data"]["rsvp"]["status"], "NOT_GOING", "{no}");
    let body = check_in(&app, Some(&m.organiser), ev, Some(&cid), None).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // A co-organiser of the group may check people in.
    set_role(&app, &m.organiser, &m.group_id, &bea, "CO_ORGANIZER").await;
    host_checks_in(&app, &bea, ev, &eve).await;
    assert_eq!(viewer_rsvp(&app, &eve, ev).await["checkedIn"], true);
    assert_eq!(
        viewer_rsvp(&app, &bea, ev).await["checkedIn"],
        false,
        "checking others in does not check oneself in"
    );
}

#[tokio::test]
async fn members_check_themselves_in_only_near_the_venue() {
    let app = spawn_app().await;
    let m = meetup(&app, 0).await;
    let ev = m.event_id.as_str();
    let ada = joined(&app, &m.group_id, "ada@example.com", "Ada").await;
    let cid = joined(&app, &m.group_id, "cid@example.com", "Cid").await;
    going(&app, &ada, ev).await;

    let body = check_in(&app, Some(&ada), ev, None, None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.location", "{body}");
    let body = check_in(&app, Some(&ada), ev, None, Some(FAR_FROM_VENUE)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(viewer_rsvp(&app, &ada, ev).await["checkedIn"], false);

    // Near the venue, but not going.
    let body = check_in(&app, Some(&cid), ev, None, Some(NEAR_VENUE)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    let body = check_in(&app, Some(&ada), ev, None, Some(NEAR_VENUE)).await;
    assert_eq!(body["data"]["checkIn"]["checkedIn"], true, "{body}");
    assert_eq!(body["data"]["checkIn"]["user"]["id"], ada.id.as_str());
    assert_eq!(viewer_rsvp(&app, &ada, ev).await["checkedIn"], true);
}

#[tokio::test]
async fn the_check_in_radius_is_the_operators_to_set() {
    // FAR_FROM_VENUE is about 1.1 km away: outside the default 300 m, inside 2 km.
    let app = spawn_app_with(&[("KITH_CHECKIN_RADIUS_METERS", "2000")]).await;
    let m = meetup(&app, 0).await;
    let ada = joined(&app, &m.group_id, "ada@example.com", "Ada").await;
    going(&app, &ada, &m.event_id).await;
    let body = check_in(&app, Some(&ada), &m.event_id, None, Some(FAR_FROM_VENUE)).await;
    assert_eq!(body["data"]["checkIn"]["checkedIn"], true, "{body}");
}

#[tokio::test]
async fn check_in_keeps_to_the_time_the_place_and_scheduled_events() {
    let app = spawn_app().await;
    let m = meetup(&app, 0).await;
    let ada = joined(&app, &m.group_id, "ada@example.com", "Ada").await;

    // An event a week ahead: too early for either kind.
    let next_week = create_event(&app, &m.organiser, event_input(&m.group_id, json!({}))).await;
    going(&app, &ada, &next_week).await;
    let body = check_in(&app, Some(&m.organiser), &next_week, Some(&ada), None).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = check_in(&app, Some(&ada), &next_week, None, Some(VENUE)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(
        viewer_rsvp(&app, &ada, &next_week).await["checkedIn"],
        false
    );

    // Online only: there is no venue to be near.
    let online = create_event(
        &app,
        &m.organiser,
        starting_soon(
            &m.group_id,
            json!({ "title": "Online Night", "venue": null, "onlineUrl": "https://meet.example/x" }),
        ),
    )
    .await;
    going(&app, &ada, &online).await;
    let body = check_in(&app, Some(&ada), &online, None, Some(VENUE)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Cancelled.
    let called_off = create_event(
        &app,
        &m.organiser,
        starting_soon(&m.group_id, json!({ "title": "Called Off" })),
    )
    .await;
    going(&app, &ada, &called_off).await;
    let body = app
        .graphql(
            Some(&m.organiser.access_token),
            CANCEL_EVENT,
            json!({ "id": called_off }),
        )
        .await;
    assert_eq!(body["data"]["cancelEvent"]["status"], "CANCELLED", "{body}");
    let body = check_in(&app, Some(&m.organiser), &called_off, Some(&ada), None).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = check_in(&app, Some(&ada), &called_off, None, Some(NEAR_VENUE)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // Control: the event starting soon takes the same member.
    going(&app, &ada, &m.event_id).await;
    self_checks_in(&app, &ada, &m.event_id).await;
}

// ---- Meeting tokens ----

#[tokio::test]
async fn a_meeting_token_is_a_short_lived_jwt_of_its_own_kind() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let made = meeting_token(&app, ada, &m.event_id).await;
    let token = token_in(&made);

    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("meet+jwt"));
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["kith:meet"]);
    validation.set_issuer(&["kith"]);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(&meeting_key()),
        &validation,
    )
    .expect("signed with the meeting key, audience kith:meet, issuer kith")
    .claims;
    assert_eq!(claims["sub"], uuid_of(&ada.id).to_string(), "{claims}");
    assert_eq!(claims["evt"], uuid_of(&m.event_id).to_string(), "{claims}");
    let jti: uuid::Uuid = claims["jti"].as_str().unwrap().parse().unwrap();
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(
        exp > iat && exp - iat < 60,
        "a lifetime under a minute: {claims}"
    );
    let expires_at: DateTime<Utc> = made["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!((expires_at.timestamp() - exp).abs() <= 1, "{made} {claims}");
    // Not an access token's key.
    assert!(
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(&access_key()), &validation)
            .is_err()
    );

    // The code: eight characters, upper case, never the letters O, I or L (which read as
    // digits). Codes are random, so a few are looked at.
    let code = code_in_token(&made);
    let mut codes = vec![code.to_owned()];
    for _ in 0..8 {
        codes.push(code_in_token(&meeting_token(&app, ada, &m.event_id).await).to_owned());
    }
    for shown in &codes {
        assert_eq!(shown.chars().count(), 8, "{shown}");
        assert!(
            shown
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
            "{shown}"
        );
        assert!(!shown.contains(['O', 'I', 'L']), "{shown}");
    }

    // Each is new.
    let next = meeting_token(&app, ada, &m.event_id).await;
    assert_ne!(token_in(&next), token);
    assert_ne!(code_in_token(&next), code);
    assert_ne!(claims_of(token_in(&next))["jti"], jti.to_string());

    // Only for someone checked in at the event.
    let bea = joined(&app, &m.group_id, "bea@example.com", "Bea").await;
    going(&app, &bea, &m.event_id).await;
    let body = create_token(&app, &bea, &m.event_id).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let outsider = app.sign_up("out@example.com", "Out").await;
    let body = create_token(&app, &outsider, &m.event_id).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app
        .graphql(None, CREATE_TOKEN, json!({ "e": m.event_id }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn meeting_tokens_and_access_tokens_are_not_interchangeable() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);
    let made = meeting_token(&app, bea, &m.event_id).await;
    let token = token_in(&made);

    // A meeting token is no access token.
    let body = app
        .graphql(Some(token), "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    // An access token is no meeting token.
    let body = confirm_token(&app, ada, &bea.access_token).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.token", "{body}");

    // The meeting token's own claims, each time with one thing changed.
    let claims = claims_of(token);
    let (meet_key, at_key) = (meeting_key(), access_key());
    let mut as_access = claims.clone();
    as_access["aud"] = json!("kith:access");
    let mut other_issuer = claims.clone();
    other_issuer["iss"] = json!("someone-else");
    let forged = [
        (
            "the access key",
            sign(header_of_type("meet+jwt"), &claims, &at_key),
        ),
        (
            "the access typ",
            sign(header_of_type("at+jwt"), &claims, &meet_key),
        ),
        (
            "the access audience",
            sign(header_of_type("meet+jwt"), &as_access, &meet_key),
        ),
        (
            "another issuer",
            sign(header_of_type("meet+jwt"), &other_issuer, &meet_key),
        ),
        (
            "another key",
            sign(
                header_of_type("meet+jwt"),
                &claims,
                b"some other secret, also long enough",
            ),
        ),
        ("garbage", "not-a-token".to_owned()),
    ];
    for (what, forgery) in forged {
        let body = confirm_token(&app, ada, &forgery).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {body}");
        assert_eq!(error_field(&body), "input.token", "{what}: {body}");
    }

    // Control: the same claims, signed as the server signs them, are accepted; so each
    // refusal above was about the one thing changed, and none used the token up.
    let body = confirm_token(
        &app,
        ada,
        &sign(header_of_type("meet+jwt"), &claims, &meet_key),
    )
    .await;
    pending_confirmation(&body, ada, bea, &m.event_id);
}

#[tokio::test]
async fn an_expired_meeting_token_is_refused() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);
    let made = meeting_token(&app, bea, &m.event_id).await;
    let claims = claims_of(token_in(&made));
    let key = meeting_key();
    let now = Utc::now().timestamp();
    // Forged with the server's key and recipe, its whole life over 90 s or 20 s ago.
    for ago in [90, 20] {
        let mut expired = claims.clone();
        expired["iat"] = json!(now - ago - 45);
        expired["exp"] = json!(now - ago);
        let body =
            confirm_token(&app, ada, &sign(header_of_type("meet+jwt"), &expired, &key)).await;
        assert_eq!(
            error_code(&body),
            "BAD_USER_INPUT",
            "expired {ago} s ago: {body}"
        );
        assert_eq!(error_field(&body), "input.token", "{body}");
    }
    // Control: the same claims with their own expiry are accepted.
    let body = confirm_token(&app, ada, &sign(header_of_type("meet+jwt"), &claims, &key)).await;
    pending_confirmation(&body, ada, bea, &m.event_id);
}

// ---- Confirming a meeting ----

#[tokio::test]
async fn a_token_or_code_is_used_once() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let ev = m.event_id.as_str();

    // Scanned once, then replayed by someone else, as a token and as its code.
    let made = meeting_token(&app, bea, ev).await;
    let body = confirm_token(&app, ada, token_in(&made)).await;
    pending_confirmation(&body, ada, bea, ev);
    let body = confirm_token(&app, cid, token_in(&made)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = confirm_code(&app, cid, code_in_token(&made)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // Typed once, then replayed, as the code and as its token.
    let made = meeting_token(&app, cid, ev).await;
    let body = confirm_code(&app, ada, code_in_token(&made)).await;
    pending_confirmation(&body, ada, cid, ev);
    let body = confirm_code(&app, bea, code_in_token(&made)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = confirm_token(&app, bea, token_in(&made)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // One confirmation each came of it.
    assert_eq!(pending_of(&app, bea).await.1, 1);
    assert_eq!(pending_of(&app, cid).await.1, 1);
    assert_eq!(pending_of(&app, ada).await.1, 0);
}

#[tokio::test]
async fn a_code_is_typed_in_any_case_with_spaces_or_dashes_and_alone() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let made = meeting_token(&app, bea, &m.event_id).await;
    let code = code_in_token(&made);

    // Token and code together, or neither.
    let body = app
        .graphql(
            Some(&ada.access_token),
            CONFIRM,
            json!({ "token": token_in(&made), "code": code }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.token", "{body}");
    let body = app
        .graphql(Some(&ada.access_token), CONFIRM, json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.token", "{body}");

    let typed = format!("{}-{} ", code[..4].to_lowercase(), code[4..].to_lowercase());
    let body = confirm_code(&app, ada, &typed).await;
    pending_confirmation(&body, ada, bea, &m.event_id);

    let made = meeting_token(&app, cid, &m.event_id).await;
    let code = code_in_token(&made);
    let typed = format!(" {} {}", &code[..4], code[4..].to_lowercase());
    let body = confirm_code(&app, ada, &typed).await;
    pending_confirmation(&body, ada, cid, &m.event_id);

    let body = app.graphql(None, CONFIRM, json!({ "code": code })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn a_token_for_another_event_is_refused() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, cid) = (&m.people[0], &m.people[1]);
    let bea = joined(&app, &m.group_id, "bea@example.com", "Bea").await;
    let other = m.second_event(&app, &[&bea]).await;

    // Ada's token is for the first event, where Bea is not checked in.
    let made = meeting_token(&app, ada, &m.event_id).await;
    let body = confirm_token(&app, &bea, token_in(&made)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = confirm_code(&app, &bea, code_in_token(&made)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // And the reverse: Bea's token for the second event, where Ada is not.
    let theirs = meeting_token(&app, &bea, &other).await;
    let body = confirm_token(&app, ada, token_in(&theirs)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Control: someone at the token's event scans the same token; the meeting is there.
    let body = confirm_token(&app, cid, token_in(&made)).await;
    pending_confirmation(&body, cid, ada, &m.event_id);
}

#[tokio::test]
async fn a_scanner_not_checked_in_is_refused() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let bea = joined(&app, &m.group_id, "bea@example.com", "Bea").await;
    let cid = joined(&app, &m.group_id, "cid@example.com", "Cid").await;
    let outsider = app.verified_member("out@example.com", "Out").await;
    going(&app, &bea, &m.event_id).await;

    let made = meeting_token(&app, ada, &m.event_id).await;
    // Going, not checked in.
    let body = confirm_token(&app, &bea, token_in(&made)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // A member not going, and someone not even in the group.
    let body = confirm_code(&app, &cid, code_in_token(&made)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = confirm_token(&app, &outsider, token_in(&made)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app
        .graphql(None, CONFIRM, json!({ "token": token_in(&made) }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    // Once checked in, the same token goes through.
    host_checks_in(&app, &m.organiser, &m.event_id, &bea).await;
    let body = confirm_token(&app, &bea, token_in(&made)).await;
    pending_confirmation(&body, &bea, ada, &m.event_id);
}

#[tokio::test]
async fn no_one_confirms_a_meeting_with_themselves() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let made = meeting_token(&app, ada, &m.event_id).await;
    let body = confirm_token(&app, ada, token_in(&made)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let made = meeting_token(&app, ada, &m.event_id).await;
    let body = confirm_code(&app, ada, code_in_token(&made)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(pending_of(&app, ada).await, (vec![], 0));
    assert_eq!(verification(&app, ada).await, level(0, "EMAIL"));
}

#[tokio::test]
async fn guessing_codes_is_rate_limited_even_for_the_right_one() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let made = meeting_token(&app, bea, &m.event_id).await;
    let code = code_in_token(&made).to_owned();
    let wrong: Vec<String> = "23456789ABCDEFGH"
        .chars()
        .map(|c| c.to_string().repeat(8))
        .filter(|guess| *guess != code)
        .take(6)
        .collect();

    for guess in &wrong[..5] {
        let body = confirm_code(&app, ada, guess).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{guess}: {body}");
        assert_eq!(error_field(&body), "input.code", "{body}");
    }
    let body = confirm_code(&app, ada, &wrong[5]).await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "the sixth guess: {body}");
    let wait = body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap_or_else(|| panic!("retryAfterSeconds: {body}"));
    assert!(wait > 0, "{body}");
    let body = confirm_code(&app, ada, &code).await;
    assert_eq!(
        error_code(&body),
        "RATE_LIMITED",
        "even the right code: {body}"
    );
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64() > Some(0),
        "{body}"
    );
    assert_eq!(pending_of(&app, bea).await.1, 0);

    // The guesses counted against Ada alone: Cid types the right code and it works.
    let body = confirm_code(&app, cid, &code).await;
    pending_confirmation(&body, cid, bea, &m.event_id);
}

#[tokio::test]
async fn a_pair_is_confirmed_once_per_event_in_either_direction() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);
    let ev = m.event_id.as_str();
    let first = meet(&app, ada, bea, ev).await;

    let again = meeting_token(&app, bea, ev).await;
    let body = confirm_token(&app, ada, token_in(&again)).await;
    assert_eq!(error_code(&body), "CONFLICT", "the same direction: {body}");
    let back = meeting_token(&app, ada, ev).await;
    let body = confirm_token(&app, bea, token_in(&back)).await;
    assert_eq!(error_code(&body), "CONFLICT", "the other direction: {body}");

    // Whatever became of the first one.
    let body = respond(&app, bea, &first, false).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "DECLINED",
        "{body}"
    );
    let again = meeting_token(&app, bea, ev).await;
    let body = confirm_token(&app, ada, token_in(&again)).await;
    assert_eq!(error_code(&body), "CONFLICT", "after a decline: {body}");
    let back = meeting_token(&app, ada, ev).await;
    let body = confirm_code(&app, bea, code_in_token(&back)).await;
    assert_eq!(
        error_code(&body),
        "CONFLICT",
        "after a decline, by code: {body}"
    );
    assert_eq!(pending_of(&app, ada).await.1, 0);
    assert_eq!(pending_of(&app, bea).await.1, 0);

    // At another event, the same two may confirm each other again: it still counts once.
    let other = m.second_event(&app, &[ada, bea]).await;
    meet_and_accept(&app, bea, ada, &other).await;
    assert_eq!(verification(&app, ada).await, level(1, "IN_PERSON"));
    assert_eq!(verification(&app, bea).await, level(1, "IN_PERSON"));
}

#[tokio::test]
async fn nothing_is_confirmed_outside_the_event_window() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);
    let ev = m.event_id.as_str();
    let made = meeting_token(&app, bea, ev).await;
    let now = Utc::now();

    // The event moves to two hours from now: more than 30 minutes early.
    move_event(&app, ev, now + Duration::hours(2), now + Duration::hours(4)).await;
    let body = confirm_token(&app, ada, token_in(&made)).await;
    assert_eq!(error_code(&body), "CONFLICT", "too early: {body}");
    let body = create_token(&app, ada, ev).await;
    assert_eq!(error_code(&body), "CONFLICT", "too early: {body}");

    // It ended three hours ago: more than 2 hours late.
    move_event(&app, ev, now - Duration::hours(5), now - Duration::hours(3)).await;
    let body = confirm_code(&app, ada, code_in_token(&made)).await;
    assert_eq!(error_code(&body), "CONFLICT", "too late: {body}");
    let body = create_token(&app, ada, ev).await;
    assert_eq!(error_code(&body), "CONFLICT", "too late: {body}");

    // Control: back to starting in ten minutes, the same token goes through.
    move_event(
        &app,
        ev,
        now + Duration::minutes(10),
        now + Duration::hours(2),
    )
    .await;
    let body = confirm_token(&app, ada, token_in(&made)).await;
    pending_confirmation(&body, ada, bea, ev);
}

// ---- Answering, declining, withdrawing ----

#[tokio::test]
async fn the_subject_is_told_and_alone_answers() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let id = meet(&app, ada, bea, &m.event_id).await;

    assert!(
        notification_kinds(&app, bea)
            .await
            .contains(&"MEETING_REQUESTED".to_owned())
    );
    assert!(
        !notification_kinds(&app, ada)
            .await
            .contains(&"MEETING_REQUESTED".to_owned())
    );

    // Not the scanner, not someone else, not an unknown confirmation.
    let body = respond(&app, ada, &id, true).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = respond(&app, cid, &id, true).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = respond(&app, bea, &unknown_id("MeetingConfirmation"), true).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let seen = confirmation_seen_by(&app, Some(bea), &id).await;
    assert_eq!(seen["status"], "PENDING", "{seen}");
    assert_eq!(verification(&app, ada).await, level(0, "EMAIL"));
    assert_eq!(verification(&app, bea).await, level(0, "EMAIL"));

    let body = respond(&app, bea, &id, true).await;
    let answered = &body["data"]["respondToMeeting"];
    assert_eq!(answered["status"], "CONFIRMED", "{body}");
    assert_eq!(answered["id"], id.as_str());
    assert_eq!(answered["scanner"]["id"], ada.id.as_str());
    assert_eq!(answered["subject"]["id"], bea.id.as_str());
    // The same answer again changes nothing; the other answer is too late.
    let body = respond(&app, bea, &id, true).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "CONFIRMED",
        "{body}"
    );
    let body = respond(&app, bea, &id, false).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // Both host-checked, both verified by email: it counts for both.
    assert_eq!(verification(&app, ada).await, level(1, "IN_PERSON"));
    assert_eq!(verification(&app, bea).await, level(1, "IN_PERSON"));
    assert_eq!(verification(&app, cid).await, level(0, "EMAIL"));
    assert_eq!(pending_of(&app, bea).await, (vec![], 0));
}

#[tokio::test]
async fn a_declined_meeting_counts_for_nobody() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);
    let id = meet(&app, ada, bea, &m.event_id).await;

    let body = respond(&app, bea, &id, false).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "DECLINED",
        "{body}"
    );
    assert_eq!(verification(&app, ada).await, level(0, "EMAIL"));
    assert_eq!(verification(&app, bea).await, level(0, "EMAIL"));
    assert_eq!(pending_of(&app, bea).await, (vec![], 0));

    let body = respond(&app, bea, &id, false).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "DECLINED",
        "{body}"
    );
    let body = respond(&app, bea, &id, true).await;
    assert_eq!(
        error_code(&body),
        "CONFLICT",
        "no changing one's mind: {body}"
    );
    assert_eq!(verification(&app, ada).await, level(0, "EMAIL"));
    assert_eq!(verification(&app, bea).await, level(0, "EMAIL"));
}

#[tokio::test]
async fn withdrawing_takes_back_every_meeting_with_that_person_at_once() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let ev = m.event_id.as_str();
    let other = m.second_event(&app, &[ada, bea]).await;

    let here = meet_and_accept(&app, ada, bea, ev).await;
    let there = meet_and_accept(&app, bea, ada, &other).await;
    meet_and_accept(&app, cid, ada, ev).await;
    let pending = meet(&app, bea, cid, ev).await;
    assert_eq!(verification(&app, ada).await, level(2, "IN_PERSON"));
    assert_eq!(verification(&app, bea).await, level(1, "IN_PERSON"));
    assert_eq!(verification(&app, cid).await, level(1, "IN_PERSON"));

    // Bea takes back both of her meetings with Ada, whoever scanned.
    let body = withdraw(&app, bea, &ada.id).await;
    assert_eq!(body["data"]["withdrawMeeting"], true, "{body}");
    assert_eq!(verification(&app, ada).await, level(1, "IN_PERSON"));
    assert_eq!(verification(&app, bea).await, level(0, "EMAIL"));
    assert_eq!(verification(&app, cid).await, level(1, "IN_PERSON"));
    for id in [&here, &there] {
        let seen = confirmation_seen_by(&app, Some(ada), id).await;
        assert_eq!(seen["status"], "WITHDRAWN", "{seen}");
    }
    // Withdrawn still counts as the pair's confirmation at that event.
    let made = meeting_token(&app, bea, ev).await;
    let body = confirm_token(&app, ada, token_in(&made)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // A pending one is withdrawn too, and can no longer be answered.
    assert_eq!(pending_of(&app, cid).await, (vec![pending.clone()], 1));
    let body = withdraw(&app, cid, &bea.id).await;
    assert_eq!(body["data"]["withdrawMeeting"], true, "{body}");
    assert_eq!(pending_of(&app, cid).await, (vec![], 0));
    let body = respond(&app, cid, &pending, true).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(verification(&app, cid).await, level(1, "IN_PERSON"));

    let body = withdraw(&app, ada, &unknown_id("User")).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

// ---- Levels ----

#[tokio::test]
async fn in_person_needs_both_checked_in_by_a_host_and_an_email() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let bea = joined(&app, &m.group_id, "bea@example.com", "Bea").await;
    let dan = member_of(&app, &m.group_id, "dan@example.com").await;
    going(&app, &bea, &m.event_id).await;
    going(&app, &dan, &m.event_id).await;
    self_checks_in(&app, &bea, &m.event_id).await;
    host_checks_in(&app, &m.organiser, &m.event_id, &dan).await;
    assert_eq!(verification(&app, &dan).await, level(0, "UNVERIFIED"));

    // Bea checked herself in: the meeting counts, the level does not move.
    meet_and_accept(&app, ada, &bea, &m.event_id).await;
    assert_eq!(verification(&app, ada).await, level(1, "EMAIL"));
    assert_eq!(verification(&app, &bea).await, level(1, "EMAIL"));

    // Dan was checked in by a host but never verified his email.
    meet_and_accept(&app, &dan, ada, &m.event_id).await;
    assert_eq!(verification(&app, ada).await, level(2, "IN_PERSON"));
    assert_eq!(verification(&app, &dan).await, level(1, "UNVERIFIED"));
    assert_eq!(verification(&app, &bea).await, level(1, "EMAIL"));
}

#[tokio::test]
async fn a_host_check_in_upgrades_a_self_check_in() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let bea = joined(&app, &m.group_id, "bea@example.com", "Bea").await;
    going(&app, &bea, &m.event_id).await;
    self_checks_in(&app, &bea, &m.event_id).await;
    host_checks_in(&app, &m.organiser, &m.event_id, &bea).await;
    assert_eq!(
        viewer_rsvp(&app, &bea, &m.event_id).await["checkedIn"],
        true
    );

    // And the reverse changes nothing: Ada, checked in by the host, checks herself in too.
    self_checks_in(&app, ada, &m.event_id).await;

    meet_and_accept(&app, ada, &bea, &m.event_id).await;
    assert_eq!(verification(&app, ada).await, level(1, "IN_PERSON"));
    assert_eq!(verification(&app, &bea).await, level(1, "IN_PERSON"));
}

#[tokio::test]
async fn hosts_check_in_until_two_hours_after_the_end_members_until_the_end() {
    let app = spawn_app().await;
    let m = meetup(&app, 0).await;
    let ev = m.event_id.as_str();
    let mut members = Vec::new();
    for name in ["ada", "bea", "cid"] {
        let member = joined(&app, &m.group_id, &format!("{name}@example.com"), name).await;
        going(&app, &member, ev).await;
        members.push(member);
    }
    let (ada, bea, cid) = (&members[0], &members[1], &members[2]);
    let now = Utc::now();

    // It ended an hour ago: members can no longer check themselves in, hosts still can.
    move_event(&app, ev, now - Duration::hours(3), now - Duration::hours(1)).await;
    let body = check_in(&app, Some(ada), ev, None, Some(NEAR_VENUE)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    host_checks_in(&app, &m.organiser, ev, ada).await;

    // Three hours ago: no one.
    move_event(&app, ev, now - Duration::hours(5), now - Duration::hours(3)).await;
    let body = check_in(&app, Some(&m.organiser), ev, Some(bea), None).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(viewer_rsvp(&app, bea, ev).await["checkedIn"], false);

    // Twenty minutes before the start, both kinds work.
    move_event(
        &app,
        ev,
        now + Duration::minutes(20),
        now + Duration::hours(2),
    )
    .await;
    host_checks_in(&app, &m.organiser, ev, bea).await;
    self_checks_in(&app, cid, ev).await;
}

/// Fresh accounts confirm one another at an event of their own making: they reach
/// IN_PERSON, which says they met, and never TRUSTED, which needs a chain from
/// established organisers.
#[tokio::test]
async fn a_ring_of_fresh_accounts_reaches_in_person_and_no_further() {
    let app = spawn_app().await;
    let m = meetup(&app, 4).await;
    going(&app, &m.organiser, &m.event_id).await;
    host_checks_in(&app, &m.organiser, &m.event_id, &m.organiser).await;
    let ring: Vec<&Member> = std::iter::once(&m.organiser).chain(&m.people).collect();
    for i in 0..ring.len() {
        for j in i + 1..ring.len() {
            meet_and_accept(&app, ring[i], ring[j], &m.event_id).await;
        }
    }
    for member in &ring {
        assert_eq!(
            verification(&app, member).await,
            level(ring.len() as i64 - 1, "IN_PERSON"),
            "{}",
            member.email
        );
    }
}

// ---- Privacy ----

#[tokio::test]
async fn who_confirmed_whom_is_for_the_two_of_them() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let id = meet(&app, ada, bea, &m.event_id).await;

    for party in [ada, bea] {
        let seen = confirmation_seen_by(&app, Some(party), &id).await;
        assert_eq!(seen["id"], id.as_str(), "{seen}");
        assert_eq!(seen["status"], "PENDING", "{seen}");
        assert_eq!(seen["scanner"]["id"], ada.id.as_str(), "{seen}");
        assert_eq!(seen["subject"]["id"], bea.id.as_str(), "{seen}");
        assert_eq!(seen["event"]["id"], m.event_id.as_str(), "{seen}");
    }
    for other in [Some(cid), Some(&m.organiser), None] {
        assert!(confirmation_seen_by(&app, other, &id).await.is_null());
    }
    assert_eq!(pending_of(&app, bea).await, (vec![id.clone()], 1));
    assert_eq!(pending_of(&app, ada).await, (vec![], 0));
    assert_eq!(pending_of(&app, cid).await, (vec![], 0));

    let body = respond(&app, bea, &id, true).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "CONFIRMED",
        "{body}"
    );
    assert_eq!(pending_of(&app, bea).await, (vec![], 0));
    for other in [Some(cid), Some(&m.organiser), None] {
        assert!(confirmation_seen_by(&app, other, &id).await.is_null());
    }
    assert_eq!(
        confirmation_seen_by(&app, Some(ada), &id).await["status"],
        "CONFIRMED"
    );
    // What everyone sees: the count and the level.
    assert_eq!(verification(&app, ada).await, level(1, "IN_PERSON"));
    assert_eq!(verification(&app, bea).await, level(1, "IN_PERSON"));
}

#[tokio::test]
async fn pending_confirmations_come_newest_first() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let older = meet(&app, ada, cid, &m.event_id).await;
    let newer = meet(&app, bea, cid, &m.event_id).await;
    assert_eq!(
        pending_of(&app, cid).await,
        (vec![newer.clone(), older.clone()], 2)
    );

    // Page by page.
    let page = "query($after: String) { viewer { pendingMeetingConfirmations(first: 1, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } } }";
    let body = app.graphql(Some(&cid.access_token), page, json!({})).await;
    let first = &body["data"]["viewer"]["pendingMeetingConfirmations"];
    assert_eq!(first["nodes"][0]["id"], newer.as_str(), "{body}");
    assert_eq!(first["nodes"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(first["totalCount"], 2, "{body}");
    assert_eq!(first["pageInfo"]["hasNextPage"], true, "{body}");
    let body = app
        .graphql(
            Some(&cid.access_token),
            page,
            json!({ "after": first["pageInfo"]["endCursor"] }),
        )
        .await;
    let second = &body["data"]["viewer"]["pendingMeetingConfirmations"];
    assert_eq!(second["nodes"][0]["id"], older.as_str(), "{body}");
    assert_eq!(second["nodes"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(second["pageInfo"]["hasNextPage"], false, "{body}");
}

// ---- People to meet ----

async fn people_to_meet(
    app: &TestApp,
    viewer: &Member,
    event_id: &str,
    first: Option<i64>,
) -> Value {
    match first {
        Some(first) => {
            app.graphql(
                Some(&viewer.access_token),
                PEOPLE_FIRST,
                json!({ "id": event_id, "first": first }),
            )
            .await
        }
        None => {
            app.graphql(
                Some(&viewer.access_token),
                PEOPLE,
                json!({ "id": event_id }),
            )
            .await
        }
    }
}

/// `(user id, sorted shared interest names)` in the order given.
fn people(body: &Value) -> Vec<(String, Vec<String>)> {
    body["data"]["event"]["peopleToMeet"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|p| {
            let mut shared: Vec<String> = p["sharedInterests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_owned())
                .collect();
            shared.sort();
            (p["user"]["id"].as_str().unwrap().to_owned(), shared)
        })
        .collect()
}

#[tokio::test]
async fn people_to_meet_are_ranked_by_shared_interests_leaving_out_reports() {
    let app = spawn_app().await;
    let m = meetup(&app, 0).await;
    let ev = m.event_id.as_str();
    let ids = app
        .interest_ids(&["Chess", "Hiking", "Pottery", "Go", "Rust"])
        .await;
    let (chess, hiking, pottery, go, rust) = (&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]);
    let mut members = Vec::new();
    for name in ["vic", "one", "two", "none", "reporter", "reported", "nay"] {
        members.push(member_of(&app, &m.group_id, &format!("{name}@example.com")).await);
    }
    let [vic, one, two, none, reporter, reported, nay] = &members[..] else {
        unreachable!()
    };
    let all_three = [chess.clone(), hiking.clone(), pottery.clone()];
    app.set_interests(vic, &all_three).await;
    app.set_interests(one, &[chess.clone(), hiking.clone(), rust.clone()])
        .await;
    app.set_interests(two, &[pottery.clone(), go.clone()]).await;
    app.set_interests(none, std::slice::from_ref(go)).await;
    app.set_interests(reporter, &all_three).await;
    app.set_interests(reported, &all_three).await;
    app.set_interests(nay, &all_three).await;
    for member in [vic, one, two, none, reporter, reported] {
        going(&app, member, ev).await;
    }
    let no = answer(&app, nay, ev, "NO").await;
    assert_eq!(no["data"]["rsvp"]["status"], "NOT_GOING", "{no}");
    let body = report(&app, reporter, &vic.id, "Made me uneasy", Some(ev)).await;
    assert_eq!(body["data"]["reportUser"], true, "{body}");
    let body = report(&app, vic, &reported.id, "Rude", None).await;
    assert_eq!(body["data"]["reportUser"], true, "{body}");

    let expected = vec![
        (
            one.id.clone(),
            vec!["Chess".to_owned(), "Hiking".to_owned()],
        ),
        (two.id.clone(), vec!["Pottery".to_owned()]),
        (none.id.clone(), vec![]),
    ];
    assert_eq!(people(&people_to_meet(&app, vic, ev, None).await), expected);
    assert_eq!(
        people(&people_to_meet(&app, vic, ev, Some(1)).await),
        expected[..1].to_vec()
    );

    // Reports cut both ways, and no one is offered themselves.
    for (viewer, other) in [(reporter, reported), (reported, reporter)] {
        let list: Vec<String> = people(&people_to_meet(&app, viewer, ev, None).await)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert!(
            !list.contains(&vic.id),
            "{} sees Vic: {list:?}",
            viewer.email
        );
        assert!(!list.contains(&viewer.id), "{list:?}");
        assert!(list.contains(&other.id), "{list:?}");
        assert!(list.contains(&one.id), "{list:?}");
    }

    // For members going only.
    for member in [nay, &m.organiser] {
        let body = people_to_meet(&app, member, ev, None).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let body = app.graphql(None, PEOPLE, json!({ "id": ev })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

// ---- Reports ----

#[tokio::test]
async fn a_report_needs_a_reason_and_someone_else() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);

    for reason in ["".to_owned(), "x".repeat(2001)] {
        let body = report(&app, ada, &bea.id, &reason, None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.reason", "{body}");
    }
    let body = report(&app, ada, &ada.id, "Testing the button", None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.userId", "{body}");
    let body = app
        .graphql(None, REPORT, json!({ "u": bea.id, "reason": "Spam" }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    let body = report(&app, ada, &bea.id, &"x".repeat(2000), Some(&m.event_id)).await;
    assert_eq!(body["data"]["reportUser"], true, "{body}");
}

#[tokio::test]
async fn guesses_sent_at_once_are_counted_before_they_are_looked_up() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bob) = (&m.people[0], &m.people[1]);
    let right = code_in_token(&meeting_token(&app, ada, &m.event_id).await).to_owned();
    // Thirty wrong guesses and the right code, all at once.
    let mut guesses: Vec<String> = (0..30).map(|i| format!("ZZZZZ{i:03}")).collect();
    guesses.push(right.clone());
    let answers =
        futures::future::join_all(guesses.iter().map(|code| confirm_code(&app, bob, code))).await;
    let looked_up = answers
        .iter()
        .filter(|a| error_code(a) != "RATE_LIMITED")
        .count();
    assert!(
        looked_up <= 6,
        "at most the allowed wrong guesses plus one are looked up: {looked_up}"
    );
    assert!(answers.iter().any(|a| error_code(a) == "RATE_LIMITED"));
}

#[tokio::test]
async fn an_answer_racing_a_withdrawal_never_undoes_it() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bob) = (&m.people[0], &m.people[1]);
    let id = meet(&app, bob, ada, &m.event_id).await;
    let withdraw = app.graphql(
        Some(&bob.access_token),
        "mutation($u: ID!) { withdrawMeeting(input: { userId: $u }) }",
        json!({ "u": ada.id }),
    );
    let (accepted, withdrawn) = tokio::join!(respond(&app, ada, &id, true), withdraw);
    assert_eq!(withdrawn["data"]["withdrawMeeting"], true, "{withdrawn}");
    let seen = confirmation_seen_by(&app, Some(ada), &id).await;
    // Whichever came first, the withdrawal stands: the meeting counts for no one.
    assert_eq!(seen["status"], "WITHDRAWN", "{seen} after {accepted}");
    assert_eq!(verification(&app, ada).await.0, 0);
    assert_eq!(verification(&app, bob).await.0, 0);
}

#[tokio::test]
async fn who_says_no_after_checking_in_is_no_longer_checked_in() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bob) = (&m.people[0], &m.people[1]);
    let token = meeting_token(&app, ada, &m.event_id).await;
    crate::events::answer(&app, ada, &m.event_id, "NO").await;
    let body = confirm_token(&app, bob, token_in(&token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = create_token(&app, ada, &m.event_id).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // Coming back means checking in again.
    going(&app, ada, &m.event_id).await;
    let rsvp = viewer_rsvp(&app, ada, &m.event_id).await;
    assert_eq!(rsvp["checkedIn"], false, "{rsvp}");
}
