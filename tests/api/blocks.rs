//! Blocking: silent, both ways invisible in lists, and no meeting confirmations between the
//! two.

use serde_json::{Value, json};

use crate::helpers::*;

const BLOCK: &str = "mutation($u: ID!) { blockUser(input: { userId: $u }) { id } }";
const UNBLOCK: &str = "mutation($u: ID!) { unblockUser(input: { userId: $u }) { id } }";
const LISTS: &str = "query($e: ID!, $g: ID!) { event(id: $e) { attendees(first: 50) { nodes { user { id } } } peopleToMeet { user { id } } } group(id: $g) { members(first: 50) { nodes { user { id } } } } }";

/// The ids in the viewer's attendee list, people to meet and member list.
async fn seen_by(app: &TestApp, viewer: &Member, event: &str, group: &str) -> [Vec<String>; 3] {
    let body = app
        .graphql(
            Some(&viewer.access_token),
            LISTS,
            json!({ "e": event, "g": group }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| n["user"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    [
        ids(&body["data"]["event"]["attendees"]["nodes"]),
        ids(&body["data"]["event"]["peopleToMeet"]),
        ids(&body["data"]["group"]["members"]["nodes"]),
    ]
}

/// Ann's group, with Bo and Cy, at an event starting soon where all three are checked in.
struct Night {
    ann: Member,
    bo: Member,
    cy: Member,
    group_id: String,
    event: String,
}

async fn all_three_checked_in(app: &TestApp) -> Night {
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let group_id = group.id.clone();
    let bo = app.member_of(&group_id, "bo@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    let event = app
        .create_event(&ann, starting_soon(&group_id, json!({})))
        .await
        .id;
    app.give_role(&ann, &group_id, &bo, "CO_ORGANIZER").await;
    for m in [&ann, &bo, &cy] {
        app.going(m, &event).await;
    }
    app.hosts_check_in(&ann, &bo, &event, &[&ann, &bo, &cy])
        .await;
    Night {
        ann,
        bo,
        cy,
        group_id,
        event,
    }
}

/// Neither sees the other anywhere; Ann still sees both.
async fn neither_sees_the_other(app: &TestApp, night: &Night) {
    let Night {
        ann,
        bo,
        cy,
        group_id,
        event,
    } = night;
    for (viewer, hidden) in [(&bo, &cy), (&cy, &bo)] {
        for list in seen_by(app, viewer, event, group_id).await {
            assert!(!list.contains(&hidden.id), "{list:?}");
        }
    }
    let [attendees, _, members] = seen_by(app, ann, event, group_id).await;
    assert!(attendees.contains(&bo.id) && attendees.contains(&cy.id));
    assert!(members.contains(&bo.id) && members.contains(&cy.id));
    // Nor by ID: the other's membership and answer are null to each, not to Ann.
    for (owner, other) in [(&bo, &cy), (&cy, &bo)] {
        for id in entries_of(app, owner, event, group_id).await {
            assert!(node(app, other, &id).await.is_null(), "{id}");
            assert_eq!(node(app, ann, &id).await["id"], id.as_str());
        }
    }
}

/// The IDs of the member's own answer to the event and membership of the group.
async fn entries_of(app: &TestApp, member: &Member, event: &str, group: &str) -> [String; 2] {
    let body = app
        .data_as(
            member,
            "query($e: ID!, $g: ID!) { event(id: $e) { viewerRsvp { id } } group(id: $g) { viewerMembership { id } } }",
            json!({ "e": event, "g": group }),
        )
        .await;
    [
        body["event"]["viewerRsvp"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        body["group"]["viewerMembership"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    ]
}

/// `node(id:)` as the viewer sees it.
async fn node(app: &TestApp, viewer: &Member, id: &str) -> Value {
    app.data_as(
        viewer,
        "query($id: ID!) { node(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await["node"]
        .clone()
}

/// Blocking is silent: Cy is told nothing; Bo's list shows Cy.
async fn blocking_is_silent(app: &TestApp, night: &Night) {
    let Night { bo, cy, .. } = night;
    let body = app
        .graphql(
            Some(&cy.access_token),
            "{ viewer { notifications(first: 5) { nodes { kind } } blockedUsers { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["viewer"]["notifications"]["nodes"],
        json!([]),
        "{body}"
    );
    assert_eq!(body["data"]["viewer"]["blockedUsers"], json!([]));
    let body = app
        .graphql(
            Some(&bo.access_token),
            "{ viewer { blockedUsers { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["viewer"]["blockedUsers"],
        json!([{ "id": cy.id }])
    );
}

/// No meeting confirmations between them, either way.
async fn no_meeting_between_them(app: &TestApp, night: &Night) {
    let Night { bo, cy, event, .. } = night;
    for (shows, scans) in [(&bo, &cy), (&cy, &bo)] {
        let token = app.meeting_token(shows, event).await;
        let body = app.confirm_token(scans, &token.token).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
}

#[tokio::test]
async fn blocked_members_vanish_from_each_others_lists_and_cannot_confirm_meetings() {
    let app = spawn_app().await;
    let night = all_three_checked_in(&app).await;
    let Night {
        bo,
        cy,
        group_id,
        event,
        ..
    } = &night;
    for list in seen_by(&app, bo, event, group_id).await {
        assert!(list.contains(&cy.id), "{list:?}");
    }

    // Bo blocks Cy.
    let body = app
        .graphql(Some(&bo.access_token), BLOCK, json!({ "u": cy.id }))
        .await;
    assert_eq!(body["data"]["blockUser"]["id"], cy.id.as_str(), "{body}");
    neither_sees_the_other(&app, &night).await;
    blocking_is_silent(&app, &night).await;
    no_meeting_between_them(&app, &night).await;

    // Rules of the input.
    let body = app
        .graphql(Some(&bo.access_token), BLOCK, json!({ "u": bo.id }))
        .await;
    assert_eq!(error_field(&body), "input.userId", "{body}");
    let body = app
        .graphql(Some(&bo.access_token), BLOCK, json!({ "u": cy.id }))
        .await;
    assert_eq!(
        body["data"]["blockUser"]["id"],
        cy.id.as_str(),
        "blocking again changes nothing: {body}"
    );

    // Unblocked, they see each other again.
    let body = app
        .graphql(Some(&bo.access_token), UNBLOCK, json!({ "u": cy.id }))
        .await;
    assert_eq!(body["data"]["unblockUser"]["id"], cy.id.as_str(), "{body}");
    for list in seen_by(&app, cy, event, group_id).await {
        assert!(list.contains(&bo.id), "{list:?}");
    }
}
