//! Conversation: comments under events (who reads and writes them, one level of replies,
//! edits, deletion that keeps the place, pages, notifications, live updates, blocks,
//! account deletion) and announcements (who may, to whom, three a day per group however
//! many are sent at once).

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::live::{WAIT, data_of, live, next, subscribe};

const ADD: &str = "mutation($input: AddCommentInput!) { addComment(input: $input) { id body deleted editedAt author { id } replyTo { id } replyCount } }";
const EDIT: &str = "mutation($id: ID!, $body: String!) { editComment(input: { commentId: $id, body: $body }) { id body editedAt deleted } }";
const DELETE: &str = "mutation($id: ID!) { deleteComment(input: { commentId: $id }) { id body deleted author { id } } }";
const COMMENTS: &str = "query($id: ID!, $first: Int, $after: String) { event(id: $id) { comments(first: $first, after: $after) { nodes { id body deleted author { id } replyCount replies(first: 10) { nodes { id body deleted author { id } replyTo { id } } } } pageInfo { hasNextPage endCursor } } } }";
const NODE: &str = "query($id: ID!) { node(id: $id) { id ... on Comment { body } } }";
const ANNOUNCE: &str = "mutation($input: AnnounceInput!) { announce(input: $input) }";
const BLOCK: &str = "mutation($u: ID!) { blockUser(input: { userId: $u }) { id } }";
const COMMENT_ADDED: &str = "subscription($id: ID!) { commentAdded(eventId: $id) { id body author { id } replyTo { id } } }";

impl TestApp {
    /// `member` comments on the event (replying to `reply_to`): the whole answer.
    async fn comment(
        &self,
        member: &Member,
        event_id: &str,
        body: &str,
        reply_to: Option<&str>,
    ) -> Value {
        self.graphql(
            Some(&member.access_token),
            ADD,
            json!({ "input": { "eventId": event_id, "body": body, "replyToId": reply_to } }),
        )
        .await
    }

    /// `member` comments (panics when refused): the comment's ID.
    async fn commented(
        &self,
        member: &Member,
        event_id: &str,
        body: &str,
        reply_to: Option<&str>,
    ) -> String {
        let answer = self.comment(member, event_id, body, reply_to).await;
        answer["data"]["addComment"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"))
            .to_owned()
    }

    /// The event's comments as `member` reads them: the whole answer.
    async fn comments_as(
        &self,
        member: Option<&Member>,
        event_id: &str,
        first: i64,
        after: Option<&str>,
    ) -> Value {
        self.graphql(
            member.map(|m| m.access_token.as_str()),
            COMMENTS,
            json!({ "id": event_id, "first": first, "after": after }),
        )
        .await
    }

    /// The nodes of the first page (up to 20) as `member` reads them.
    async fn comment_nodes(&self, member: &Member, event_id: &str) -> Vec<Value> {
        let body = self.comments_as(Some(member), event_id, 20, None).await;
        body["data"]["event"]["comments"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .clone()
    }

    async fn announce(
        &self,
        member: &Member,
        group_id: &str,
        event_id: Option<&str>,
        message: &str,
    ) -> Value {
        self.graphql(
            Some(&member.access_token),
            ANNOUNCE,
            json!({ "input": { "groupId": group_id, "eventId": event_id, "message": message } }),
        )
        .await
    }

    /// Sets the member's membership of the group to PENDING, as a request awaiting an
    /// organiser would be.
    async fn make_pending(&self, member: &Member) {
        use entity::membership::{Column, Entity, MembershipStatus};
        Entity::update_many()
            .col_expr(Column::Status, Expr::value(MembershipStatus::Pending))
            .filter(Column::UserId.eq(uuid_of(&member.id)))
            .exec(&self.state.db)
            .await
            .unwrap();
    }
}

fn ids_of(nodes: &[Value]) -> Vec<&str> {
    nodes.iter().map(|n| n["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn only_active_members_read_and_write_comments() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let stranger = app.sign_up("stranger@example.com", "Stranger").await;
    let pending = app.member_of(&group_id, "pending@example.com").await;
    app.make_pending(&pending).await;
    let banned = app.member_of(&group_id, "banned@example.com").await;

    let first = app
        .commented(&bob, &event.id, "  See you there!  ", None)
        .await;
    let spam = app
        .commented(&banned, &event.id, "Buy cheap watches", None)
        .await;

    for outsider in [&stranger, &pending] {
        let body = app.comment(outsider, &event.id, "hi", None).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
        let body = app.comments_as(Some(outsider), &event.id, 10, None).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
        assert!(
            body["data"]["event"].as_object().unwrap()["comments"].is_null(),
            "null, never missing: {body}"
        );
        let body = app
            .graphql(Some(&outsider.access_token), NODE, json!({ "id": first }))
            .await;
        assert!(body["data"]["node"].is_null(), "{body}");
    }
    let body = app.comments_as(None, &event.id, 10, None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert!(body["data"]["event"]["comments"].is_null(), "{body}");

    let ban = kith::domain::reports::ban(&app.state.db, uuid_of(&banned.id), Utc::now())
        .await
        .unwrap();
    app.state.outlets.deliver_now(ban).await;
    let body = app.comment(&banned, &event.id, "hi", None).await;
    assert!(body["data"]["addComment"].is_null(), "{body}");
    assert!(!body["errors"].is_null(), "{body}");
    let nodes = app.comment_nodes(&ann, &event.id).await;
    assert_eq!(
        nodes[1]["id"],
        spam.as_str(),
        "a banned member's comment keeps its place"
    );
    assert_eq!(nodes[1]["deleted"], true);
    assert!(nodes[1]["body"].is_null());

    // The body is trimmed, 1 to 2,000 characters.
    for bad in ["   ".to_owned(), "x".repeat(2_001)] {
        let body = app.comment(&bob, &event.id, &bad, None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.body", "{body}");
    }
    app.commented(&bob, &event.id, &"y".repeat(2_000), None)
        .await;

    let nodes = app.comment_nodes(&ann, &event.id).await;
    assert_eq!(nodes[0]["id"], first.as_str());
    assert_eq!(nodes[0]["body"], "See you there!");
    assert_eq!(nodes[0]["author"]["id"], bob.id.as_str());
    let body = app
        .graphql(Some(&ann.access_token), NODE, json!({ "id": first }))
        .await;
    assert_eq!(body["data"]["node"]["body"], "See you there!", "{body}");
}

#[tokio::test]
async fn one_level_of_replies_edits_by_the_author_and_deletion_that_keeps_the_place() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    let hal = app.member_of(&group_id, "hal@example.com").await;
    app.give_role(&ann, &group_id, &hal, "EVENT_HOST").await;
    let hals = app
        .create_event(&hal, event_input(&group_id, json!({})))
        .await;

    let top = app
        .commented(&bob, &event.id, "Who brings a soldering iron?", None)
        .await;
    let answer = app.comment(&ann, &event.id, "I do.", Some(&top)).await;
    let reply = answer["data"]["addComment"].clone();
    assert_eq!(reply["replyTo"]["id"], top.as_str(), "{answer}");
    let body = app
        .comment(&cy, &event.id, "Me too", reply["id"].as_str())
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.replyToId", "{body}");
    let body = app.comment(&cy, &hals.id, "Elsewhere", Some(&top)).await;
    assert_eq!(error_field(&body), "input.replyToId", "{body}");

    // Top-level comments only, each with its replies.
    let nodes = app.comment_nodes(&cy, &event.id).await;
    assert_eq!(ids_of(&nodes), [top.as_str()]);
    assert_eq!(nodes[0]["replyCount"], 1);
    assert_eq!(nodes[0]["replies"]["nodes"][0]["id"], reply["id"]);
    assert_eq!(
        nodes[0]["replies"]["nodes"][0]["replyTo"]["id"],
        top.as_str()
    );

    // Only the author edits.
    for other in [&ann, &cy] {
        let body = app
            .graphql(
                Some(&other.access_token),
                EDIT,
                json!({ "id": top, "body": "changed" }),
            )
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let body = app
        .graphql(
            Some(&bob.access_token),
            EDIT,
            json!({ "id": top, "body": " Who brings solder? " }),
        )
        .await;
    assert_eq!(
        body["data"]["editComment"]["body"], "Who brings solder?",
        "{body}"
    );
    assert!(
        body["data"]["editComment"]["editedAt"].is_string(),
        "{body}"
    );
    let body = app
        .graphql(
            Some(&bob.access_token),
            EDIT,
            json!({ "id": top, "body": "" }),
        )
        .await;
    assert_eq!(error_field(&body), "input.body", "{body}");

    // Another member may not delete; the author, the event's host and an organiser may.
    let body = app
        .graphql(Some(&cy.access_token), DELETE, json!({ "id": top }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app
        .graphql(Some(&hal.access_token), DELETE, json!({ "id": top }))
        .await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "hal does not host this one: {body}"
    );
    let body = app
        .graphql(Some(&bob.access_token), DELETE, json!({ "id": top }))
        .await;
    let deleted = &body["data"]["deleteComment"];
    assert_eq!(deleted["deleted"], true, "{body}");
    assert!(deleted["body"].is_null(), "{body}");
    assert_eq!(deleted["author"]["id"], bob.id.as_str(), "{body}");
    let body = app
        .graphql(
            Some(&bob.access_token),
            EDIT,
            json!({ "id": top, "body": "back" }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");

    // Its place is kept, with its reply under it.
    let nodes = app.comment_nodes(&cy, &event.id).await;
    assert_eq!(ids_of(&nodes), [top.as_str()]);
    assert_eq!(nodes[0]["deleted"], true);
    assert!(nodes[0]["body"].is_null());
    assert_eq!(nodes[0]["replies"]["nodes"][0]["body"], "I do.");

    let on_hals = app
        .commented(&cy, &hals.id, "Is there parking?", None)
        .await;
    let body = app
        .graphql(Some(&hal.access_token), DELETE, json!({ "id": on_hals }))
        .await;
    assert_eq!(
        body["data"]["deleteComment"]["deleted"], true,
        "the host: {body}"
    );
    let again = app.commented(&cy, &hals.id, "Parking?", None).await;
    let body = app
        .graphql(Some(&ann.access_token), DELETE, json!({ "id": again }))
        .await;
    assert_eq!(
        body["data"]["deleteComment"]["deleted"], true,
        "the organiser: {body}"
    );
}

#[tokio::test]
async fn hosts_hear_of_comments_and_authors_of_replies() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;

    let top = app.commented(&bob, &event.id, "Hello", None).await;
    assert_eq!(app.notification_kinds(&ann).await, ["EVENT_COMMENT"]);
    assert!(
        app.notification_kinds(&bob).await.is_empty(),
        "not to oneself"
    );

    app.commented(&ann, &event.id, "Welcome", Some(&top)).await;
    assert_eq!(app.notification_kinds(&bob).await, ["COMMENT_REPLY"]);
    assert_eq!(
        app.notification_kinds(&ann).await,
        ["EVENT_COMMENT"],
        "not to the host who wrote it"
    );

    app.commented(&cy, &event.id, "Hi all", Some(&top)).await;
    assert_eq!(
        app.notification_kinds(&bob).await,
        ["COMMENT_REPLY", "COMMENT_REPLY"]
    );
    assert_eq!(
        app.notification_kinds(&ann).await,
        ["EVENT_COMMENT", "EVENT_COMMENT"]
    );
    let told = &app.notifications(&bob, false).await[0];
    assert_eq!(told.event.as_ref().unwrap().id, event.id);
    assert!(told.message.contains("Someone"), "{}", told.message);
    assert!(app.notification_kinds(&cy).await.is_empty());

    // A member replying to their own comment tells only the host.
    app.commented(&bob, &event.id, "Thanks", Some(&top)).await;
    assert_eq!(app.notification_kinds(&bob).await.len(), 2);
    assert_eq!(app.notification_kinds(&ann).await.len(), 3);
}

#[tokio::test]
async fn pages_run_oldest_first_with_cursors_and_comments_are_rate_limited() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let mut written = Vec::new();
    for n in 0..20 {
        written.push(
            app.commented(&bob, &event.id, &format!("comment {n}"), None)
                .await,
        );
    }
    let body = app.comment(&bob, &event.id, "one too many", None).await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");

    let mut read = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let body = app
            .comments_as(Some(&ann), &event.id, 7, after.as_deref())
            .await;
        let comments = &body["data"]["event"]["comments"];
        let nodes = comments["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        read.extend(nodes.iter().map(|n| n["id"].as_str().unwrap().to_owned()));
        pages += 1;
        if comments["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = comments["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(read, written, "oldest first, none skipped or repeated");
    let body = app.comments_as(Some(&ann), &event.id, 101, None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn blocking_hides_comments_both_ways() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    let bobs = app.commented(&bob, &event.id, "Bob here", None).await;
    let cys = app.commented(&cy, &event.id, "Cy here", None).await;
    app.commented(&cy, &event.id, "Cy replies", Some(&bobs))
        .await;
    let body = app
        .graphql(Some(&bob.access_token), BLOCK, json!({ "u": cy.id }))
        .await;
    assert_eq!(body["data"]["blockUser"]["id"], cy.id.as_str(), "{body}");

    let seen = app.comment_nodes(&bob, &event.id).await;
    assert_eq!(ids_of(&seen), [bobs.as_str()]);
    assert_eq!(seen[0]["replyCount"], 0);
    assert!(seen[0]["replies"]["nodes"].as_array().unwrap().is_empty());
    let seen = app.comment_nodes(&cy, &event.id).await;
    assert_eq!(
        ids_of(&seen),
        [cys.as_str()],
        "the blocked member does not see the blocker's"
    );
    let body = app
        .graphql(Some(&bob.access_token), NODE, json!({ "id": cys }))
        .await;
    assert!(body["data"]["node"].is_null(), "{body}");
    let body = app.comment(&cy, &event.id, "Again", Some(&bobs)).await;
    assert_eq!(error_field(&body), "input.replyToId", "{body}");
    assert_eq!(
        app.comment_nodes(&ann, &event.id).await.len(),
        2,
        "others see both"
    );
}

#[tokio::test]
async fn members_hear_comments_live() {
    let app = spawn_app().await;
    let (_ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    let dan = app.member_of(&group_id, "dan@example.com").await;
    let stranger = app.sign_up("stranger@example.com", "Stranger").await;

    let mut refused = live(&app.address, &stranger).await;
    subscribe(&mut refused, "1", COMMENT_ADDED, json!({ "id": event.id })).await;
    let message = next(&mut refused, WAIT)
        .await
        .expect("an answer")
        .expect("open");
    assert!(message.to_string().contains("FORBIDDEN"), "{message}");

    app.graphql(Some(&bob.access_token), BLOCK, json!({ "u": dan.id }))
        .await;
    let mut ws = live(&app.address, &bob).await;
    subscribe(&mut ws, "c", COMMENT_ADDED, json!({ "id": event.id })).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.commented(&dan, &event.id, "blocked, unheard", None)
        .await;
    let top = app.commented(&cy, &event.id, "Live!", None).await;
    let data = data_of(&mut ws, "c").await;
    assert_eq!(data["commentAdded"]["id"], top.as_str(), "{data}");
    assert_eq!(data["commentAdded"]["body"], "Live!");
    assert_eq!(data["commentAdded"]["author"]["id"], cy.id.as_str());
    let reply = app
        .commented(&cy, &event.id, "And a reply", Some(&top))
        .await;
    let data = data_of(&mut ws, "c").await;
    assert_eq!(data["commentAdded"]["id"], reply.as_str(), "{data}");
    assert_eq!(data["commentAdded"]["replyTo"]["id"], top.as_str());
}

#[tokio::test]
async fn deleting_an_account_blanks_its_comments_and_the_export_lists_them() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let top = app.commented(&bob, &event.id, "Mine", None).await;
    app.commented(&ann, &event.id, "Answer", Some(&top)).await;
    app.commented(&bob, &event.id, "Thanks", Some(&top)).await;

    let body = app
        .graphql(Some(&bob.access_token), "{ exportMyData }", json!({}))
        .await;
    let export: Value =
        serde_json::from_str(body["data"]["exportMyData"].as_str().unwrap()).unwrap();
    let comments = export["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2, "{export}");
    assert_eq!(comments[0]["id"], top.as_str());
    assert_eq!(comments[0]["body"], "Mine");
    assert_eq!(comments[1]["replyToId"], top.as_str());
    assert_eq!(comments[0]["event"]["id"], event.id.as_str());

    let body = app
        .graphql(
            Some(&bob.access_token),
            "mutation($p: String!) { deleteAccount(input: { password: $p }) }",
            json!({ "p": PASSWORD }),
        )
        .await;
    assert_eq!(body["data"]["deleteAccount"], true, "{body}");
    let nodes = app.comment_nodes(&ann, &event.id).await;
    assert_eq!(ids_of(&nodes), [top.as_str()], "the place is kept");
    assert_eq!(nodes[0]["deleted"], true);
    assert!(nodes[0]["body"].is_null());
    assert!(nodes[0]["author"].is_null());
    let replies = nodes[0]["replies"]["nodes"].as_array().unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0]["body"], "Answer");
    assert!(replies[1]["body"].is_null() && replies[1]["author"].is_null());
}

#[tokio::test]
async fn announcements_reach_the_members_or_the_attendees_and_only_organisers_and_hosts_send_them()
{
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    let hal = app.member_of(&group_id, "hal@example.com").await;
    let pending = app.member_of(&group_id, "pending@example.com").await;
    app.make_pending(&pending).await;
    let stranger = app.sign_up("stranger@example.com", "Stranger").await;
    app.give_role(&ann, &group_id, &hal, "EVENT_HOST").await;
    let hals = app
        .create_event(&hal, event_input(&group_id, json!({})))
        .await;
    app.going(&bob, &hals.id).await;

    for (who, event_id) in [
        (&bob, None),
        (&stranger, None),
        (&hal, None),
        (&hal, Some(event.id.as_str())),
    ] {
        let body = app.announce(who, &group_id, event_id, "Hear ye").await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let body = app.announce(&ann, &group_id, None, "  ").await;
    assert_eq!(error_field(&body), "input.message", "{body}");
    let body = app
        .announce(&ann, &group_id, None, &"m".repeat(2_001))
        .await;
    assert_eq!(error_field(&body), "input.message", "{body}");

    let body = app
        .announce(&ann, &group_id, None, "New venue from March")
        .await;
    assert_eq!(body["data"]["announce"], true, "{body}");
    for member in [&bob, &cy, &hal] {
        assert_eq!(app.notification_kinds(member).await, ["ANNOUNCEMENT"]);
    }
    let told = &app.notifications(&cy, false).await[0];
    assert!(
        told.message.contains("New venue from March"),
        "{}",
        told.message
    );
    assert_eq!(told.group.as_ref().unwrap().id, group_id);
    assert!(
        app.notification_kinds(&ann).await.is_empty(),
        "not to the announcer"
    );
    assert!(
        app.notification_kinds(&pending).await.is_empty(),
        "ACTIVE members only"
    );

    let body = app
        .announce(&hal, &group_id, Some(&hals.id), "Room 2 tonight")
        .await;
    assert_eq!(body["data"]["announce"], true, "{body}");
    assert_eq!(
        app.notification_kinds(&bob).await,
        ["ANNOUNCEMENT", "ANNOUNCEMENT"]
    );
    assert_eq!(
        app.notifications(&bob, false).await[0]
            .event
            .as_ref()
            .unwrap()
            .id,
        hals.id
    );
    assert_eq!(
        app.notification_kinds(&cy).await.len(),
        1,
        "cy is not going"
    );
    assert_eq!(
        app.notification_kinds(&hal).await.len(),
        1,
        "not to the announcer"
    );
}

#[tokio::test]
async fn at_most_three_announcements_a_day_however_many_are_sent_at_once() {
    let app = spawn_app().await;
    let (ann, group_id, _event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let messages: Vec<String> = (0..6).map(|n| format!("news {n}")).collect();
    let sends = messages
        .iter()
        .map(|message| app.announce(&ann, &group_id, None, message));
    let answers = futures::future::join_all(sends).await;
    let sent = answers
        .iter()
        .filter(|a| a["data"]["announce"] == true)
        .count();
    let limited = answers
        .iter()
        .filter(|a| !a["errors"].is_null() && error_code(a) == "RATE_LIMITED")
        .count();
    assert_eq!((sent, limited), (3, 3), "{answers:?}");
    assert_eq!(app.notification_kinds(&bob).await.len(), 3);
    let body = app.announce(&ann, &group_id, None, "later").await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 80_000
    );
}
