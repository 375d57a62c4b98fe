//! Private messages: who may write to whom (met in person, organisers and hosts, answers),
//! blocks both ways, bans, unread counts, the order of conversations and pages, live
//! delivery (in one process and across two), limits, idempotent retries, reports of
//! messages and comments with their text, account deletion and the export.

use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::live::{data_of, live, next, second_process, subscribe};

const SEND: &str = "mutation($to: ID!, $body: String!) { sendMessage(input: { toUserId: $to, body: $body }) { id body createdAt sender { id } conversation { id unreadCount with { id } } } }";
const CONVERSATIONS: &str = "query($first: Int, $after: String) { viewer { conversations(first: $first, after: $after) { nodes { id unreadCount with { id } lastMessage { id body sender { id } } } pageInfo { hasNextPage endCursor } } } }";
const MESSAGES: &str = "query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Conversation { messages(first: $first, after: $after) { nodes { id body sender { id } } pageInfo { hasNextPage endCursor } } } } }";
const MARK_READ: &str = "mutation($id: ID!) { markConversationRead(input: { conversationId: $id }) { id unreadCount } }";
const NODE: &str = "query($id: ID!) { node(id: $id) { id ... on Message { body } } }";
const BLOCK: &str = "mutation($u: ID!) { blockUser(input: { userId: $u }) { id } }";
const UNBLOCK: &str = "mutation($u: ID!) { unblockUser(input: { userId: $u }) { id } }";
const WITHDRAW: &str = "mutation($u: ID!) { withdrawMeeting(input: { userId: $u }) { id status } }";
const RECEIVED: &str =
    "subscription { messageReceived { id body sender { id } conversation { id } } }";
const REPORT_MESSAGE: &str =
    "mutation($id: ID!, $r: String!) { reportMessage(input: { messageId: $id, reason: $r }) }";
const REPORT_COMMENT: &str =
    "mutation($id: ID!, $r: String!) { reportComment(input: { commentId: $id, reason: $r }) }";
const COMMENT: &str =
    "mutation($e: ID!, $b: String!) { addComment(input: { eventId: $e, body: $b }) { id } }";
const EXPORT: &str = "{ exportMyData }";

impl TestApp {
    /// `from` writes `body` to `to`: the whole answer.
    async fn send(&self, from: &Member, to: &Member, body: &str) -> Value {
        self.graphql(
            Some(&from.access_token),
            SEND,
            json!({ "to": to.id, "body": body }),
        )
        .await
    }

    /// `from` writes to `to` (panics when refused): the message.
    async fn sent(&self, from: &Member, to: &Member, body: &str) -> Value {
        let answer = self.send(from, to, body).await;
        assert!(
            answer["data"]["sendMessage"]["id"].is_string(),
            "{} to {}: {answer}",
            from.id,
            to.id
        );
        answer["data"]["sendMessage"].clone()
    }

    /// The first page of `member`'s conversations (up to `first`) after `after`.
    async fn conversations(&self, member: &Member, first: i64, after: Option<&str>) -> Value {
        self.data_as(
            member,
            CONVERSATIONS,
            json!({ "first": first, "after": after }),
        )
        .await["viewer"]["conversations"]
            .clone()
    }

    /// `member`'s conversations (the first 20).
    async fn conversation_nodes(&self, member: &Member) -> Vec<Value> {
        self.conversations(member, 20, None).await["nodes"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn export_of(&self, member: &Member) -> Value {
        let data = self.data_as(member, EXPORT, json!({})).await;
        serde_json::from_str(data["exportMyData"].as_str().unwrap()).unwrap()
    }
}

/// Ann organises Hack Nights; Bob and Cy are ACTIVE members of it.
async fn community(app: &TestApp) -> (Member, String, Member, Member) {
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let bob = app
        .new_member_of(&group.id, "bob@example.com", "Bob", Address::Unverified)
        .await;
    let cy = app
        .new_member_of(&group.id, "cy@example.com", "Cy", Address::Unverified)
        .await;
    (ann, group.id, bob, cy)
}

fn with_of(nodes: &[Value]) -> Vec<&str> {
    nodes
        .iter()
        .map(|n| n["with"]["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn strangers_and_co_members_may_not_write_but_organisers_and_hosts_may_be_written_to() {
    let app = spawn_app().await;
    let (ann, group_id, bob, cy) = community(&app).await;
    let stranger = app.sign_up("stranger@example.com", "Stranger").await;
    let hal = app.member_of(&group_id, "hal@example.com").await;
    let dee = app.member_of(&group_id, "dee@example.com").await;
    app.give_role(&ann, &group_id, &hal, "EVENT_HOST").await;
    app.give_role(&ann, &group_id, &dee, "CO_ORGANIZER").await;
    app.create_event(&hal, event_input(&group_id, json!({})))
        .await;

    for (from, to, why) in [
        (&stranger, &bob, "a stranger"),
        (&stranger, &ann, "not a member of Ann's group"),
        (&bob, &cy, "co-members who never met"),
        (&ann, &cy, "an organiser to a member who never wrote"),
    ] {
        let body = app.send(from, to, "Hello").await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{why}: {body}");
    }
    assert!(app.conversation_nodes(&cy).await.is_empty());

    // The organiser, a co-organiser and a host are reachable from their group.
    let to_ann = app.sent(&bob, &ann, "  Is there parking?  ").await;
    assert_eq!(to_ann["body"], "Is there parking?");
    assert_eq!(to_ann["sender"]["id"], bob.id.as_str());
    assert_eq!(to_ann["conversation"]["with"]["id"], ann.id.as_str());
    app.sent(&cy, &dee, "Can I help at the door?").await;
    app.sent(&cy, &hal, "Thanks for last week").await;

    // Whoever was written to may answer, and then the two go on.
    let answer = app.sent(&ann, &bob, "Yes, behind the building").await;
    assert_eq!(
        answer["conversation"]["id"], to_ann["conversation"]["id"],
        "one conversation per pair"
    );
    app.sent(&bob, &ann, "Thanks!").await;
    app.sent(&hal, &cy, "You are welcome").await;
    assert_eq!(app.notification_kinds(&ann).await, ["MESSAGE", "MESSAGE"]);

    // A member who left the group may no longer start one with its organiser.
    let eve = app.member_of(&group_id, "eve@example.com").await;
    app.graphql(
        Some(&eve.access_token),
        LEAVE_GROUP,
        json!({ "id": group_id }),
    )
    .await;
    let body = app.send(&eve, &ann, "Hello").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // The text, the recipient.
    for bad in ["   ".to_owned(), "x".repeat(2_001)] {
        let body = app.send(&bob, &ann, &bad).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.body", "{body}");
    }
    app.sent(&bob, &ann, &"y".repeat(2_000)).await;
    let body = app.send(&bob, &bob, "me").await;
    assert_eq!(error_field(&body), "input.toUserId", "{body}");
    let body = app
        .graphql(
            Some(&bob.access_token),
            SEND,
            json!({ "to": unknown_id("User"), "body": "hi" }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = app
        .graphql(None, SEND, json!({ "to": ann.id, "body": "hi" }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn members_who_met_in_person_may_write_until_the_meeting_is_withdrawn() {
    let app = spawn_app().await;
    let (ann, group_id, bob, cy) = community(&app).await;
    let event_id = app
        .create_event(&ann, starting_soon(&group_id, json!({})))
        .await
        .id;
    for member in [&bob, &cy] {
        app.going(member, &event_id).await;
    }
    app.hosts_check_in(&ann, &ann, &event_id, &[&bob, &cy])
        .await;

    // A meeting not yet confirmed does not count.
    let pending = app.meet(&bob, &cy, &event_id).await;
    let body = app.send(&bob, &cy, "Nice to meet you").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.respond(&cy, &pending, true).await;
    assert_eq!(body["data"]["respondToMeeting"]["status"], "CONFIRMED");
    app.sent(&bob, &cy, "Nice to meet you").await;
    app.sent(&cy, &bob, "Likewise").await;

    // Withdrawn, it no longer lets Bob write; Cy may still answer the conversation Bob
    // started.
    let body = app
        .graphql(Some(&cy.access_token), WITHDRAW, json!({ "u": bob.id }))
        .await;
    assert_eq!(body["data"]["withdrawMeeting"][0]["status"], "WITHDRAWN");
    let body = app.send(&bob, &cy, "Hello again").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    app.sent(&cy, &bob, "One last word").await;
}

#[tokio::test]
async fn blocking_forbids_messages_both_ways_and_hides_the_conversation() {
    let app = spawn_app().await;
    let (ann, _group_id, bob, cy) = community(&app).await;
    let first = app.sent(&bob, &ann, "Hello").await;
    let conversation = first["conversation"]["id"].as_str().unwrap().to_owned();
    app.sent(&cy, &ann, "Hi").await;

    for (blocker, blocked) in [(&ann, &bob), (&bob, &ann)] {
        let body = app
            .graphql(
                Some(&blocker.access_token),
                BLOCK,
                json!({ "u": blocked.id }),
            )
            .await;
        assert_eq!(body["data"]["blockUser"]["id"], blocked.id.as_str());
        for (from, to) in [(&ann, &bob), (&bob, &ann)] {
            let body = app.send(from, to, "Are you there?").await;
            assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
        }
        assert_eq!(
            with_of(&app.conversation_nodes(&ann).await),
            [cy.id.as_str()]
        );
        assert!(app.conversation_nodes(&bob).await.is_empty());
        for member in [&ann, &bob] {
            let body = app
                .graphql(
                    Some(&member.access_token),
                    NODE,
                    json!({ "id": first["id"] }),
                )
                .await;
            assert!(body["data"]["node"].is_null(), "{body}");
            let body = app
                .graphql(
                    Some(&member.access_token),
                    MARK_READ,
                    json!({ "id": conversation }),
                )
                .await;
            assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        }
        app.graphql(
            Some(&blocker.access_token),
            UNBLOCK,
            json!({ "u": blocked.id }),
        )
        .await;
    }
    // Unblocked, the conversation is back as it was.
    let nodes = app.conversation_nodes(&ann).await;
    assert_eq!(with_of(&nodes), [cy.id.as_str(), bob.id.as_str()]);
    app.sent(&ann, &bob, "Sorry, wrong button").await;
}

#[tokio::test]
async fn a_banned_member_sends_nothing_more_and_their_conversations_go() {
    let app = spawn_app().await;
    let (ann, _group_id, bob, cy) = community(&app).await;
    let spam = app.sent(&bob, &ann, "Cheap watches").await;
    app.sent(&cy, &ann, "See you Thursday").await;

    let ban = kith::domain::reports::ban(&app.state.db, uuid_of(&bob.id), Utc::now())
        .await
        .unwrap();
    app.state.outlets.deliver_now(ban).await;

    let body = app.send(&bob, &ann, "More watches").await;
    assert!(body["data"].is_null() || body["data"]["sendMessage"].is_null());
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    // Even with a fresh session they could not, had they one: Ann cannot write to them.
    let body = app.send(&ann, &bob, "Stop it").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(
        with_of(&app.conversation_nodes(&ann).await),
        [cy.id.as_str()]
    );
    let body = app
        .graphql(Some(&ann.access_token), NODE, json!({ "id": spam["id"] }))
        .await;
    assert!(body["data"]["node"].is_null(), "{body}");
}

#[tokio::test]
async fn unread_counts_follow_the_messages_and_reading_clears_them() {
    let app = spawn_app().await;
    let (ann, _group_id, bob, cy) = community(&app).await;
    for n in 1..=3 {
        app.sent(&bob, &ann, &format!("message {n}")).await;
    }
    let nodes = app.conversation_nodes(&ann).await;
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["unreadCount"], 3);
    assert_eq!(nodes[0]["with"]["id"], bob.id.as_str());
    assert_eq!(nodes[0]["lastMessage"]["body"], "message 3");
    assert_eq!(nodes[0]["lastMessage"]["sender"]["id"], bob.id.as_str());
    let conversation = nodes[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.conversation_nodes(&bob).await[0]["unreadCount"],
        0,
        "one's own messages are never unread"
    );

    // Only its two members may mark it read.
    let body = app
        .graphql(
            Some(&cy.access_token),
            MARK_READ,
            json!({ "id": conversation }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = app
        .graphql(
            Some(&ann.access_token),
            MARK_READ,
            json!({ "id": conversation }),
        )
        .await;
    assert_eq!(body["data"]["markConversationRead"]["unreadCount"], 0);
    assert_eq!(app.conversation_nodes(&ann).await[0]["unreadCount"], 0);

    // Answering reads it too; the other side now has one unread.
    app.sent(&bob, &ann, "message 4").await;
    app.sent(&ann, &bob, "answer").await;
    assert_eq!(app.conversation_nodes(&ann).await[0]["unreadCount"], 0);
    let bobs = app.conversation_nodes(&bob).await;
    assert_eq!(bobs[0]["unreadCount"], 1);
    assert_eq!(bobs[0]["lastMessage"]["body"], "answer");

    // MESSAGE is pushed by default, not mailed.
    let data = app
        .data_as(
            &ann,
            "{ viewer { notificationSettings { kind push email } } }",
            json!({}),
        )
        .await;
    let setting = data["viewer"]["notificationSettings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "MESSAGE")
        .unwrap()
        .clone();
    assert_eq!(
        setting,
        json!({ "kind": "MESSAGE", "push": true, "email": false })
    );
}

#[tokio::test]
async fn conversations_run_latest_activity_first_and_both_lists_page() {
    let app = spawn_app().await;
    let (ann, group_id, bob, cy) = community(&app).await;
    let mut writers = vec![bob.clone(), cy.clone()];
    for n in 0..3 {
        writers.push(app.member_of(&group_id, &format!("m{n}@example.com")).await);
    }
    let mut hellos = Vec::new();
    for writer in &writers {
        hellos.push(app.sent(writer, &ann, "hello").await["id"].clone());
    }
    // Bob writes again: his conversation moves to the top.
    app.sent(&bob, &ann, "me again").await;
    let mut expected: Vec<&str> = writers[1..].iter().rev().map(|w| w.id.as_str()).collect();
    expected.insert(0, bob.id.as_str());

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = app.conversations(&ann, 2, after.as_deref()).await;
        let nodes = page["nodes"].as_array().unwrap();
        seen.extend(with_of(nodes).into_iter().map(str::to_owned));
        pages += 1;
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen, expected,
        "latest activity first, none skipped or repeated"
    );

    // A conversation's messages, newest first, in pages.
    let mut written = Vec::new();
    for n in 0..4 {
        let from = if n % 2 == 0 { &cy } else { &ann };
        let to = if n % 2 == 0 { &ann } else { &cy };
        written.push(app.sent(from, to, &format!("line {n}")).await["id"].clone());
    }
    let conversation = app.conversation_nodes(&cy).await[0]["id"].clone();
    let mut read = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = app
            .data_as(
                &cy,
                MESSAGES,
                json!({ "id": conversation, "first": 2, "after": after }),
            )
            .await;
        let messages = &data["node"]["messages"];
        read.extend(
            messages["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].clone()),
        );
        if messages["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = messages["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    written.reverse();
    written.push(hellos[1].clone());
    assert_eq!(read, written, "newest first: {read:?}");
    let body = app
        .graphql(
            Some(&cy.access_token),
            MESSAGES,
            json!({ "id": conversation, "first": 101 }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // Someone else's conversation is not theirs to read.
    let body = app
        .graphql(
            Some(&bob.access_token),
            MESSAGES,
            json!({ "id": conversation }),
        )
        .await;
    assert!(body["data"]["node"].is_null(), "{body}");
}

#[tokio::test]
async fn messages_are_heard_live_by_the_recipient_and_the_senders_devices() {
    let app = spawn_app().await;
    let (ann, _group_id, bob, cy) = community(&app).await;
    let mut anns = live(&app.address, &ann).await;
    subscribe(&mut anns, "m", RECEIVED, json!({})).await;
    let mut bobs = live(&app.address, &bob).await;
    subscribe(&mut bobs, "m", RECEIVED, json!({})).await;
    let mut cys = live(&app.address, &cy).await;
    subscribe(&mut cys, "m", RECEIVED, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let sent = app.sent(&bob, &ann, "Live!").await;
    for ws in [&mut anns, &mut bobs] {
        let heard = data_of(ws, "m").await["messageReceived"].clone();
        assert_eq!(heard["id"], sent["id"], "{heard}");
        assert_eq!(heard["body"], "Live!");
        assert_eq!(heard["sender"]["id"], bob.id.as_str());
        assert_eq!(heard["conversation"]["id"], sent["conversation"]["id"]);
    }
    // Cy heard nothing of it: the next thing Cy hears is Cy's own message.
    let own = app.sent(&cy, &ann, "Mine").await;
    let heard = data_of(&mut cys, "m").await["messageReceived"].clone();
    assert_eq!(heard["id"], own["id"], "{heard}");

    let heard = data_of(&mut anns, "m").await["messageReceived"].clone();
    assert_eq!(heard["id"], own["id"], "Cy's message to Ann: {heard}");
    assert!(
        next(&mut bobs, std::time::Duration::from_millis(300))
            .await
            .is_none(),
        "Bob hears nothing of Cy's"
    );
}

#[tokio::test]
async fn a_message_through_one_process_reaches_a_subscriber_of_another() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    let app = spawn_app().await;
    let (ann, _group_id, bob, _cy) = community(&app).await;
    let other = second_process(&app.database_url).await;
    let mut anns = live(&other.address, &ann).await;
    subscribe(&mut anns, "m", RECEIVED, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let sent = app.sent(&bob, &ann, "Across processes").await;
    let heard = data_of(&mut anns, "m").await["messageReceived"].clone();
    assert_eq!(heard["id"], sent["id"], "{heard}");
    assert_eq!(heard["body"], "Across processes");
}

#[tokio::test]
async fn senders_are_rate_limited_and_new_conversations_capped_counting_refusals() {
    let app = spawn_app().await;
    let (ann, _group_id, bob, cy) = community(&app).await;
    let stranger = app.sign_up("stranger@example.com", "Stranger").await;

    for n in 0..30 {
        app.sent(&cy, &ann, &format!("flood {n}")).await;
    }
    let body = app.send(&cy, &ann, "one too many").await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            <= 60
    );

    // Twenty tries at conversations that may not be started use up Bob's day.
    for _ in 0..20 {
        let body = app.send(&bob, &stranger, "psst").await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let body = app.send(&bob, &ann, "a real question").await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    // In a conversation that exists, answering is not a new conversation.
    app.sent(&ann, &cy, "Please slow down").await;
    let nodes = app.conversation_nodes(&ann).await;
    assert_eq!(with_of(&nodes), [cy.id.as_str()]);
}

#[tokio::test]
async fn a_retried_send_with_the_same_idempotency_key_sends_once() {
    let app = spawn_app().await;
    let (ann, _group_id, bob, _cy) = community(&app).await;
    let request = json!({ "query": SEND, "variables": { "to": ann.id, "body": "Only once" } });
    let mut ids = Vec::new();
    for _ in 0..2 {
        let body: Value = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&bob.access_token)
            .header("idempotency-key", "send-1")
            .json(&request)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(body["data"]["sendMessage"]["id"].clone());
    }
    assert!(ids[0].is_string(), "{ids:?}");
    assert_eq!(ids[0], ids[1]);
    let data = app
        .data_as(
            &ann,
            MESSAGES,
            json!({ "id": app.conversation_nodes(&ann).await[0]["id"] }),
        )
        .await;
    assert_eq!(
        data["node"]["messages"]["nodes"].as_array().unwrap().len(),
        1
    );
    assert_eq!(app.conversation_nodes(&ann).await[0]["unreadCount"], 1);
}

/// `kith reports` against this app's database: its standard output.
fn kith_reports(app: &TestApp) -> String {
    let output = kith_command()
        .arg("reports")
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn reports_of_a_message_or_a_comment_keep_its_text_for_the_moderators() {
    let app = spawn_app().await;
    let (ann, group_id, bob, cy) = community(&app).await;
    let stranger = app.sign_up("stranger@example.com", "Stranger").await;
    let event = app
        .create_event(&ann, event_input(&group_id, json!({})))
        .await;
    let message = app.sent(&bob, &ann, "Send me your bank details").await;
    let body = app
        .graphql(
            Some(&bob.access_token),
            COMMENT,
            json!({ "e": event.id, "b": "Everyone here is an idiot" }),
        )
        .await;
    let comment = body["data"]["addComment"]["id"].clone();

    let report = |member: &Member, query: &'static str, id: &Value, reason: &str| {
        let token = member.access_token.clone();
        let variables = json!({ "id": id, "r": reason });
        let app = &app;
        async move { app.graphql(Some(&token), query, variables).await }
    };
    // Only the recipient reports a message; only who can see a comment reports it.
    let body = report(&cy, REPORT_MESSAGE, &message["id"], "Scam").await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = report(&bob, REPORT_MESSAGE, &message["id"], "Scam").await;
    assert_eq!(error_field(&body), "input.messageId", "{body}");
    let body = report(&stranger, REPORT_COMMENT, &comment, "Rude").await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = report(&bob, REPORT_COMMENT, &comment, "Rude").await;
    assert_eq!(error_field(&body), "input.commentId", "{body}");
    let body = report(&ann, REPORT_MESSAGE, &message["id"], " ").await;
    assert_eq!(error_field(&body), "input.reason", "{body}");

    let body = report(&ann, REPORT_MESSAGE, &message["id"], "Scam attempt").await;
    assert_eq!(body["data"]["reportMessage"], true, "{body}");
    let body = report(&cy, REPORT_COMMENT, &comment, "Insults").await;
    assert_eq!(body["data"]["reportComment"], true, "{body}");

    // The comment goes; its text stays with the report.
    let body = app
        .graphql(
            Some(&bob.access_token),
            "mutation($id: ID!) { deleteComment(input: { commentId: $id }) { deleted } }",
            json!({ "id": comment }),
        )
        .await;
    assert_eq!(body["data"]["deleteComment"]["deleted"], true, "{body}");
    let listed = kith_reports(&app);
    assert!(listed.contains("2 open report"), "{listed}");
    assert!(listed.contains("Scam attempt"), "{listed}");
    assert!(listed.contains("\"Send me your bank details\""), "{listed}");
    assert!(listed.contains("Insults"), "{listed}");
    assert!(listed.contains("\"Everyone here is an idiot\""), "{listed}");
    assert!(listed.contains(&bob.id), "{listed}");

    let made = app.export_of(&ann).await["reportsMade"].clone();
    assert_eq!(made[0]["messageId"], message["id"], "{made}");
    assert_eq!(made[0]["quoted"], "Send me your bank details");
}

#[tokio::test]
async fn the_export_has_the_messages_sent_and_deleting_an_account_deletes_its_conversations() {
    let app = spawn_app().await;
    let (ann, _group_id, bob, cy) = community(&app).await;
    let first = app.sent(&bob, &ann, "Question").await;
    app.sent(&ann, &bob, "Answer").await;
    app.sent(&bob, &ann, "Thanks").await;
    app.sent(&cy, &ann, "Hi").await;

    let export = app.export_of(&bob).await;
    let messages = export["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        2,
        "what Bob wrote, not what Ann did: {export}"
    );
    assert_eq!(messages[0]["id"], first["id"]);
    assert_eq!(messages[0]["body"], "Question");
    assert_eq!(messages[0]["to"]["id"], ann.id.as_str());
    assert_eq!(messages[0]["to"]["displayName"], "Ann");
    assert_eq!(messages[0]["conversationId"], first["conversation"]["id"]);
    assert_eq!(messages[1]["body"], "Thanks");

    let body = app
        .graphql(
            Some(&bob.access_token),
            "mutation($p: String!) { deleteAccount(input: { password: $p }) }",
            json!({ "p": PASSWORD }),
        )
        .await;
    assert_eq!(body["data"]["deleteAccount"], true, "{body}");
    assert_eq!(
        with_of(&app.conversation_nodes(&ann).await),
        [cy.id.as_str()]
    );
    let body = app
        .graphql(Some(&ann.access_token), NODE, json!({ "id": first["id"] }))
        .await;
    assert!(body["data"]["node"].is_null(), "{body}");
    assert!(
        app.export_of(&ann).await["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn messages_sent_at_once_make_one_conversation_and_count_each() {
    let app = spawn_app().await;
    let (ann, _group_id, bob, _cy) = community(&app).await;
    let bodies: Vec<String> = (0..6).map(|n| format!("at once {n}")).collect();
    let sends = bodies.iter().map(|body| app.send(&bob, &ann, body));
    let answers = futures::future::join_all(sends).await;
    for answer in &answers {
        assert!(answer["data"]["sendMessage"]["id"].is_string(), "{answer}");
    }
    let conversation = &answers[0]["data"]["sendMessage"]["conversation"]["id"];
    assert!(
        answers
            .iter()
            .all(|a| a["data"]["sendMessage"]["conversation"]["id"] == *conversation),
        "{answers:?}"
    );
    let nodes = app.conversation_nodes(&ann).await;
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["unreadCount"], 6);
    let data = app
        .data_as(&ann, MESSAGES, json!({ "id": conversation, "first": 10 }))
        .await;
    assert_eq!(
        data["node"]["messages"]["nodes"].as_array().unwrap().len(),
        6
    );
}

/// The statements run so far, as `/metrics` counts them.
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

/// Waits until no statement has run for a while: the work after the sends' commits (their
/// notifications and pushes) is done.
async fn settled(app: &TestApp) {
    let mut last = statements(app).await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = statements(app).await;
        if now == last {
            return;
        }
        last = now;
    }
}

#[tokio::test]
async fn the_list_of_conversations_costs_as_many_statements_for_two_as_for_six() {
    // Without the background loops, whose statements the counter would count too.
    let app = spawn_app_with(&[("KITH_BACKGROUND_JOBS", "off")]).await;
    let (ann, group_id, bob, cy) = community(&app).await;
    let mut writers = vec![bob, cy];
    let mut costs = Vec::new();
    for count in [2, 6] {
        while writers.len() < count {
            let n = writers.len();
            writers.push(app.member_of(&group_id, &format!("m{n}@example.com")).await);
        }
        for writer in &writers {
            app.sent(writer, &ann, "hello").await;
        }
        settled(&app).await;
        // The fewest of three runs: work after a commit only ever adds.
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = statements(&app).await;
            let page = app.conversations(&ann, 20, None).await;
            assert_eq!(page["nodes"].as_array().unwrap().len(), count);
            fewest = fewest.min(statements(&app).await - before);
        }
        costs.push(fewest);
    }
    assert_eq!(costs[0], costs[1], "{costs:?}");
    // Admission, the viewer, the page, then one for the other members and one for the
    // latest messages.
    assert!(costs[0] <= 5, "{costs:?}");
}
