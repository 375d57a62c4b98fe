//! Conversation: comments under events (with one level of replies) and announcements.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;
use entity::comment;
use uuid::Uuid;

use crate::connection_name;
use crate::domain::comments::{self, NewAnnouncement, NewComment};
use crate::domain::visibility;
use crate::graphql::context::{deliver, loaders, member_id, state};
use crate::graphql::ids::{self, Kind};
use crate::graphql::limits;
use crate::graphql::loaders::{ReplyCountOf, UserById};
use crate::graphql::pagination::{Conn, PageRequest, connection};
use crate::graphql::scalars::Time;
use crate::graphql::users::User;

pub struct Comment(pub comment::Model);

/// What a member said under an event, or a reply to such a comment (one level deep). Only
/// ACTIVE members of the event's group read comments. Comments of a member the viewer
/// blocked, or who blocked the viewer, are left out of every list (with the replies under
/// them) and are not found by `node(id:)`.
#[Object]
impl Comment {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Comment, self.0.id)
    }

    /// Who wrote it; null once their account was deleted. (A comment of someone blocked
    /// either way is never given out at all, so its author is not either.)
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(author) = self.0.author_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).load_one(UserById(author)).await?.map(User))
    }

    /// 1–2,000 characters; null once deleted.
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }

    /// When it was written.
    async fn created_at(&self) -> Time {
        Time(self.0.created_at)
    }

    /// When its author last changed it; null if never.
    async fn edited_at(&self) -> Option<Time> {
        self.0.edited_at.map(Time)
    }

    /// Whether it was deleted (by its author, a host or an organiser, or with its author's
    /// account): it keeps its place, with `body` null.
    async fn deleted(&self) -> bool {
        self.0.deleted_at.is_some()
    }

    /// The comment this one replies to; null for a comment at the top (or when the viewer
    /// may not see that comment).
    async fn reply_to(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Comment>> {
        let Some(parent_id) = self.0.parent_id else {
            return Ok(None);
        };
        let db = &state(ctx).db;
        let viewer = member_id(ctx)?;
        let Some(parent) = comments::find(db, parent_id).await? else {
            return Ok(None);
        };
        Ok(comments::visible(db, &parent, viewer)
            .await?
            .then_some(Comment(parent)))
    }

    /// The replies to it, oldest first (always empty for a reply). `first` is 1–100
    /// (default 20).
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn replies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CommentConnection> {
        let page = PageRequest::<Uuid>::parse(first, after)?;
        if self.0.parent_id.is_some() {
            return Ok(connection(
                &page,
                Vec::new(),
                |c: &comment::Model| c.id,
                |c| (Comment(c), EmptyFields),
                EmptyFields,
            ));
        }
        let viewer = member_id(ctx)?;
        let rows = comments::replies(
            &state(ctx).db,
            viewer,
            &self.0,
            page.after,
            page.fetch_limit(),
        )
        .await?;
        Ok(comment_page(&page, rows))
    }

    /// How many replies it has that the viewer sees (deleted ones included).
    async fn reply_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        if self.0.parent_id.is_some() {
            return Ok(0);
        }
        let viewer = member_id(ctx)?;
        Ok(loaders(ctx)
            .load_one(ReplyCountOf(self.0.id, viewer))
            .await?
            .unwrap_or(0))
    }
}

connection_name!(CommentConnectionName, "CommentConnection", "CommentEdge");
pub type CommentConnection = Conn<Comment, CommentConnectionName>;

/// A page of comments in id (so time) order.
pub fn comment_page(page: &PageRequest<Uuid>, rows: Vec<comment::Model>) -> CommentConnection {
    connection(
        page,
        rows,
        |c| c.id,
        |c| (Comment(c), EmptyFields),
        EmptyFields,
    )
}

/// `Event.comments`: for ACTIVE members of the group (FORBIDDEN otherwise).
pub async fn of_event(
    ctx: &Context<'_>,
    event: &entity::event::Model,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<CommentConnection> {
    let db = &state(ctx).db;
    let viewer = member_id(ctx)?;
    visibility::comments(db, event, viewer).await?;
    let page = PageRequest::<Uuid>::parse(first, after)?;
    let rows = comments::of_event(db, viewer, event.id, page.after, page.fetch_limit()).await?;
    Ok(comment_page(&page, rows))
}

/// A new comment.
#[derive(InputObject)]
pub struct AddCommentInput {
    /// The event to comment on.
    pub event_id: ID,
    /// 1–2,000 characters (spaces around it are trimmed).
    pub body: String,
    /// The comment (at the top, not itself a reply) this one answers.
    pub reply_to_id: Option<ID>,
}

/// A new text for one's own comment.
#[derive(InputObject)]
pub struct EditCommentInput {
    /// The comment.
    pub comment_id: ID,
    /// 1–2,000 characters (spaces around it are trimmed).
    pub body: String,
}

/// The comment to delete.
#[derive(InputObject)]
pub struct DeleteCommentInput {
    /// The comment.
    pub comment_id: ID,
}

/// Something to tell a group's members, or an event's attendees.
#[derive(InputObject)]
pub struct AnnounceInput {
    /// The group.
    pub group_id: ID,
    /// An event of the group: then only its GOING and WAITLISTED are told.
    pub event_id: Option<ID>,
    /// 1–2,000 characters (spaces around it are trimmed).
    pub message: String,
}

#[derive(Default)]
pub struct CommentMutation;

#[Object]
impl CommentMutation {
    /// Comments on an event, or replies to a comment at the top (`replyToId`; a reply to a
    /// reply is BAD_USER_INPUT on `input.replyToId`). ACTIVE members of the group only
    /// (FORBIDDEN); `body` 1–2,000 characters (BAD_USER_INPUT on `input.body`); at most 20
    /// a minute per member (RATE_LIMITED). The author of the comment replied to is told
    /// (COMMENT_REPLY), and the event's hosts (EVENT_COMMENT); never the commenter.
    /// Subscribers of `commentAdded` hear it.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        input: AddCommentInput,
    ) -> async_graphql::Result<Comment> {
        let viewer = member_id(ctx)?;
        let new = NewComment {
            event_id: ids::decode(Kind::Event, "input.eventId", &input.event_id)?,
            body: input.body,
            reply_to: input
                .reply_to_id
                .as_ref()
                .map(|id| ids::decode(Kind::Comment, "input.replyToId", id))
                .transpose()?,
        };
        let added = comments::add(&state(ctx).db, viewer, new, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(Comment(deliver(ctx, added)))
    }

    /// Changes the text of one's own comment (FORBIDDEN for anyone else); sets `editedAt`.
    /// A deleted comment is CONFLICT.
    async fn edit_comment(
        &self,
        ctx: &Context<'_>,
        input: EditCommentInput,
    ) -> async_graphql::Result<Comment> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(Kind::Comment, "input.commentId", &input.comment_id)?;
        let edited = comments::edit(&state(ctx).db, viewer, id, &input.body, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(Comment(edited))
    }

    /// Deletes a comment: its author, the event's hosts and the group's ORGANIZER or
    /// CO_ORGANIZER (FORBIDDEN for others). It keeps its place, with `body` null and
    /// `deleted` true; its replies stay.
    async fn delete_comment(
        &self,
        ctx: &Context<'_>,
        input: DeleteCommentInput,
    ) -> async_graphql::Result<Comment> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(Kind::Comment, "input.commentId", &input.comment_id)?;
        let deleted = comments::delete(&state(ctx).db, viewer, id, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(Comment(deleted))
    }

    /// Sends an ANNOUNCEMENT notification with `message` to every ACTIVE member of the
    /// group, or with `eventId` to the event's GOING and WAITLISTED; never to the announcer.
    /// The group's ORGANIZER or CO_ORGANIZER, or with `eventId` also the event's hosts
    /// (FORBIDDEN for others); `message` 1–2,000 characters (BAD_USER_INPUT on
    /// `input.message`); at most 3 per group in any 24 hours, however many are sent at once
    /// (RATE_LIMITED beyond). True.
    async fn announce(
        &self,
        ctx: &Context<'_>,
        input: AnnounceInput,
    ) -> async_graphql::Result<bool> {
        let viewer = member_id(ctx)?;
        let new = NewAnnouncement {
            group_id: ids::decode(Kind::Group, "input.groupId", &input.group_id)?,
            event_id: input
                .event_id
                .as_ref()
                .map(|id| ids::decode(Kind::Event, "input.eventId", id))
                .transpose()?,
            message: input.message,
        };
        let sent = comments::announce(&state(ctx).db, viewer, new, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        deliver(ctx, sent);
        Ok(true)
    }
}
