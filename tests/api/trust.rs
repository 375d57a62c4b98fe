//! TRUSTED through HTTP and the command line: an organiser whose group has a real history
//! is a seed; a meeting with them makes a member TRUSTED; a ban undoes it. (The flow itself
//! is tested on graphs in `domain::trust`.)

use chrono::{Duration, Utc};
use entity::{event, rsvp, user};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

/// Gives the group a history as seeds need it: three past events over four weeks with
/// twelve members a host checked in.
async fn give_history(app: &TestApp, group_id: Uuid, organiser: Uuid) {
    let db = &app.state.db;
    let now = Utc::now();
    let mut attendees = Vec::new();
    for i in 0..12 {
        let row = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(format!("regular{i}@example.com")),
            email_verified_at: Set(Some(now)),
            password_hash: Set("not a hash: never logs in".into()),
            display_name: Set(format!("Regular {i}")),
            bio: Set(None),
            home_lat: Set(None),
            home_lng: Set(None),
            time_zone: Set(None),
            calendar_token: Set(None),
            created_at: Set(now - Duration::days(60)),
            updated_at: Set(now),
            banned_at: Set(None),
            trusted: Set(false),
            locale: Set(None),
            avatar_image_id: Set(None),
        }
        .insert(db)
        .await
        .unwrap();
        attendees.push(row.id);
    }
    for weeks_ago in [5, 3, 1] {
        let starts = now - Duration::weeks(weeks_ago);
        let past = event::ActiveModel {
            id: Set(Uuid::now_v7()),
            group_id: Set(group_id),
            series_id: Set(None),
            title: Set(format!("Meet-up {weeks_ago} weeks ago")),
            description: Set(String::new()),
            starts_at: Set(starts),
            ends_at: Set(starts + Duration::hours(2)),
            time_zone: Set("Europe/Berlin".into()),
            venue_name: Set(Some("Hall".into())),
            venue_address: Set(Some("Street 1".into())),
            venue_lat: Set(Some(52.52)),
            venue_lng: Set(Some(13.405)),
            venue_cell: Set(None),
            online_url: Set(None),
            place_cell: Set(None),
            place_lat: Set(Some(52.52)),
            place_lng: Set(Some(13.405)),
            capacity: Set(None),
            status: Set(entity::event::EventStatus::Scheduled),
            cancel_reason: Set(None),
            going_count: Set(12),
            waitlist_count: Set(0),
            waitlist_seq: Set(0),
            sequence: Set(0),
            created_by: Set(organiser),
            created_at: Set(starts - Duration::days(7)),
            updated_at: Set(starts),
            photo_image_id: Set(None),
            rsvp_closes_at: Set(None),
            guest_limit: Set(0),
        }
        .insert(db)
        .await
        .unwrap();
        for user_id in &attendees {
            rsvp::ActiveModel {
                id: Set(Uuid::now_v7()),
                event_id: Set(past.id),
                user_id: Set(*user_id),
                status: Set(entity::rsvp::RsvpStatus::Going),
                waitlist_seq: Set(None),
                checked_in: Set(true),
                check_in_method: Set(Some(entity::rsvp::CheckInMethod::Host)),
                checked_in_at: Set(Some(starts)),
                guests: Set(0),
                created_at: Set(starts - Duration::days(3)),
                updated_at: Set(starts),
            }
            .insert(db)
            .await
            .unwrap();
        }
    }
}

/// What the background loop does every minute, now.
async fn recompute_now(app: &TestApp) {
    kith::domain::verification::recompute_trust(
        &app.state.db,
        Utc::now(),
        kith::domain::verification::When::Now,
    )
    .await
    .unwrap();
}

/// Runs `kith` with this app's database; returns (success, standard output).
fn kith(app: &TestApp, args: &[&str]) -> (bool, String) {
    let output = kith_command()
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn meeting_an_established_organiser_makes_a_member_trusted_until_a_ban() {
    let app = spawn_app().await;
    let org = app.verified_member("org@example.com", "Olga").await;
    let group = app
        .create_group(&org, group_input("Berlin Walkers", 52.52, 13.405))
        .await;
    let group_id = group.id.clone();
    let bea = app.member_of(&group_id, "bea@example.com").await;
    app.verify_email(&bea).await;

    // An event in ten minutes; the organiser checks both in and they confirm meeting.
    let event_id = app
        .create_event(&org, starting_soon(&group_id, json!({})))
        .await
        .id;
    app.give_role(&org, &group_id, &bea, "CO_ORGANIZER").await;
    for member in [&org, &bea] {
        app.going(member, &event_id).await;
    }
    app.hosts_check_in(&org, &bea, &event_id, &[&org, &bea])
        .await;
    app.meet_and_accept(&org, &bea, &event_id).await;

    // The group has no history yet: in person, not trusted.
    assert_eq!(app.verification(&org).await, level(1, "IN_PERSON"));
    assert_eq!(app.verification(&bea).await, level(1, "IN_PERSON"));

    // Once it has one, the hourly recomputation makes the organiser a seed.
    give_history(&app, uuid_of(&group_id), uuid_of(&org.id)).await;
    recompute_now(&app).await;
    assert_eq!(app.verification(&org).await, level(1, "TRUSTED"));
    assert_eq!(app.verification(&bea).await, level(1, "TRUSTED"));

    // A report reaches the moderators' list; a ban voids Bea's meetings.
    let reported = app
        .graphql(
            Some(&org.access_token),
            "mutation($u: ID!, $e: ID!) { reportUser(input: { userId: $u, reason: \"Asked for my bank details\", eventId: $e }) }",
            json!({ "u": bea.id, "e": event_id }),
        )
        .await;
    assert_eq!(reported["data"]["reportUser"], true, "{reported}");
    let (ok, listed) = kith(&app, &["reports"]);
    assert!(ok, "{listed}");
    assert!(listed.contains("1 open report"), "{listed}");
    assert!(listed.contains("Asked for my bank details"), "{listed}");
    assert!(listed.contains(&bea.id), "{listed}");

    let (ok, out) = kith(&app, &["ban", &bea.id]);
    assert!(ok, "{out}");
    let (_, listed) = kith(&app, &["reports"]);
    assert!(listed.contains("0 open report"), "{listed}");
    assert_eq!(
        app.verification(&bea).await,
        level(0, "EMAIL"),
        "her meeting was with no one who counts now"
    );
    assert_eq!(
        app.verification(&org).await,
        level(0, "EMAIL"),
        "a banned member's meeting counts for no one"
    );
    let (ok, _) = kith(&app, &["ban", "not-an-id"]);
    assert!(!ok);
}

#[tokio::test]
async fn a_ring_of_fresh_accounts_cannot_fake_a_history_or_reach_trusted() {
    let app = spawn_app().await;
    // An honest seed exists: without one, no one could be TRUSTED and this would prove nothing.
    let org = app.verified_member("org@example.com", "Olga").await;
    let honest = app
        .create_group(&org, group_input("Berlin Walkers", 52.52, 13.405))
        .await;
    give_history(&app, uuid_of(&honest.id), uuid_of(&org.id)).await;
    let seeds = kith::domain::verification::seeds(&app.state.db, Utc::now())
        .await
        .unwrap();
    assert_eq!(seeds, vec![uuid_of(&org.id)]);

    // The ring: a fresh organiser and five fresh accounts with verified addresses.
    let boss = app.verified_member("boss@example.com", "Boss").await;
    let group = app
        .create_group(&boss, group_input("Totally Real Club", 52.5, 13.4))
        .await;
    let group_id = group.id.clone();
    let mut ring = vec![boss.clone()];
    for i in 0..5 {
        let puppet = app
            .verified_member(&format!("puppet{i}@example.com"), &format!("Puppet {i}"))
            .await;
        app.joins_open_group(&puppet, &group_id).await;
        ring.push(puppet);
    }
    let event_id = app
        .create_event(&boss, starting_soon(&group_id, json!({})))
        .await
        .id;

    // Events cannot be moved into the past to make up a history.
    let weeks_ago = Utc::now() - Duration::weeks(3);
    let moved = app
        .graphql(
            Some(&boss.access_token),
            "mutation($input: UpdateEventInput!) { updateEvent(input: $input) { id } }",
            json!({ "input": { "eventId": event_id, "startsAt": weeks_ago.to_rfc3339(), "endsAt": (weeks_ago + Duration::hours(2)).to_rfc3339() } }),
        )
        .await;
    assert_eq!(error_code(&moved), "BAD_USER_INPUT", "{moved}");
    assert_eq!(error_field(&moved), "input.startsAt", "{moved}");

    // They check each other in as hosts and all confirm all.
    app.give_role(&boss, &group_id, &ring[1], "CO_ORGANIZER")
        .await;
    for member in &ring {
        app.going(member, &event_id).await;
    }
    let everyone: Vec<&Member> = ring.iter().collect();
    app.hosts_check_in(&boss, &ring[1], &event_id, &everyone)
        .await;
    for (i, a) in ring.iter().enumerate() {
        for b in &ring[i + 1..] {
            app.meet_and_accept(a, b, &event_id).await;
        }
    }
    recompute_now(&app).await;
    for member in &ring {
        assert_eq!(app.verification(member).await, level(5, "IN_PERSON"));
    }

    // Once the event has started, its times stay.
    let started = Utc::now() - Duration::minutes(1);
    let mut row: event::ActiveModel = kith::domain::events::find(&app.state.db, uuid_of(&event_id))
        .await
        .unwrap()
        .unwrap()
        .into();
    row.starts_at = Set(started);
    row.update(&app.state.db).await.unwrap();
    let later = Utc::now() + Duration::days(1);
    let moved = app
        .graphql(
            Some(&boss.access_token),
            "mutation($input: UpdateEventInput!) { updateEvent(input: $input) { id } }",
            json!({ "input": { "eventId": event_id, "startsAt": later.to_rfc3339(), "endsAt": (later + Duration::hours(2)).to_rfc3339() } }),
        )
        .await;
    assert_eq!(error_code(&moved), "CONFLICT", "{moved}");
}

#[tokio::test]
async fn the_minute_tick_recomputes_only_when_the_graph_changed_and_only_in_one_process() {
    use kith::domain::verification::{LastInputs, TRUST_LOCK, TrustRun, When, recompute_trust};
    // Without the app's own loop, whose tick could recompute (or hold the lock) between this
    // test's steps and leave its calls nothing to change.
    let app = spawn_app_with(&[("KITH_BACKGROUND_JOBS", "off")]).await;
    let db = &app.state.db;
    let org = app.verified_member("org@example.com", "Olga").await;
    let group = app
        .create_group(&org, group_input("Berlin Walkers", 52.52, 13.405))
        .await;
    give_history(&app, uuid_of(&group.id), uuid_of(&org.id)).await;
    let bea = app.member_of(&group.id, "bea@example.com").await;
    app.verify_email(&bea).await;

    let mut last = LastInputs::default();
    let first = recompute_trust(db, Utc::now(), When::IfChanged(&mut last))
        .await
        .unwrap();
    assert_eq!(
        first,
        TrustRun::Computed {
            trusted: 1,
            changed: 1
        }
    );
    let again = recompute_trust(db, Utc::now(), When::IfChanged(&mut last))
        .await
        .unwrap();
    assert_eq!(again, TrustRun::Unchanged, "nothing changed in between");

    // A confirmed meeting with the seed changes the graph: the next tick sees it.
    let event_id = app
        .create_event(&org, starting_soon(&group.id, json!({})))
        .await
        .id;
    app.give_role(&org, &group.id, &bea, "CO_ORGANIZER").await;
    for member in [&org, &bea] {
        app.going(member, &event_id).await;
    }
    app.hosts_check_in(&org, &bea, &event_id, &[&org, &bea])
        .await;
    app.meet_and_accept(&org, &bea, &event_id).await;
    let after_meeting = recompute_trust(db, Utc::now(), When::IfChanged(&mut last))
        .await
        .unwrap();
    assert_eq!(
        after_meeting,
        TrustRun::Computed {
            trusted: 2,
            changed: 1
        }
    );
    assert_eq!(app.verification(&bea).await, level(1, "TRUSTED"));

    // On PostgreSQL, while another process holds the lock, a tick skips instead of waiting.
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let other = sea_orm::Database::connect(&app.database_url).await.unwrap();
        let holding = other.begin().await.unwrap();
        holding
            .execute_unprepared(&format!("SELECT pg_advisory_xact_lock({TRUST_LOCK})"))
            .await
            .unwrap();
        let mut fresh = LastInputs::default();
        let busy = recompute_trust(db, Utc::now(), When::IfChanged(&mut fresh))
            .await
            .unwrap();
        assert_eq!(busy, TrustRun::Busy);
        holding.rollback().await.unwrap();
        let free = recompute_trust(db, Utc::now(), When::IfChanged(&mut fresh))
            .await
            .unwrap();
        assert_eq!(
            free,
            TrustRun::Computed {
                trusted: 2,
                changed: 0
            }
        );
    }
}
