//! Private messages between members who met, and reports of what members wrote.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;
use entity::{conversation_member, message};
use uuid::Uuid;

use crate::connection_name;
use crate::domain::messages::{self, ActivityKey, MessageKey};
use crate::domain::reports;
use crate::error::AppError;
use crate::graphql::context::{deliver, loaders, member_id, state};
use crate::graphql::ids::{self, Kind};
use crate::graphql::limits;
use crate::graphql::loaders::{MessageById, UserById};
use crate::graphql::pagination::{Conn, PageRequest, connection};
use crate::graphql::scalars::Time;
use crate::graphql::users::User;

pub struct Message(pub message::Model);

/// A private message, seen by its sender and its recipient only (and by neither while one
/// of them blocks the other).
#[Object]
impl Message {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Message, self.0.id)
    }

    /// Who wrote it.
    async fn sender(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        loaders(ctx)
            .load_one(UserById(self.0.sender_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }

    /// 1–2,000 characters.
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// When it was sent.
    async fn created_at(&self) -> Time {
        Time(self.0.created_at)
    }

    /// The conversation it belongs to, as the viewer sees it.
    async fn conversation(&self, ctx: &Context<'_>) -> async_graphql::Result<Conversation> {
        let viewer = member_id(ctx)?;
        messages::visible_side(&state(ctx).db, self.0.conversation_id, viewer)
            .await?
            .map(Conversation)
            .ok_or_else(|| AppError::NotFound("conversation").into())
    }
}

/// The viewer's side of a conversation.
pub struct Conversation(pub conversation_member::Model);

/// The private messages between the viewer and one other member: one conversation per
/// pair, whoever wrote first. Hidden while either of the two blocks the other.
#[Object]
impl Conversation {
    /// Opaque, stable ID (the same for both members).
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Conversation, self.0.conversation_id)
    }

    /// The other member.
    async fn with(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        loaders(ctx)
            .load_one(UserById(self.0.other_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }

    /// The latest message, by either member.
    async fn last_message(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Message>> {
        let Some(id) = self.0.last_message_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).load_one(MessageById(id)).await?.map(Message))
    }

    /// How many messages from the other member arrived since the viewer last read the
    /// conversation (`markConversationRead`, or sending a message in it). Exact: it is kept
    /// as messages arrive, so reading it costs nothing however long the conversation.
    async fn unread_count(&self) -> i32 {
        self.0.unread_count
    }

    /// Its messages, newest first. `first` is 1–100 (default 20).
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<MessageConnection> {
        let page = PageRequest::<MessageKey>::parse(first, after)?;
        let rows = messages::messages_of(
            &state(ctx).db,
            self.0.conversation_id,
            page.after,
            page.fetch_limit(),
        )
        .await?;
        Ok(connection(
            &page,
            rows,
            |m: &message::Model| (m.created_at, m.id),
            |m| (Message(m), EmptyFields),
            EmptyFields,
        ))
    }
}

connection_name!(MessageConnectionName, "MessageConnection", "MessageEdge");
pub type MessageConnection = Conn<Message, MessageConnectionName>;
connection_name!(
    ConversationConnectionName,
    "ConversationConnection",
    "ConversationEdge"
);
pub type ConversationConnection = Conn<Conversation, ConversationConnectionName>;

/// `Viewer.conversations`: the viewer's, latest activity first.
pub async fn of_viewer(
    ctx: &Context<'_>,
    viewer: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<ConversationConnection> {
    let page = PageRequest::<ActivityKey>::parse(first, after)?;
    let rows =
        messages::conversations_of(&state(ctx).db, viewer, page.after, page.fetch_limit()).await?;
    Ok(connection(
        &page,
        rows,
        |c: &conversation_member::Model| (c.last_message_at, c.conversation_id),
        |c| (Conversation(c), EmptyFields),
        EmptyFields,
    ))
}

/// A private message to send.
#[derive(InputObject)]
pub struct SendMessageInput {
    /// The member to write to.
    pub to_user_id: ID,
    /// 1–2,000 characters (spaces around it are trimmed).
    pub body: String,
}

/// The conversation the viewer has read.
#[derive(InputObject)]
pub struct MarkConversationReadInput {
    /// The conversation.
    pub conversation_id: ID,
}

/// A comment to report to the moderators.
#[derive(InputObject)]
pub struct ReportCommentInput {
    /// The comment.
    pub comment_id: ID,
    /// What is wrong with it: 1–2,000 characters.
    pub reason: String,
}

/// A message to report to the moderators.
#[derive(InputObject)]
pub struct ReportMessageInput {
    /// The message (one the viewer received).
    pub message_id: ID,
    /// What is wrong with it: 1–2,000 characters.
    pub reason: String,
}

#[derive(Default)]
pub struct MessageMutation;

#[Object]
impl MessageMutation {
    /// Sends a private message. Allowed to a member the viewer met in person (a CONFIRMED
    /// meeting; a withdrawn one does not count), or to an ORGANIZER or CO_ORGANIZER of a
    /// group the viewer is an ACTIVE member of, or to a host of one of its events (upcoming
    /// or past); either member may always answer in a conversation the other started.
    /// FORBIDDEN otherwise, between members of whom either blocked the other, and for a
    /// banned member. `body` 1–2,000 characters (BAD_USER_INPUT on `input.body`); not to
    /// oneself (BAD_USER_INPUT on `input.toUserId`). At most 30 messages a minute and 300 an
    /// hour per member, and 20 new conversations a day (RATE_LIMITED, refused attempts
    /// counted too). The recipient is told (MESSAGE: by push, not by mail unless they choose
    /// it) and hears it through `messageReceived`, as do the sender's other devices. Sending
    /// marks the conversation read for the sender.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        input: SendMessageInput,
    ) -> async_graphql::Result<Message> {
        let viewer = member_id(ctx)?;
        let to = ids::decode(Kind::User, "input.toUserId", &input.to_user_id)?;
        let sent = messages::send(&state(ctx).db, viewer, to, &input.body, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(Message(deliver(ctx, sent)))
    }

    /// Marks the conversation read: its `unreadCount` becomes 0 and `readAt` now. NOT_FOUND
    /// for a conversation the viewer is not in, or hidden by a block.
    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        input: MarkConversationReadInput,
    ) -> async_graphql::Result<Conversation> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(
            Kind::Conversation,
            "input.conversationId",
            &input.conversation_id,
        )?;
        let side = messages::mark_read(&state(ctx).db, viewer, id, Utc::now()).await?;
        Ok(Conversation(side))
    }

    /// Reports a comment to the moderators, who read a copy of its text as it is now (with
    /// `kith reports`), whatever becomes of it. Only someone who can see the comment
    /// (NOT_FOUND otherwise); one's own is BAD_USER_INPUT on `input.commentId`; a deleted
    /// one is CONFLICT; `reason` 1–2,000 characters (BAD_USER_INPUT on `input.reason`). The
    /// author is not told. True.
    async fn report_comment(
        &self,
        ctx: &Context<'_>,
        input: ReportCommentInput,
    ) -> async_graphql::Result<bool> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(Kind::Comment, "input.commentId", &input.comment_id)?;
        reports::report_comment(&state(ctx).db, viewer, id, &input.reason, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(true)
    }

    /// Reports a message the viewer received to the moderators, who read a copy of its
    /// text. Only its recipient (NOT_FOUND for others; its sender is BAD_USER_INPUT on
    /// `input.messageId`), even after blocking the sender; `reason` 1–2,000 characters
    /// (BAD_USER_INPUT on `input.reason`). The sender is not told. True.
    async fn report_message(
        &self,
        ctx: &Context<'_>,
        input: ReportMessageInput,
    ) -> async_graphql::Result<bool> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(Kind::Message, "input.messageId", &input.message_id)?;
        reports::report_message(&state(ctx).db, viewer, id, &input.reason, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(true)
    }
}
