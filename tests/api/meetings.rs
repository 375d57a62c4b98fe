//! In-person verification: check-in, meeting tokens and codes, confirmations and their
//! answers, the verification level, people to meet and reports. Every rule and every
//! attack, through HTTP.

use chrono::{DateTime, Duration, Utc};
use entity::event;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::*;

/// Where `event_input`'s venue (c-base) is.
const VENUE: (f64, f64) = (52.5129, 13.4201);
/// About 55 m north of the venue: inside the default 300 m.
/// About 1.1 km north of the venue.
const FAR_FROM_VENUE: (f64, f64) = (52.5229, 13.4201);

const VIEWER_RSVP: &str = "query($id: ID!) { event(id: $id) { viewerRsvp { status checkedIn } } }";
const WITHDRAW: &str = "mutation($u: ID!) { withdrawMeeting(input: { userId: $u }) { id status } }";
const REPORT: &str = "mutation($u: ID!, $reason: String!, $e: ID) { reportUser(input: { userId: $u, reason: $reason, eventId: $e }) }";
const CONFIRMATION: &str = "query($id: ID!) { node(id: $id) { id ... on MeetingConfirmation { status event { id } scanner { id } subject { id } } } }";
const PENDING: &str = "{ viewer { pendingMeetingConfirmations(first: 20) { totalCount nodes { id status scanner { id } subject { id } } } } }";
const PEOPLE: &str =
    "query($id: ID!) { event(id: $id) { peopleToMeet { user { id } sharedInterests { name } } } }";
const PEOPLE_FIRST: &str = "query($id: ID!, $first: Int!) { event(id: $id) { peopleToMeet(first: $first) { user { id } sharedInterests { name } } } }";

// ---- Helpers ----

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

async fn confirm_code(app: &TestApp, scanner: &Member, code: &str) -> Value {
    app.graphql(
        Some(&scanner.access_token),
        CONFIRM,
        json!({ "code": code }),
    )
    .await
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
    let group_id = group.id.clone();
    let event_id = app
        .create_event(&organiser, starting_soon(&group_id, json!({})))
        .await
        .id;
    let mut people = Vec::new();
    for i in 0..n {
        people.push(
            app.new_member_of(
                &group_id,
                &format!("p{i}@example.com"),
                &format!("P{i}"),
                Address::Verified,
            )
            .await,
        );
    }
    for person in &people {
        app.going(person, &event_id).await;
        app.host_checks_in(&organiser, &event_id, person).await;
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
        let id = app
            .create_event(
                &self.organiser,
                starting_soon(&self.group_id, json!({ "title": "Second Room" })),
            )
            .await
            .id;
        for member in members {
            app.going(member, &id).await;
            app.host_checks_in(&self.organiser, &id, member).await;
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
    let ada = app
        .new_member_of(&m.group_id, "ada@example.com", "Ada", Address::Verified)
        .await;
    let bea = app
        .new_member_of(&m.group_id, "bea@example.com", "Bea", Address::Verified)
        .await;
    let cid = app
        .new_member_of(&m.group_id, "cid@example.com", "Cid", Address::Verified)
        .await;
    let eve = app
        .new_member_of(&m.group_id, "eve@example.com", "Eve", Address::Verified)
        .await;
    for member in [&ada, &bea, &eve] {
        app.going(member, ev).await;
    }
    assert_eq!(viewer_rsvp(&app, &ada, ev).await["checkedIn"], false);

    // A member going to the event, but no host of it.
    let body = app.check_in(Some(&bea), ev, Some(&ada), None).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // The EVENT_HOST role is not enough: one must host this event.
    app.give_role(&m.organiser, &m.group_id, &eve, "EVENT_HOST")
        .await;
    let body = app.check_in(Some(&eve), ev, Some(&ada), None).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.check_in(None, ev, Some(&ada), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(viewer_rsvp(&app, &ada, ev).await["checkedIn"], false);

    // The event's host.
    let body = app.check_in(Some(&m.organiser), ev, Some(&ada), None).await;
    let rsvp = &body["data"]["checkIn"];
    assert_eq!(rsvp["checkedIn"], true, "{body}");
    assert_eq!(rsvp["status"], "GOING", "{body}");
    assert_eq!(rsvp["user"]["id"], ada.id.as_str(), "{body}");
    assert_eq!(rsvp["event"]["id"], ev, "{body}");
    // Again: nothing changes and nothing is refused.
    let again = app.check_in(Some(&m.organiser), ev, Some(&ada), None).await;
    assert_eq!(again["data"]["checkIn"]["checkedIn"], true, "{again}");
    assert_eq!(again["data"]["checkIn"]["id"], rsvp["id"], "{again}");
    let seen = viewer_rsvp(&app, &ada, ev).await;
    assert_eq!(seen["checkedIn"], true, "{seen}");
    assert_eq!(seen["status"], "GOING", "{seen}");

    // Only those GOING are checked in: not someone who never answered, nor one who said no.
    let body = app.check_in(Some(&m.organiser), ev, Some(&cid), None).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let no = app.answer(&cid, ev, "NO").await;
    assert_eq!(no["data"]["rsvp"]["status"], "NOT_GOING", "{no}");
    let body = app.check_in(Some(&m.organiser), ev, Some(&cid), None).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // A co-organiser of the group may check people in.
    app.give_role(&m.organiser, &m.group_id, &bea, "CO_ORGANIZER")
        .await;
    app.host_checks_in(&bea, ev, &eve).await;
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
    let ada = app
        .new_member_of(&m.group_id, "ada@example.com", "Ada", Address::Verified)
        .await;
    let cid = app
        .new_member_of(&m.group_id, "cid@example.com", "Cid", Address::Verified)
        .await;
    app.going(&ada, ev).await;

    let body = app.check_in(Some(&ada), ev, None, None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.location", "{body}");
    let body = app
        .check_in(Some(&ada), ev, None, Some(FAR_FROM_VENUE))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(viewer_rsvp(&app, &ada, ev).await["checkedIn"], false);

    // Near the venue, but not going.
    let body = app.check_in(Some(&cid), ev, None, Some(NEAR_VENUE)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    let body = app.check_in(Some(&ada), ev, None, Some(NEAR_VENUE)).await;
    assert_eq!(body["data"]["checkIn"]["checkedIn"], true, "{body}");
    assert_eq!(body["data"]["checkIn"]["user"]["id"], ada.id.as_str());
    assert_eq!(viewer_rsvp(&app, &ada, ev).await["checkedIn"], true);
}

#[tokio::test]
async fn the_check_in_radius_is_the_operators_to_set() {
    // FAR_FROM_VENUE is about 1.1 km away: outside the default 300 m, inside 2 km.
    let app = spawn_app_with(&[("KITH_CHECKIN_RADIUS_METERS", "2000")]).await;
    let m = meetup(&app, 0).await;
    let ada = app
        .new_member_of(&m.group_id, "ada@example.com", "Ada", Address::Verified)
        .await;
    app.going(&ada, &m.event_id).await;
    let body = app
        .check_in(Some(&ada), &m.event_id, None, Some(FAR_FROM_VENUE))
        .await;
    assert_eq!(body["data"]["checkIn"]["checkedIn"], true, "{body}");
}

#[tokio::test]
async fn check_in_keeps_to_the_time_the_place_and_scheduled_events() {
    let app = spawn_app().await;
    let m = meetup(&app, 0).await;
    let ada = app
        .new_member_of(&m.group_id, "ada@example.com", "Ada", Address::Verified)
        .await;

    // An event a week ahead: too early for either kind.
    let next_week = app
        .create_event(&m.organiser, event_input(&m.group_id, json!({})))
        .await
        .id;
    app.going(&ada, &next_week).await;
    let body = app
        .check_in(Some(&m.organiser), &next_week, Some(&ada), None)
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app
        .check_in(Some(&ada), &next_week, None, Some(VENUE))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(
        viewer_rsvp(&app, &ada, &next_week).await["checkedIn"],
        false
    );

    // Online only: there is no venue to be near.
    let online = app.create_event(&m.organiser,
        starting_soon(
            &m.group_id,
            json!({ "title": "Online Night", "venue": null, "onlineUrl": "https://meet.example/x" }),
        ))
    .await
        .id;
    app.going(&ada, &online).await;
    let body = app.check_in(Some(&ada), &online, None, Some(VENUE)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Cancelled.
    let called_off = app
        .create_event(
            &m.organiser,
            starting_soon(&m.group_id, json!({ "title": "Called Off" })),
        )
        .await
        .id;
    app.going(&ada, &called_off).await;
    let body = app
        .graphql(
            Some(&m.organiser.access_token),
            CANCEL_EVENT,
            json!({ "input": { "eventId": called_off } }),
        )
        .await;
    assert_eq!(body["data"]["cancelEvent"]["status"], "CANCELLED", "{body}");
    let body = app
        .check_in(Some(&m.organiser), &called_off, Some(&ada), None)
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app
        .check_in(Some(&ada), &called_off, None, Some(NEAR_VENUE))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // Control: the event starting soon takes the same member.
    app.going(&ada, &m.event_id).await;
    app.self_checks_in(&ada, &m.event_id).await;
}

// ---- Meeting tokens ----

/// Eight characters, upper case, never the letters O, I or L (which read as digits).
fn assert_reads_clearly(code: &str) {
    assert_eq!(code.chars().count(), 8, "{code}");
    assert!(
        code.chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "{code}"
    );
    assert!(!code.contains(['O', 'I', 'L']), "{code}");
}

#[tokio::test]
async fn a_meeting_token_is_a_short_lived_jwt_of_its_own_kind() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let made = app.meeting_token(ada, &m.event_id).await;
    let token = &made.token;

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
    assert!(
        (made.expires_at.timestamp() - exp).abs() <= 1,
        "{made:?} {claims}"
    );
    // Not an access token's key.
    assert!(
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(&access_key()), &validation)
            .is_err()
    );

    // The code: eight characters, upper case, never the letters O, I or L (which read as
    // digits). Codes are random, so a few are looked at.
    let code = &made.code;
    let mut codes = vec![code.to_owned()];
    for _ in 0..8 {
        codes.push(app.meeting_token(ada, &m.event_id).await.code);
    }
    for shown in &codes {
        assert_reads_clearly(shown);
    }

    // Each is new.
    let next = app.meeting_token(ada, &m.event_id).await;
    assert_ne!(&next.token, token);
    assert_ne!(&next.code, code);
    assert_ne!(claims_of(&next.token)["jti"], jti.to_string());

    // Only for someone checked in at the event.
    let bea = app
        .new_member_of(&m.group_id, "bea@example.com", "Bea", Address::Verified)
        .await;
    app.going(&bea, &m.event_id).await;
    let body = app.create_token(&bea, &m.event_id).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let outsider = app.sign_up("out@example.com", "Out").await;
    let body = app.create_token(&outsider, &m.event_id).await;
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
    let made = app.meeting_token(bea, &m.event_id).await;
    let token = &made.token;

    // A meeting token is no access token.
    let body = app
        .graphql(Some(token), "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    // An access token is no meeting token.
    let body = app.confirm_token(ada, &bea.access_token).await;
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
        let body = app.confirm_token(ada, &forgery).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {body}");
        assert_eq!(error_field(&body), "input.token", "{what}: {body}");
    }

    // Control: the same claims, signed as the server signs them, are accepted; so each
    // refusal above was about the one thing changed, and none used the token up.
    let body = app
        .confirm_token(ada, &sign(header_of_type("meet+jwt"), &claims, &meet_key))
        .await;
    pending_confirmation(&body, ada, bea, &m.event_id);
}

#[tokio::test]
async fn an_expired_meeting_token_is_refused() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);
    let made = app.meeting_token(bea, &m.event_id).await;
    let claims = claims_of(&made.token);
    let key = meeting_key();
    let now = Utc::now().timestamp();
    // Forged with the server's key and recipe, its whole life over 90 s or 20 s ago.
    for ago in [90, 20] {
        let mut expired = claims.clone();
        expired["iat"] = json!(now - ago - 45);
        expired["exp"] = json!(now - ago);
        let body = app
            .confirm_token(ada, &sign(header_of_type("meet+jwt"), &expired, &key))
            .await;
        assert_eq!(
            error_code(&body),
            "BAD_USER_INPUT",
            "expired {ago} s ago: {body}"
        );
        assert_eq!(error_field(&body), "input.token", "{body}");
    }
    // Control: the same claims with their own expiry are accepted.
    let body = app
        .confirm_token(ada, &sign(header_of_type("meet+jwt"), &claims, &key))
        .await;
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
    let made = app.meeting_token(bea, ev).await;
    let body = app.confirm_token(ada, &made.token).await;
    pending_confirmation(&body, ada, bea, ev);
    let body = app.confirm_token(cid, &made.token).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = confirm_code(&app, cid, &made.code).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // Typed once, then replayed, as the code and as its token.
    let made = app.meeting_token(cid, ev).await;
    let body = confirm_code(&app, ada, &made.code).await;
    pending_confirmation(&body, ada, cid, ev);
    let body = confirm_code(&app, bea, &made.code).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = app.confirm_token(bea, &made.token).await;
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
    let made = app.meeting_token(bea, &m.event_id).await;
    let code = &made.code;

    // Token and code together, or neither.
    let body = app
        .graphql(
            Some(&ada.access_token),
            CONFIRM,
            json!({ "token": &made.token, "code": code }),
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

    let made = app.meeting_token(cid, &m.event_id).await;
    let code = &made.code;
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
    let bea = app
        .new_member_of(&m.group_id, "bea@example.com", "Bea", Address::Verified)
        .await;
    let other = m.second_event(&app, &[&bea]).await;

    // Ada's token is for the first event, where Bea is not checked in.
    let made = app.meeting_token(ada, &m.event_id).await;
    let body = app.confirm_token(&bea, &made.token).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = confirm_code(&app, &bea, &made.code).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // And the reverse: Bea's token for the second event, where Ada is not.
    let theirs = app.meeting_token(&bea, &other).await;
    let body = app.confirm_token(ada, &theirs.token).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Control: someone at the token's event scans the same token; the meeting is there.
    let body = app.confirm_token(cid, &made.token).await;
    pending_confirmation(&body, cid, ada, &m.event_id);
}

#[tokio::test]
async fn a_scanner_not_checked_in_is_refused() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let bea = app
        .new_member_of(&m.group_id, "bea@example.com", "Bea", Address::Verified)
        .await;
    let cid = app
        .new_member_of(&m.group_id, "cid@example.com", "Cid", Address::Verified)
        .await;
    let outsider = app.verified_member("out@example.com", "Out").await;
    app.going(&bea, &m.event_id).await;

    let made = app.meeting_token(ada, &m.event_id).await;
    // Going, not checked in.
    let body = app.confirm_token(&bea, &made.token).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // A member not going, and someone not even in the group.
    let body = confirm_code(&app, &cid, &made.code).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.confirm_token(&outsider, &made.token).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app
        .graphql(None, CONFIRM, json!({ "token": &made.token }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    // Once checked in, the same token goes through.
    app.host_checks_in(&m.organiser, &m.event_id, &bea).await;
    let body = app.confirm_token(&bea, &made.token).await;
    pending_confirmation(&body, &bea, ada, &m.event_id);
}

#[tokio::test]
async fn no_one_confirms_a_meeting_with_themselves() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let made = app.meeting_token(ada, &m.event_id).await;
    let body = app.confirm_token(ada, &made.token).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let made = app.meeting_token(ada, &m.event_id).await;
    let body = confirm_code(&app, ada, &made.code).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(pending_of(&app, ada).await, (vec![], 0));
    assert_eq!(app.verification(ada).await, level(0, "EMAIL"));
}

#[tokio::test]
async fn guessing_codes_is_rate_limited_even_for_the_right_one() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let made = app.meeting_token(bea, &m.event_id).await;
    let code = made.code.clone();
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
    let first = app.meet(ada, bea, ev).await;

    let again = app.meeting_token(bea, ev).await;
    let body = app.confirm_token(ada, &again.token).await;
    assert_eq!(error_code(&body), "CONFLICT", "the same direction: {body}");
    let back = app.meeting_token(ada, ev).await;
    let body = app.confirm_token(bea, &back.token).await;
    assert_eq!(error_code(&body), "CONFLICT", "the other direction: {body}");

    // Whatever became of the first one.
    let body = app.respond(bea, &first, false).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "DECLINED",
        "{body}"
    );
    let again = app.meeting_token(bea, ev).await;
    let body = app.confirm_token(ada, &again.token).await;
    assert_eq!(error_code(&body), "CONFLICT", "after a decline: {body}");
    let back = app.meeting_token(ada, ev).await;
    let body = confirm_code(&app, bea, &back.code).await;
    assert_eq!(
        error_code(&body),
        "CONFLICT",
        "after a decline, by code: {body}"
    );
    assert_eq!(pending_of(&app, ada).await.1, 0);
    assert_eq!(pending_of(&app, bea).await.1, 0);

    // At another event, the same two may confirm each other again: it still counts once.
    let other = m.second_event(&app, &[ada, bea]).await;
    app.meet_and_accept(bea, ada, &other).await;
    assert_eq!(app.verification(ada).await, level(1, "IN_PERSON"));
    assert_eq!(app.verification(bea).await, level(1, "IN_PERSON"));
}

#[tokio::test]
async fn nothing_is_confirmed_outside_the_event_window() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);
    let ev = m.event_id.as_str();
    let made = app.meeting_token(bea, ev).await;
    let now = Utc::now();

    // The event moves to two hours from now: more than 30 minutes early.
    move_event(&app, ev, now + Duration::hours(2), now + Duration::hours(4)).await;
    let body = app.confirm_token(ada, &made.token).await;
    assert_eq!(error_code(&body), "CONFLICT", "too early: {body}");
    let body = app.create_token(ada, ev).await;
    assert_eq!(error_code(&body), "CONFLICT", "too early: {body}");

    // It ended three hours ago: more than 2 hours late.
    move_event(&app, ev, now - Duration::hours(5), now - Duration::hours(3)).await;
    let body = confirm_code(&app, ada, &made.code).await;
    assert_eq!(error_code(&body), "CONFLICT", "too late: {body}");
    let body = app.create_token(ada, ev).await;
    assert_eq!(error_code(&body), "CONFLICT", "too late: {body}");

    // Control: back to starting in ten minutes, the same token goes through.
    move_event(
        &app,
        ev,
        now + Duration::minutes(10),
        now + Duration::hours(2),
    )
    .await;
    let body = app.confirm_token(ada, &made.token).await;
    pending_confirmation(&body, ada, bea, ev);
}

// ---- Answering, declining, withdrawing ----

#[tokio::test]
async fn the_subject_is_told_and_alone_answers() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let id = app.meet(ada, bea, &m.event_id).await;

    assert!(
        app.notification_kinds(bea)
            .await
            .contains(&"MEETING_REQUESTED".to_owned())
    );
    assert!(
        !app.notification_kinds(ada)
            .await
            .contains(&"MEETING_REQUESTED".to_owned())
    );

    // Not the scanner, not someone else, not an unknown confirmation.
    let body = app.respond(ada, &id, true).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.respond(cid, &id, true).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = app
        .respond(bea, &unknown_id("MeetingConfirmation"), true)
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let seen = confirmation_seen_by(&app, Some(bea), &id).await;
    assert_eq!(seen["status"], "PENDING", "{seen}");
    assert_eq!(app.verification(ada).await, level(0, "EMAIL"));
    assert_eq!(app.verification(bea).await, level(0, "EMAIL"));

    let body = app.respond(bea, &id, true).await;
    let answered = &body["data"]["respondToMeeting"];
    assert_eq!(answered["status"], "CONFIRMED", "{body}");
    assert_eq!(answered["id"], id.as_str());
    assert_eq!(answered["scanner"]["id"], ada.id.as_str());
    assert_eq!(answered["subject"]["id"], bea.id.as_str());
    // The same answer again changes nothing; the other answer is too late.
    let body = app.respond(bea, &id, true).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "CONFIRMED",
        "{body}"
    );
    let body = app.respond(bea, &id, false).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // Both host-checked, both verified by email: it counts for both.
    assert_eq!(app.verification(ada).await, level(1, "IN_PERSON"));
    assert_eq!(app.verification(bea).await, level(1, "IN_PERSON"));
    assert_eq!(app.verification(cid).await, level(0, "EMAIL"));
    assert_eq!(pending_of(&app, bea).await, (vec![], 0));
}

#[tokio::test]
async fn a_declined_meeting_counts_for_nobody() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bea) = (&m.people[0], &m.people[1]);
    let id = app.meet(ada, bea, &m.event_id).await;

    let body = app.respond(bea, &id, false).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "DECLINED",
        "{body}"
    );
    assert_eq!(app.verification(ada).await, level(0, "EMAIL"));
    assert_eq!(app.verification(bea).await, level(0, "EMAIL"));
    assert_eq!(pending_of(&app, bea).await, (vec![], 0));

    let body = app.respond(bea, &id, false).await;
    assert_eq!(
        body["data"]["respondToMeeting"]["status"], "DECLINED",
        "{body}"
    );
    let body = app.respond(bea, &id, true).await;
    assert_eq!(
        error_code(&body),
        "CONFLICT",
        "no changing one's mind: {body}"
    );
    assert_eq!(app.verification(ada).await, level(0, "EMAIL"));
    assert_eq!(app.verification(bea).await, level(0, "EMAIL"));
}

#[tokio::test]
async fn withdrawing_takes_back_every_meeting_with_that_person_at_once() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let ev = m.event_id.as_str();
    let other = m.second_event(&app, &[ada, bea]).await;

    let here = app.meet_and_accept(ada, bea, ev).await;
    let there = app.meet_and_accept(bea, ada, &other).await;
    app.meet_and_accept(cid, ada, ev).await;
    let pending = app.meet(bea, cid, ev).await;
    assert_eq!(app.verification(ada).await, level(2, "IN_PERSON"));
    assert_eq!(app.verification(bea).await, level(1, "IN_PERSON"));
    assert_eq!(app.verification(cid).await, level(1, "IN_PERSON"));

    // Bea takes back both of her meetings with Ada, whoever scanned.
    let body = withdraw(&app, bea, &ada.id).await;
    // The answer lists what was withdrawn, for the app's cache.
    assert_eq!(
        body["data"]["withdrawMeeting"],
        json!([{ "id": here, "status": "WITHDRAWN" }, { "id": there, "status": "WITHDRAWN" }]),
        "{body}"
    );
    assert_eq!(app.verification(ada).await, level(1, "IN_PERSON"));
    assert_eq!(app.verification(bea).await, level(0, "EMAIL"));
    assert_eq!(app.verification(cid).await, level(1, "IN_PERSON"));
    for id in [&here, &there] {
        let seen = confirmation_seen_by(&app, Some(ada), id).await;
        assert_eq!(seen["status"], "WITHDRAWN", "{seen}");
    }
    // Withdrawn still counts as the pair's confirmation at that event.
    let made = app.meeting_token(bea, ev).await;
    let body = app.confirm_token(ada, &made.token).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // A pending one is withdrawn too, and can no longer be answered.
    assert_eq!(pending_of(&app, cid).await, (vec![pending.clone()], 1));
    let body = withdraw(&app, cid, &bea.id).await;
    assert_eq!(
        body["data"]["withdrawMeeting"],
        json!([{ "id": pending, "status": "WITHDRAWN" }]),
        "{body}"
    );
    assert_eq!(pending_of(&app, cid).await, (vec![], 0));
    let body = app.respond(cid, &pending, true).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(app.verification(cid).await, level(1, "IN_PERSON"));

    let body = withdraw(&app, ada, &unknown_id("User")).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

// ---- Levels ----

#[tokio::test]
async fn in_person_needs_both_checked_in_by_a_host_and_an_email() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let bea = app
        .new_member_of(&m.group_id, "bea@example.com", "Bea", Address::Verified)
        .await;
    let dan = app.member_of(&m.group_id, "dan@example.com").await;
    app.going(&bea, &m.event_id).await;
    app.going(&dan, &m.event_id).await;
    app.self_checks_in(&bea, &m.event_id).await;
    app.host_checks_in(&m.organiser, &m.event_id, &dan).await;
    assert_eq!(app.verification(&dan).await, level(0, "UNVERIFIED"));

    // Bea checked herself in: the meeting counts, the level does not move.
    app.meet_and_accept(ada, &bea, &m.event_id).await;
    assert_eq!(app.verification(ada).await, level(1, "EMAIL"));
    assert_eq!(app.verification(&bea).await, level(1, "EMAIL"));

    // Dan was checked in by a host but never verified his email.
    app.meet_and_accept(&dan, ada, &m.event_id).await;
    assert_eq!(app.verification(ada).await, level(2, "IN_PERSON"));
    assert_eq!(app.verification(&dan).await, level(1, "UNVERIFIED"));
    assert_eq!(app.verification(&bea).await, level(1, "EMAIL"));
}

#[tokio::test]
async fn a_host_check_in_upgrades_a_self_check_in() {
    let app = spawn_app().await;
    let m = meetup(&app, 1).await;
    let ada = &m.people[0];
    let bea = app
        .new_member_of(&m.group_id, "bea@example.com", "Bea", Address::Verified)
        .await;
    app.going(&bea, &m.event_id).await;
    app.self_checks_in(&bea, &m.event_id).await;
    app.host_checks_in(&m.organiser, &m.event_id, &bea).await;
    assert_eq!(
        viewer_rsvp(&app, &bea, &m.event_id).await["checkedIn"],
        true
    );

    // And the reverse changes nothing: Ada, checked in by the host, checks herself in too.
    app.self_checks_in(ada, &m.event_id).await;

    app.meet_and_accept(ada, &bea, &m.event_id).await;
    assert_eq!(app.verification(ada).await, level(1, "IN_PERSON"));
    assert_eq!(app.verification(&bea).await, level(1, "IN_PERSON"));
}

#[tokio::test]
async fn hosts_check_in_until_two_hours_after_the_end_members_until_the_end() {
    let app = spawn_app().await;
    let m = meetup(&app, 0).await;
    let ev = m.event_id.as_str();
    let mut members = Vec::new();
    for name in ["ada", "bea", "cid"] {
        let member = app
            .new_member_of(
                &m.group_id,
                &format!("{name}@example.com"),
                name,
                Address::Verified,
            )
            .await;
        app.going(&member, ev).await;
        members.push(member);
    }
    let (ada, bea, cid) = (&members[0], &members[1], &members[2]);
    let now = Utc::now();

    // It ended an hour ago: members can no longer check themselves in, hosts still can.
    move_event(&app, ev, now - Duration::hours(3), now - Duration::hours(1)).await;
    let body = app.check_in(Some(ada), ev, None, Some(NEAR_VENUE)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    app.host_checks_in(&m.organiser, ev, ada).await;

    // Three hours ago: no one.
    move_event(&app, ev, now - Duration::hours(5), now - Duration::hours(3)).await;
    let body = app.check_in(Some(&m.organiser), ev, Some(bea), None).await;
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
    app.host_checks_in(&m.organiser, ev, bea).await;
    app.self_checks_in(cid, ev).await;
}

/// Fresh accounts confirm one another at an event of their own making: they reach
/// IN_PERSON, which says they met, and never TRUSTED, which needs a chain from
/// established organisers.
#[tokio::test]
async fn a_ring_of_fresh_accounts_reaches_in_person_and_no_further() {
    let app = spawn_app().await;
    let m = meetup(&app, 4).await;
    app.going(&m.organiser, &m.event_id).await;
    // No host checks themselves in: a co-organiser checks the organiser in.
    app.give_role(&m.organiser, &m.group_id, &m.people[0], "CO_ORGANIZER")
        .await;
    app.host_checks_in(&m.people[0], &m.event_id, &m.organiser)
        .await;
    let ring: Vec<&Member> = std::iter::once(&m.organiser).chain(&m.people).collect();
    for i in 0..ring.len() {
        for j in i + 1..ring.len() {
            app.meet_and_accept(ring[i], ring[j], &m.event_id).await;
        }
    }
    for member in &ring {
        assert_eq!(
            app.verification(member).await,
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
    let id = app.meet(ada, bea, &m.event_id).await;

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

    let body = app.respond(bea, &id, true).await;
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
    assert_eq!(app.verification(ada).await, level(1, "IN_PERSON"));
    assert_eq!(app.verification(bea).await, level(1, "IN_PERSON"));
}

#[tokio::test]
async fn pending_confirmations_come_newest_first() {
    let app = spawn_app().await;
    let m = meetup(&app, 3).await;
    let (ada, bea, cid) = (&m.people[0], &m.people[1], &m.people[2]);
    let older = app.meet(ada, cid, &m.event_id).await;
    let newer = app.meet(bea, cid, &m.event_id).await;
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
        members.push(
            app.member_of(&m.group_id, &format!("{name}@example.com"))
                .await,
        );
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
        app.going(member, ev).await;
    }
    let no = app.answer(nay, ev, "NO").await;
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
    let right = app.meeting_token(ada, &m.event_id).await.code;
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
    let id = app.meet(bob, ada, &m.event_id).await;
    let withdraw = app.graphql(
        Some(&bob.access_token),
        "mutation($u: ID!) { withdrawMeeting(input: { userId: $u }) { id status } }",
        json!({ "u": ada.id }),
    );
    let (accepted, withdrawn) = tokio::join!(app.respond(ada, &id, true), withdraw);
    assert_eq!(
        withdrawn["data"]["withdrawMeeting"],
        json!([{ "id": id, "status": "WITHDRAWN" }]),
        "{withdrawn}"
    );
    let seen = confirmation_seen_by(&app, Some(ada), &id).await;
    // Whichever came first, the withdrawal stands: the meeting counts for no one.
    assert_eq!(seen["status"], "WITHDRAWN", "{seen} after {accepted}");
    assert_eq!(app.verification(ada).await.0, 0);
    assert_eq!(app.verification(bob).await.0, 0);
}

#[tokio::test]
async fn who_says_no_after_checking_in_is_no_longer_checked_in() {
    let app = spawn_app().await;
    let m = meetup(&app, 2).await;
    let (ada, bob) = (&m.people[0], &m.people[1]);
    let token = app.meeting_token(ada, &m.event_id).await;
    app.answer(ada, &m.event_id, "NO").await;
    let body = app.confirm_token(bob, &token.token).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.create_token(ada, &m.event_id).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // Coming back means checking in again.
    app.going(ada, &m.event_id).await;
    let rsvp = viewer_rsvp(&app, ada, &m.event_id).await;
    assert_eq!(rsvp["checkedIn"], false, "{rsvp}");
}
