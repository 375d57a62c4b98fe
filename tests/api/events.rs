//! Events and RSVPs: who may create and change them, their rules, and a capacity that
//! holds however many answer at once.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

const EVENT: &str = "query($id: ID!) { event(id: $id) { id status goingCount waitlistCount capacity viewerRsvp { status waitlistPosition } } }";

#[tokio::test]
async fn organisers_and_event_hosts_create_events_and_host_them() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({ "timeZone": null })).await;
    assert_eq!(ids(&event.hosts), [ann.id.as_str()]);
    assert_eq!(event.status, "SCHEDULED");
    assert_eq!(
        event.time_zone, "Europe/Berlin",
        "the group's zone when absent"
    );
    assert_eq!(event.venue.unwrap().name, "c-base");

    let bob = app.member_of(&group_id, "bob@example.com").await;
    let body = app
        .graphql(
            Some(&bob.access_token),
            CREATE_EVENT,
            json!({ "input": event_input(&group_id, json!({})) }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    app.give_role(&ann, &group_id, &bob, "EVENT_HOST").await;
    let body = app
        .graphql(Some(&bob.access_token), CREATE_EVENT, json!({ "input": event_input(&group_id, json!({ "venue": null, "onlineUrl": "https://meet.example/x" })) }))
        .await;
    assert_eq!(
        body["data"]["createEvent"]["hosts"][0]["id"],
        bob.id.as_str(),
        "{body}"
    );
    assert!(body["data"]["createEvent"]["venue"].is_null());
}

#[tokio::test]
async fn each_broken_rule_of_create_event_names_its_field() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({})).await;
    let now = Utc::now();
    let cases = [
        (json!({ "title": "ab" }), "input.title"),
        (json!({ "title": "x".repeat(121) }), "input.title"),
        (
            json!({ "description": "d".repeat(20_001) }),
            "input.description",
        ),
        (
            json!({ "startsAt": (now - Duration::hours(1)).to_rfc3339(), "endsAt": (now + Duration::hours(1)).to_rfc3339() }),
            "input.startsAt",
        ),
        (
            json!({ "startsAt": (now + Duration::days(2)).to_rfc3339(), "endsAt": (now + Duration::days(1)).to_rfc3339() }),
            "input.endsAt",
        ),
        (
            json!({ "startsAt": (now + Duration::days(2)).to_rfc3339(), "endsAt": (now + Duration::days(17)).to_rfc3339() }),
            "input.endsAt",
        ),
        (json!({ "capacity": 0 }), "input.capacity"),
        (json!({ "timeZone": "Mars/Base" }), "input.timeZone"),
        (json!({ "venue": null }), "input.venue"),
        (
            json!({ "venue": { "name": "X", "location": { "lat": 95.0, "lng": 0.0 } } }),
            "input.venue.location.lat",
        ),
        (json!({ "onlineUrl": "not a url" }), "input.onlineUrl"),
    ];
    for (changes, field) in cases {
        let body = app
            .graphql(
                Some(&ann.access_token),
                CREATE_EVENT,
                json!({ "input": event_input(&group_id, changes) }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
}

#[tokio::test]
async fn yes_is_going_until_full_then_the_waitlist_moves_up_in_order() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({ "capacity": 2 })).await;
    let id = event.id.as_str();
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(app.member_of(&group_id, &format!("m{i}@example.com")).await);
    }
    let statuses: Vec<Value> = {
        let mut out = Vec::new();
        for m in &members {
            let body = app.answer(m, id, "YES").await;
            out.push(body["data"]["rsvp"].clone());
        }
        out
    };
    assert_eq!(statuses[0]["status"], "GOING");
    assert_eq!(statuses[1]["status"], "GOING");
    assert_eq!(statuses[2]["status"], "WAITLISTED");
    assert_eq!(statuses[2]["waitlistPosition"], 1);
    assert_eq!(statuses[3]["waitlistPosition"], 2);
    assert_eq!(statuses[3]["event"]["goingCount"], 2);
    assert_eq!(statuses[3]["event"]["waitlistCount"], 2);

    // Repeating an answer changes nothing.
    let again = app.answer(&members[2], id, "YES").await;
    assert_eq!(again["data"]["rsvp"]["status"], "WAITLISTED");
    assert_eq!(again["data"]["rsvp"]["waitlistPosition"], 1);

    // A place frees: the first in the queue gets it at once, the second moves up.
    let no = app.answer(&members[0], id, "NO").await;
    assert_eq!(no["data"]["rsvp"]["status"], "NOT_GOING", "{no}");
    let third = app
        .graphql(Some(&members[2].access_token), EVENT, json!({ "id": id }))
        .await;
    assert_eq!(
        third["data"]["event"]["viewerRsvp"]["status"], "GOING",
        "{third}"
    );
    let fourth = app
        .graphql(Some(&members[3].access_token), EVENT, json!({ "id": id }))
        .await;
    assert_eq!(
        fourth["data"]["event"]["viewerRsvp"]["waitlistPosition"], 1,
        "{fourth}"
    );
    assert_eq!(fourth["data"]["event"]["goingCount"], 2);
    assert_eq!(fourth["data"]["event"]["waitlistCount"], 1);

    // Raising the capacity promotes in order; lowering it below those going is refused.
    let low = app
        .graphql(
            Some(&ann.access_token),
            UPDATE_EVENT,
            json!({ "input": { "eventId": id, "capacity": 1 } }),
        )
        .await;
    assert_eq!(error_code(&low), "BAD_USER_INPUT", "{low}");
    assert_eq!(error_field(&low), "input.capacity");
    let raised = app
        .graphql(
            Some(&ann.access_token),
            UPDATE_EVENT,
            json!({ "input": { "eventId": id, "capacity": 5 } }),
        )
        .await;
    assert_eq!(raised["data"]["updateEvent"]["goingCount"], 3, "{raised}");
    assert_eq!(raised["data"]["updateEvent"]["waitlistCount"], 0);
}

#[tokio::test]
async fn only_active_members_answer_and_never_to_a_cancelled_event() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let id = event.id.as_str();
    let outsider = app.sign_up("out@example.com", "Out").await;
    let body = app.answer(&outsider, id, "YES").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let signed_out = app
        .graphql(None, RSVP, json!({ "id": id, "r": "YES" }))
        .await;
    assert_eq!(error_code(&signed_out), "UNAUTHENTICATED");

    let bob = app.member_of(&group_id, "bob@example.com").await;
    let cannot = app
        .graphql(
            Some(&bob.access_token),
            CANCEL_EVENT,
            json!({ "input": { "eventId": id } }),
        )
        .await;
    assert_eq!(error_code(&cannot), "FORBIDDEN", "{cannot}");
    let cancelled = app
        .graphql(
            Some(&ann.access_token),
            CANCEL_EVENT,
            json!({ "input": { "eventId": id, "reason": "Venue flooded" } }),
        )
        .await;
    assert_eq!(
        cancelled["data"]["cancelEvent"]["status"], "CANCELLED",
        "{cancelled}"
    );
    assert_eq!(
        cancelled["data"]["cancelEvent"]["cancelReason"],
        "Venue flooded"
    );
    let body = app.answer(&bob, id, "YES").await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    // Nothing was deleted: the event is still there.
    let still = app.graphql(None, EVENT, json!({ "id": id })).await;
    assert_eq!(still["data"]["event"]["status"], "CANCELLED");
}

#[tokio::test]
async fn the_attendee_list_is_for_members() {
    let app = spawn_app().await;
    let (ann, _, event) = app.organiser_with_event(json!({})).await;
    let id = event.id.as_str();
    app.answer(&ann, id, "YES").await;
    let query = "query($id: ID!) { event(id: $id) { attendees { nodes { user { id } status } } } }";
    let body = app
        .graphql(Some(&ann.access_token), query, json!({ "id": id }))
        .await;
    assert_eq!(
        body["data"]["event"]["attendees"]["nodes"][0]["user"]["id"],
        ann.id.as_str(),
        "{body}"
    );
    let outsider = app.sign_up("out@example.com", "Out").await;
    let body = app
        .graphql(Some(&outsider.access_token), query, json!({ "id": id }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

/// How each member sees the event, asked all at once.
async fn views_of(app: &TestApp, members: &[Member], id: &str) -> Vec<Value> {
    futures::future::join_all(
        members
            .iter()
            .map(|m| app.graphql(Some(&m.access_token), EVENT, json!({ "id": id }))),
    )
    .await
}

/// 100 members answer YES at the same moment for 10 places, then 10 of those going say NO
/// at the same moment: capacity holds throughout and the queue has no gap or repeat.
#[tokio::test]
async fn a_storm_of_answers_never_overbooks() {
    let app = spawn_app().await;
    let (_, group_id, event) = app.organiser_with_event(json!({ "capacity": 10 })).await;
    let id = event.id.clone();
    let mut members = Vec::new();
    for i in 0..100 {
        members.push(
            app.member_of(&group_id, &format!("storm{i}@example.com"))
                .await,
        );
    }
    let answers =
        futures::future::join_all(members.iter().map(|m| app.answer(m, &id, "YES"))).await;
    let going: Vec<usize> = (0..100)
        .filter(|&i| answers[i]["data"]["rsvp"]["status"] == "GOING")
        .collect();
    assert_eq!(going.len(), 10, "{answers:?}");
    let views = views_of(&app, &members, &id).await;
    let queue: Vec<u64> = views
        .iter()
        .filter_map(|v| v["data"]["event"]["viewerRsvp"]["waitlistPosition"].as_u64())
        .collect();
    assert_eq!(
        queue.iter().copied().collect::<BTreeSet<_>>(),
        (1..=90).collect(),
        "{queue:?}"
    );
    assert_eq!(queue.len(), 90);

    // Ten of those going say NO at once: ten from the queue move up, in queue order.
    let first_in_queue: BTreeSet<String> = views
        .iter()
        .zip(&members)
        .filter(|(v, _)| {
            v["data"]["event"]["viewerRsvp"]["waitlistPosition"]
                .as_u64()
                .is_some_and(|p| p <= 10)
        })
        .map(|(_, m)| m.id.clone())
        .collect();
    let leaving: Vec<&Member> = going.iter().map(|&i| &members[i]).collect();
    let noes = futures::future::join_all(leaving.iter().map(|m| app.answer(m, &id, "NO"))).await;
    assert!(
        noes.iter()
            .all(|n| n["data"]["rsvp"]["status"] == "NOT_GOING"),
        "{noes:?}"
    );
    let after = views_of(&app, &members, &id).await;
    let now_going: BTreeSet<String> = after
        .iter()
        .zip(&members)
        .filter(|(v, _)| v["data"]["event"]["viewerRsvp"]["status"] == "GOING")
        .map(|(_, m)| m.id.clone())
        .collect();
    assert_eq!(now_going, first_in_queue);
    let queue: Vec<u64> = after
        .iter()
        .filter_map(|v| v["data"]["event"]["viewerRsvp"]["waitlistPosition"].as_u64())
        .collect();
    assert_eq!(
        queue.iter().copied().collect::<BTreeSet<_>>(),
        (1..=80).collect()
    );
    assert_eq!(after[0]["data"]["event"]["goingCount"], 10);
    assert_eq!(after[0]["data"]["event"]["waitlistCount"], 80);
}

#[tokio::test]
async fn upcoming_lists_come_soonest_first() {
    let app = spawn_app().await;
    let (ann, group_id, first) = app.organiser_with_event(json!({})).await;
    let soon = Utc::now() + Duration::days(1);
    let later = Utc::now() + Duration::days(30);
    let mut ids = vec![first.id];
    for starts in [later, soon] {
        let event = app
            .create_event(
                &ann,
                event_input(&group_id, json!({ "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339() })),
            )
            .await;
        ids.push(event.id);
    }
    // Soonest first: +1 day, +7 days, +30 days.
    let expected = vec![ids[2].clone(), ids[0].clone(), ids[1].clone()];
    let query = "query($g: ID!, $after: String) { group(id: $g) { upcomingEvents(first: 1, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }";
    let (mut seen, mut after) = (Vec::new(), Value::Null);
    loop {
        let body = app
            .graphql(None, query, json!({ "g": group_id, "after": after }))
            .await;
        let page = &body["data"]["group"]["upcomingEvents"];
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
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, expected);

    // The viewer's list holds what they are GOING or WAITLISTED to, and nothing else.
    app.answer(&ann, &ids[1], "YES").await;
    app.answer(&ann, &ids[2], "YES").await;
    app.answer(&ann, &ids[0], "NO").await;
    let mine = app
        .graphql(
            Some(&ann.access_token),
            "{ viewer { upcomingEvents { nodes { id } } } }",
            json!({}),
        )
        .await;
    let mine: Vec<&str> = mine["data"]["viewer"]["upcomingEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(mine, vec![ids[2].as_str(), ids[1].as_str()]);
}

const SEARCH_EVENTS: &str = "query($f: EventSearchInput!, $after: String) { searchEvents(filter: $f, first: 1, after: $after) { edges { distanceKm node { id title } } pageInfo { hasNextPage endCursor } } }";

/// Besides the group's event in five days, Soonish near: one online in two days, one in
/// Munich in three, one in four days that is cancelled, and one in sixty.
async fn events_online_far_cancelled_and_later(app: &TestApp, ann: &Member, group_id: &str) {
    let create = |changes: Value| {
        let input = event_input(group_id, changes);
        async move { app.create_event(ann, input).await.id }
    };
    let at = |days: i64| {
        let s = Utc::now() + Duration::days(days);
        json!({ "startsAt": s.to_rfc3339(), "endsAt": (s + Duration::hours(2)).to_rfc3339() })
    };
    let merge = |mut a: Value, b: Value| {
        for (k, v) in b.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    create(merge(
        at(2),
        json!({ "title": "Online first", "venue": null, "onlineUrl": "https://meet.example/a" }),
    ))
    .await;
    create(merge(at(3), json!({ "title": "Far away", "venue": { "name": "Munich hall", "location": { "lat": 48.1351, "lng": 11.5820 } } }))).await;
    let cancelled = create(merge(at(4), json!({ "title": "Called off" }))).await;
    create(merge(at(60), json!({ "title": "Much later" }))).await;
    app.graphql(
        Some(&ann.access_token),
        CANCEL_EVENT,
        json!({ "input": { "eventId": cancelled } }),
    )
    .await;
}

/// The titles and distances of a search, paged through one by one.
async fn found_one_by_one(app: &TestApp, filter: &Value) -> (Vec<String>, Vec<Value>) {
    let (mut titles, mut distances, mut after) = (Vec::new(), Vec::new(), Value::Null);
    loop {
        let body = app
            .graphql(None, SEARCH_EVENTS, json!({ "f": filter, "after": after }))
            .await;
        let page = &body["data"]["searchEvents"];
        for edge in page["edges"].as_array().unwrap_or_else(|| panic!("{body}")) {
            titles.push(edge["node"]["title"].as_str().unwrap().to_owned());
            distances.push(edge["distanceKm"].clone());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    (titles, distances)
}

#[tokio::test]
async fn search_events_finds_what_is_near_and_soon_without_cancelled_ones() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({ "title": "Soonish near", "startsAt": (Utc::now() + Duration::days(5)).to_rfc3339(), "endsAt": (Utc::now() + Duration::days(5) + Duration::hours(2)).to_rfc3339() })).await;
    events_online_far_cancelled_and_later(&app, &ann, &group_id).await;

    let filter = json!({ "near": { "lat": 52.52, "lng": 13.405 }, "radiusKm": 25 });
    let (titles, distances) = found_one_by_one(&app, &filter).await;
    assert_eq!(titles, vec!["Online first", "Soonish near", "Much later"]);
    assert!(
        distances[0].is_null(),
        "online-only events have no distance"
    );
    assert!(
        (distances[1].as_f64().unwrap() - 1.2).abs() < 0.5,
        "{distances:?}"
    );

    // The time window and the text.
    let windowed = json!({ "near": { "lat": 52.52, "lng": 13.405 }, "radiusKm": 25, "startsBefore": (Utc::now() + Duration::days(30)).to_rfc3339(), "query": "SOONISH" });
    let body = app
        .graphql(None, SEARCH_EVENTS, json!({ "f": windowed }))
        .await;
    assert_eq!(
        body["data"]["searchEvents"]["edges"][0]["node"]["title"], "Soonish near",
        "{body}"
    );
    assert_eq!(
        body["data"]["searchEvents"]["pageInfo"]["hasNextPage"],
        false
    );

    // From Munich, only the Munich event.
    let munich = json!({ "near": { "lat": 48.14, "lng": 11.58 }, "radiusKm": 10 });
    let body = app
        .graphql(None, SEARCH_EVENTS, json!({ "f": munich }))
        .await;
    assert_eq!(
        body["data"]["searchEvents"]["edges"][0]["node"]["title"], "Far away",
        "{body}"
    );

    let bad = json!({ "near": { "lat": 52.52, "lng": 13.405 }, "radiusKm": 0 });
    let body = app.graphql(None, SEARCH_EVENTS, json!({ "f": bad })).await;
    assert_eq!(error_field(&body), "filter.radiusKm", "{body}");
}

#[tokio::test]
async fn promotions_changes_and_cancellations_are_told_to_those_going() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app
        .organiser_with_event(json!({ "capacity": 1, "title": "Pottery Evening" }))
        .await;
    let id = event.id.as_str();
    let bo = app.member_of(&group_id, "bo@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    app.answer(&bo, id, "YES").await;
    app.answer(&cy, id, "YES").await;
    app.answer(&bo, id, "NO").await;

    let cys = app.notifications(&cy, false).await;
    assert_eq!(cys.len(), 1, "{cys:?}");
    assert_eq!(cys[0].kind, "WAITLIST_PROMOTED");
    assert_eq!(cys[0].event.as_ref().unwrap().id, id);
    assert!(app.mail_arrives("cy@example.com", "Pottery Evening").await);

    // A change refused as a whole tells nobody: nothing was committed.
    let later = Utc::now() + Duration::days(9);
    let refused = app
        .graphql(Some(&ann.access_token), UPDATE_EVENT, json!({ "input": { "eventId": id, "startsAt": later.to_rfc3339(), "endsAt": (later + Duration::hours(2)).to_rfc3339(), "capacity": 0 } }))
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(app.notifications(&cy, false).await.len(), 1);

    // A new title alone is no news; a new time is.
    app.graphql(
        Some(&ann.access_token),
        UPDATE_EVENT,
        json!({ "input": { "eventId": id, "title": "Pottery Night" } }),
    )
    .await;
    assert_eq!(app.notifications(&cy, false).await.len(), 1);
    let moved = app
        .graphql(Some(&ann.access_token), UPDATE_EVENT, json!({ "input": { "eventId": id, "startsAt": later.to_rfc3339(), "endsAt": (later + Duration::hours(2)).to_rfc3339() } }))
        .await;
    assert!(moved["data"]["updateEvent"]["id"].is_string(), "{moved}");
    let cys = app.notifications(&cy, false).await;
    assert_eq!(cys[0].kind, "EVENT_CHANGED", "newest first: {cys:?}");

    app.graphql(
        Some(&ann.access_token),
        CANCEL_EVENT,
        json!({ "input": { "eventId": id, "reason": "Kiln broke" } }),
    )
    .await;
    let cys = app.notifications(&cy, false).await;
    assert_eq!(cys[0].kind, "EVENT_CANCELLED", "{cys:?}");
    assert!(cys[0].message.contains("Kiln broke"));
    assert!(app.mail_arrives("cy@example.com", "Kiln broke").await);
    // Bo said no before any of it, and the organiser made the changes: neither is told.
    assert!(app.notifications(&bo, false).await.is_empty());
    assert!(app.notifications(&ann, false).await.is_empty());

    // Marking read.
    let first = cys[0].id.clone();
    let body = app
        .graphql(Some(&cy.access_token), MARK_READ, json!({ "ids": [first] }))
        .await;
    let viewer = &body["data"]["markNotificationsRead"];
    assert_eq!(viewer["id"], cy.id.as_str(), "{body}");
    assert_eq!(viewer["unreadNotificationCount"], 2, "{body}");
    let unread = app.notifications(&cy, true).await;
    assert_eq!(unread.len(), 2);
    assert!(unread.iter().all(|n| n.id != first));
    // Someone else's ids change nothing.
    let body = app
        .graphql(
            Some(&bo.access_token),
            MARK_READ,
            json!({ "ids": unread.iter().map(|n| n.id.clone()).collect::<Vec<_>>() }),
        )
        .await;
    assert_eq!(
        body["data"]["markNotificationsRead"]["id"],
        bo.id.as_str(),
        "{body}"
    );
    assert_eq!(app.notifications(&cy, true).await.len(), 2);
    // All at once: the badge goes to 0.
    let body = app
        .graphql(
            Some(&cy.access_token),
            "mutation { markAllNotificationsRead { unreadNotificationCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["markAllNotificationsRead"]["unreadNotificationCount"], 0,
        "{body}"
    );
    assert!(app.notifications(&cy, true).await.is_empty());
    assert_eq!(app.notifications(&cy, false).await.len(), 3);
}

/// GETs a URL the API gave, on this test's server, as (status, body).
async fn fetch(app: &TestApp, url: &str) -> (u16, String) {
    let path = url::Url::parse(url).unwrap().path().to_owned();
    let response = app.client.get(app.url(&path)).send().await.unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
    }
    (status, response.text().await.unwrap())
}

/// The properties of each VEVENT, unfolded (RFC 5545 §3.1).
fn vevents(ics: &str) -> Vec<std::collections::HashMap<String, String>> {
    let unfolded = ics.replace("\r\n ", "").replace("\r\n\t", "");
    let mut events = Vec::new();
    let mut current: Option<std::collections::HashMap<String, String>> = None;
    for line in unfolded.lines() {
        match line {
            "BEGIN:VEVENT" => current = Some(Default::default()),
            "END:VEVENT" => events.extend(current.take()),
            _ => {
                if let (Some(props), Some((key, value))) = (current.as_mut(), line.split_once(':'))
                {
                    let name = key.split(';').next().unwrap().to_owned();
                    props.insert(name, value.to_owned());
                }
            }
        }
    }
    events
}

/// Where a member finds an event in a calendar: the event's own file and their feed.
struct CalendarUrls {
    event_url: String,
    feed_url: String,
    /// When the event starts, to find it in the calendar.
    starts: DateTime<Utc>,
}

async fn calendar_urls(app: &TestApp, member: &Member, id: &str) -> CalendarUrls {
    let urls = app
        .graphql(Some(&member.access_token), "query($id: ID!) { event(id: $id) { calendarUrl startsAt } viewer { calendarFeedUrl } }", json!({ "id": id }))
        .await;
    let event_url = urls["data"]["event"]["calendarUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let feed_url = urls["data"]["viewer"]["calendarFeedUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let starts: DateTime<Utc> = urls["data"]["event"]["startsAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    CalendarUrls {
        event_url,
        feed_url,
        starts,
    }
}

/// The event's own file holds it, as scheduled: its UID.
async fn the_event_file_holds_it(app: &TestApp, urls: &CalendarUrls) -> String {
    let CalendarUrls {
        event_url, starts, ..
    } = urls;
    let (status, ics) = fetch(app, event_url).await;
    assert_eq!(status, 200);
    let parsed = vevents(&ics);
    assert_eq!(parsed.len(), 1, "{ics}");
    let uid = parsed[0]["UID"].clone();
    assert!(uid.ends_with("@kith"));
    assert_eq!(parsed[0]["SUMMARY"], "Board Game Night");
    assert_eq!(
        parsed[0]["DTSTART"],
        starts.format("%Y%m%dT%H%M%SZ").to_string()
    );
    assert_eq!(parsed[0]["SEQUENCE"], "0");
    assert_eq!(parsed[0]["STATUS"], "CONFIRMED");
    uid
}

/// Not going yet: the feed is empty; going: the event is in it, and follows a new time
/// under the same UID.
async fn the_feed_follows_a_change(
    app: &TestApp,
    (ann, bo): (&Member, &Member),
    id: &str,
    urls: &CalendarUrls,
    uid: &str,
) {
    let CalendarUrls {
        feed_url, starts, ..
    } = urls;
    let (_, feed) = fetch(app, feed_url).await;
    assert!(vevents(&feed).is_empty(), "{feed}");
    app.answer(bo, id, "YES").await;
    let later = *starts + Duration::hours(1);
    app.graphql(Some(&ann.access_token), UPDATE_EVENT, json!({ "input": { "eventId": id, "startsAt": later.to_rfc3339(), "endsAt": (later + Duration::hours(3)).to_rfc3339() } }))
        .await;
    let (_, feed) = fetch(app, feed_url).await;
    let parsed = vevents(&feed);
    assert_eq!(parsed.len(), 1, "{feed}");
    assert_eq!(
        parsed[0]["UID"], uid,
        "the same UID, so calendars update the entry"
    );
    assert_eq!(parsed[0]["SEQUENCE"], "1");
    assert_eq!(
        parsed[0]["DTSTART"],
        later.format("%Y%m%dT%H%M%SZ").to_string()
    );
}

/// Cancelled, the event stays in the feed as cancelled.
async fn the_feed_shows_the_cancellation(app: &TestApp, ann: &Member, id: &str, feed_url: &str) {
    app.graphql(
        Some(&ann.access_token),
        CANCEL_EVENT,
        json!({ "input": { "eventId": id } }),
    )
    .await;
    let (_, feed) = fetch(app, feed_url).await;
    let parsed = vevents(&feed);
    assert_eq!(parsed[0]["STATUS"], "CANCELLED");
    assert_eq!(parsed[0]["SEQUENCE"], "2");
}

/// The feed URL can be replaced; the old one is then unknown (404), as is any guess.
async fn the_feed_url_can_be_replaced(app: &TestApp, bo: &Member, feed_url: &str) {
    let reset = app
        .graphql(
            Some(&bo.access_token),
            "mutation { resetCalendarFeed { calendarFeedUrl } }",
            json!({}),
        )
        .await;
    let new_url = reset["data"]["resetCalendarFeed"]["calendarFeedUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_url, feed_url);
    assert_eq!(fetch(app, feed_url).await.0, 404);
    assert_eq!(fetch(app, &new_url).await.0, 200);
    assert_eq!(fetch(app, "http://x/calendar/not-a-token.ics").await.0, 404);
    assert_eq!(fetch(app, "http://x/events/bm9wZQ.ics").await.0, 404);
}

#[tokio::test]
async fn calendars_follow_changes_and_cancellations() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app
        .organiser_with_event(json!({ "title": "Board Game Night" }))
        .await;
    let id = event.id.as_str();
    let bo = app.member_of(&group_id, "bo@example.com").await;
    let urls = calendar_urls(&app, &bo, id).await;
    let uid = the_event_file_holds_it(&app, &urls).await;
    the_feed_follows_a_change(&app, (&ann, &bo), id, &urls, &uid).await;
    the_feed_shows_the_cancellation(&app, &ann, id, &urls.feed_url).await;
    the_feed_url_can_be_replaced(&app, &bo, &urls.feed_url).await;
}

#[tokio::test]
async fn a_weekly_series_keeps_its_wall_clock_time_across_daylight_saving() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({})).await;
    // Thursdays at 19:00 in Berlin from 4 March 2027; clocks go forward on 28 March.
    let input = event_input(
        &group_id,
        json!({
            "title": "Thursday Choir",
            "startsAt": "2027-03-04T18:00:00Z", "endsAt": "2027-03-04T20:00:00Z",
            "timeZone": "Europe/Berlin", "recurrence": "FREQ=WEEKLY;COUNT=6",
        }),
    );
    let body = app
        .graphql(Some(&ann.access_token), "mutation($input: CreateEventInput!) { createEvent(input: $input) { id startsAt series { id recurrence } } }", json!({ "input": input }))
        .await;
    let first = &body["data"]["createEvent"];
    assert_eq!(first["startsAt"], "2027-03-04T18:00:00.000Z", "{body}");
    assert_eq!(first["series"]["recurrence"], "FREQ=WEEKLY;COUNT=6");
    let series = first["series"]["id"].clone();

    let list = app
        .graphql(None, "query($g: ID!) { group(id: $g) { upcomingEvents(first: 50) { nodes { title startsAt endsAt series { id } } } } }", json!({ "g": group_id }))
        .await;
    let choir: Vec<&Value> = list["data"]["group"]["upcomingEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["title"] == "Thursday Choir")
        .collect();
    let starts: Vec<&str> = choir
        .iter()
        .map(|e| e["startsAt"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        vec![
            "2027-03-04T18:00:00.000Z",
            "2027-03-11T18:00:00.000Z",
            "2027-03-18T18:00:00.000Z",
            "2027-03-25T18:00:00.000Z",
            "2027-04-01T17:00:00.000Z",
            "2027-04-08T17:00:00.000Z",
        ]
    );
    assert!(choir.iter().all(|e| e["series"]["id"] == series));
    assert_eq!(choir[5]["endsAt"], "2027-04-08T19:00:00.000Z");

    for bad in [
        "FREQ=SOMETIMES",
        "FREQ=WEEKLY;COUNT=2\nDTSTART:20270101T000000Z",
    ] {
        let body = app
            .graphql(
                Some(&ann.access_token),
                CREATE_EVENT,
                json!({ "input": event_input(&group_id, json!({ "recurrence": bad })) }),
            )
            .await;
        assert_eq!(error_field(&body), "input.recurrence", "{body}");
    }
}

#[tokio::test]
async fn this_and_following_changes_the_rest_of_a_series_by_wall_clock() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({})).await;
    let input = event_input(
        &group_id,
        json!({
            "title": "Choir", "startsAt": "2027-03-11T18:00:00Z", "endsAt": "2027-03-11T20:00:00Z",
            "timeZone": "Europe/Berlin", "recurrence": "FREQ=WEEKLY;COUNT=4",
        }),
    );
    app.create_event(&ann, input).await;
    let list = "query($g: ID!) { group(id: $g) { upcomingEvents(first: 50) { nodes { id title startsAt series { id } } } } }";
    let occurrences = |body: &Value| -> Vec<(String, String, String)> {
        body["data"]["group"]["upcomingEvents"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| !e["series"].is_null())
            .map(|e| {
                (
                    e["id"].as_str().unwrap().to_owned(),
                    e["title"].as_str().unwrap().to_owned(),
                    e["startsAt"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let before = occurrences(&app.graphql(None, list, json!({ "g": group_id })).await);
    assert_eq!(before.len(), 4);

    // The second occurrence and those after it move to 20:00 Berlin time and are renamed.
    let change = json!({ "input": {
        "eventId": before[1].0, "title": "Late Choir", "scope": "THIS_AND_FOLLOWING",
        "startsAt": "2027-03-18T19:00:00Z", "endsAt": "2027-03-18T21:00:00Z",
    } });
    let body = app
        .graphql(Some(&ann.access_token), UPDATE_EVENT, change)
        .await;
    assert_eq!(body["data"]["updateEvent"]["title"], "Late Choir", "{body}");
    let after = occurrences(&app.graphql(None, list, json!({ "g": group_id })).await);
    let seen: Vec<(&str, &str)> = after
        .iter()
        .map(|(_, t, s)| (t.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("Choir", "2027-03-11T18:00:00.000Z"),
            ("Late Choir", "2027-03-18T19:00:00.000Z"),
            ("Late Choir", "2027-03-25T19:00:00.000Z"),
            ("Late Choir", "2027-04-01T18:00:00.000Z"),
        ]
    );

    // The default, THIS_EVENT, touches one occurrence only.
    let body = app
        .graphql(
            Some(&ann.access_token),
            UPDATE_EVENT,
            json!({ "input": { "eventId": after[2].0, "title": "Special Choir" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateEvent"]["title"], "Special Choir",
        "{body}"
    );
    let last = occurrences(&app.graphql(None, list, json!({ "g": group_id })).await);
    let titles: Vec<&str> = last.iter().map(|(_, t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        vec!["Choir", "Late Choir", "Special Choir", "Late Choir"]
    );
}

#[tokio::test]
async fn cancelling_one_occurrence_leaves_the_others() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({})).await;
    let input = event_input(
        &group_id,
        json!({ "title": "Series", "startsAt": "2027-05-06T17:00:00Z", "endsAt": "2027-05-06T19:00:00Z", "recurrence": "FREQ=WEEKLY;COUNT=3" }),
    );
    app.create_event(&ann, input).await;
    let list = "query($g: ID!) { group(id: $g) { upcomingEvents(first: 50) { nodes { id title status } } } }";
    let ids = |body: &Value| -> Vec<(String, String)> {
        body["data"]["group"]["upcomingEvents"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["title"] == "Series")
            .map(|e| {
                (
                    e["id"].as_str().unwrap().to_owned(),
                    e["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let series = ids(&app.graphql(None, list, json!({ "g": group_id })).await);
    assert_eq!(series.len(), 3);
    app.graphql(
        Some(&ann.access_token),
        CANCEL_EVENT,
        json!({ "input": { "eventId": series[1].0 } }),
    )
    .await;
    let statuses: Vec<String> = ids(&app.graphql(None, list, json!({ "g": group_id })).await)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(statuses, vec!["SCHEDULED", "CANCELLED", "SCHEDULED"]);
}

/// The titles `searchEvents` finds within 5 km of `(lat, lng)`, soonest first.
async fn found_near(app: &TestApp, lat: f64, lng: f64) -> Vec<String> {
    let body = app
        .graphql(
            None,
            "query($f: EventSearchInput!) { searchEvents(filter: $f, first: 50) { nodes { title } } }",
            json!({ "f": { "near": { "lat": lat, "lng": lng }, "radiusKm": 5 } }),
        )
        .await;
    body["data"]["searchEvents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_online_event_is_found_where_its_group_meets_wherever_either_moves() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app
        .organiser_with_event(json!({ "title": "At c-base" }))
        .await;
    let online = app
        .create_event(
            &ann,
            event_input(
                &group_id,
                json!({ "title": "Online Talk", "venue": null, "onlineUrl": "https://meet.example/talk" }),
            ),
        )
        .await;
    // The group meets in Berlin (52.52, 13.405); Hamburg is far away.
    assert!(
        found_near(&app, 52.52, 13.405)
            .await
            .contains(&"Online Talk".to_owned())
    );
    let body = app
        .graphql(
            Some(&ann.access_token),
            "mutation($input: UpdateGroupInput!) { updateGroup(input: $input) { id } }",
            json!({ "input": { "groupId": group_id, "location": { "lat": 53.55, "lng": 9.99 } } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        !found_near(&app, 52.52, 13.405)
            .await
            .contains(&"Online Talk".to_owned())
    );
    assert_eq!(
        found_near(&app, 53.55, 9.99).await,
        vec!["Online Talk".to_owned()]
    );
    // The event at c-base goes online-only: now it is found in Hamburg too.
    let at_cbase = found_near(&app, 52.5129, 13.4201).await;
    assert_eq!(at_cbase, vec!["At c-base".to_owned()]);
    let events = app
        .graphql(
            None,
            "query($g: ID!) { group(id: $g) { upcomingEvents { nodes { id title } } } }",
            json!({ "g": group_id }),
        )
        .await;
    let cbase = events["data"]["group"]["upcomingEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == "At c-base")
        .unwrap()["id"]
        .clone();
    let body = app
        .graphql(
            Some(&ann.access_token),
            UPDATE_EVENT,
            json!({ "input": { "eventId": cbase, "venue": null, "onlineUrl": "https://meet.example/cbase" } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(found_near(&app, 52.5129, 13.4201).await.is_empty());
    assert_eq!(found_near(&app, 53.55, 9.99).await.len(), 2);
    assert_ne!(online.id, "");
}
