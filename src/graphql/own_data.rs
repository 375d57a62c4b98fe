//! The member's own data: taking all of it out, and deleting the account.

use async_graphql::{Context, InputObject, Object};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::export::{self, MyData};
use crate::domain::{deletion, images};
use crate::graphql::context::{deliver, member_id, state};
use crate::graphql::ids::{self, Kind};
use crate::graphql::limits;
use crate::media::Media;
use sea_orm::ActiveEnum;

#[derive(Default)]
pub struct OwnDataQuery;

#[Object]
impl OwnDataQuery {
    /// Everything stored about the viewer, as one JSON document (a string): `profile`,
    /// `interests`, `memberships`, `rsvps`, `hostedEvents`, `checkIns`, `meetingConfirmations`,
    /// `notifications`, `notificationSettings`, `sessions`, `devices` (without their push
    /// tokens), `reportsMade`, `blockedMembers`, `comments`, `messages` (the private messages the viewer
    /// sent, each with its `conversationId` and `to`), `images` (every picture the viewer
    /// uploaded that is still stored, with its URLs at each size) and `avatarAttestations`
    /// (avatars attested in person by the viewer or of the viewer's), oldest first in each list, with
    /// `exportedAt`. IDs are the API's own; times are written as every time is
    /// (`2027-03-28T17:00:00.000Z`); what is not known is null. Other members appear only as
    /// `{id, displayName}`. Secrets (the password hash, tokens) are keys to the data, not
    /// data, and are left out.
    #[graphql(complexity = "limits::EXPORT_COST")]
    async fn export_my_data(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let viewer = member_id(ctx)?;
        let data = export::gather(&state(ctx).db, viewer).await?;
        Ok(to_json(&data, &state(ctx).media, Utc::now()).to_string())
    }
}

/// The password that confirms the deletion.
#[derive(InputObject)]
pub struct DeleteAccountInput {
    /// The account's password.
    pub password: String,
}

#[derive(Default)]
pub struct OwnDataMutation;

#[Object]
impl OwnDataMutation {
    /// Deletes the viewer's account at once, in one step that happens whole or not at all.
    /// A wrong password is UNAUTHENTICATED and changes nothing. The member's RSVPs are
    /// withdrawn (a freed place goes to the first on the waitlist, who is notified); their
    /// meeting confirmations go, so other members' `inPersonCount` drops, and with them the
    /// avatar attestations they gave and received; their
    /// memberships go; their comments keep their place, without body or author
    /// (`deleted: true`); their conversations go, with every message in them. A group they were the only ORGANIZER of passes to its
    /// longest-standing CO_ORGANIZER (notified with GROUP_HANDED_OVER) or, with none,
    /// closes (`Group.closedAt`): its events still to start are cancelled, with
    /// notifications. Every token of the account is refused from then on, and the address
    /// may sign up again. True.
    async fn delete_account(
        &self,
        ctx: &Context<'_>,
        input: DeleteAccountInput,
    ) -> async_graphql::Result<bool> {
        let state = state(ctx);
        let viewer = member_id(ctx)?;
        let deleted =
            deletion::delete_account(&state.db, &state.hasher, viewer, input.password, Utc::now())
                .await?;
        let files = deliver(ctx, deleted);
        images::delete_unnamed_files(&state.db, &state.media, &files).await;
        Ok(true)
    }
}

fn id(kind: Kind, id: Uuid) -> String {
    ids::encode(kind, id).to_string()
}

/// A time as the API writes every time (see `scalars::Time`).
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn member(data: &MyData, user_id: Uuid) -> Value {
    json!({
        "id": id(Kind::User, user_id),
        "displayName": data.names.get(&user_id),
    })
}

fn event(data: &MyData, event_id: Uuid) -> Value {
    let found = data.events.get(&event_id);
    json!({
        "id": id(Kind::Event, event_id),
        "title": found.map(|e| &e.title),
        "startsAt": found.map(|e| time(e.starts_at)),
    })
}

/// The document `exportMyData` returns.
fn to_json(data: &MyData, media: &Media, now: DateTime<Utc>) -> Value {
    let user = &data.user;
    let home = user
        .home_lat
        .zip(user.home_lng)
        .map(|(lat, lng)| json!({ "lat": lat, "lng": lng }));
    json!({
        "exportedAt": time(now),
        "profile": {
            "id": id(Kind::User, user.id),
            "email": user.email,
            "emailVerifiedAt": user.email_verified_at.map(time),
            "displayName": user.display_name,
            "bio": user.bio,
            "homeLocation": home,
            "timeZone": user.time_zone,
            "locale": user.locale,
            "trusted": user.trusted,
            "createdAt": time(user.created_at),
            "updatedAt": time(user.updated_at),
        },
        "interests": data.interests.iter().map(|i| json!({
            "id": id(Kind::Interest, i.id),
            "name": i.name,
        })).collect::<Vec<_>>(),
        "memberships": data.memberships.iter().map(|m| json!({
            "group": {
                "id": id(Kind::Group, m.group_id),
                "name": data.groups.get(&m.group_id).map(|g| &g.name),
            },
            "role": m.role.to_value(),
            "status": m.status.to_value(),
            "requestedAt": time(m.created_at),
            "joinedAt": m.joined_at.map(time),
        })).collect::<Vec<_>>(),
        "rsvps": data.rsvps.iter().map(|r| json!({
            "event": event(data, r.event_id),
            "status": r.status.to_value(),
            "createdAt": time(r.created_at),
            "updatedAt": time(r.updated_at),
        })).collect::<Vec<_>>(),
        "hostedEvents": data.hosting.iter().map(|&e| event(data, e)).collect::<Vec<_>>(),
        "checkIns": data.rsvps.iter().filter(|r| r.checked_in).map(|r| json!({
            "event": event(data, r.event_id),
            "method": r.check_in_method.map(|m| m.to_value()),
            "at": r.checked_in_at.map(time),
        })).collect::<Vec<_>>(),
        "meetingConfirmations": data.confirmations.iter().map(|c| json!({
            "id": id(Kind::MeetingConfirmation, c.id),
            "event": event(data, c.event_id),
            "scanner": member(data, c.scanner_id),
            "subject": member(data, c.subject_id),
            "status": c.status.to_value(),
            "createdAt": time(c.created_at),
            "respondedAt": c.responded_at.map(time),
            "withdrawnAt": c.withdrawn_at.map(time),
        })).collect::<Vec<_>>(),
        "notifications": data.notifications.iter().map(|n| json!({
            "id": id(Kind::Notification, n.id),
            "kind": n.kind.to_value(),
            "message": n.message,
            "eventId": n.event_id.map(|e| id(Kind::Event, e)),
            "groupId": n.group_id.map(|g| id(Kind::Group, g)),
            "createdAt": time(n.created_at),
            "readAt": n.read_at.map(time),
        })).collect::<Vec<_>>(),
        "sessions": data.sessions.iter().map(|s| json!({
            "id": id(Kind::Session, s.id),
            "createdAt": time(s.created_at),
            "lastUsedAt": time(s.last_used_at),
            "userAgent": s.user_agent,
            "endedAt": s.revoked_at.map(time),
        })).collect::<Vec<_>>(),
        "notificationSettings": data.notification_settings.iter().map(|s| json!({
            "kind": s.kind.to_value(),
            "push": s.push,
            "email": s.email,
        })).collect::<Vec<_>>(),
        "devices": data.devices.iter().map(|d| json!({
            "id": id(Kind::Device, d.id),
            "platform": d.platform.to_value(),
            "sessionId": id(Kind::Session, d.session_id),
            "appVersion": d.app_version,
            "createdAt": time(d.created_at),
            "lastSeenAt": time(d.last_seen_at),
        })).collect::<Vec<_>>(),
        "reportsMade": data.reports.iter().map(|r| json!({
            "id": id(Kind::Report, r.id),
            "reported": member(data, r.reported_id),
            "eventId": r.event_id.map(|e| id(Kind::Event, e)),
            "reason": r.reason,
            "commentId": r.comment_id.map(|c| id(Kind::Comment, c)),
            "messageId": r.message_id.map(|m| id(Kind::Message, m)),
            "quoted": r.quoted,
            "createdAt": time(r.created_at),
            "resolvedAt": r.resolved_at.map(time),
        })).collect::<Vec<_>>(),
        "blockedMembers": data.blocks.iter().map(|b| json!({
            "id": id(Kind::User, b.blocked_id),
            "displayName": data.names.get(&b.blocked_id),
            "blockedAt": time(b.created_at),
        })).collect::<Vec<_>>(),
        "comments": data.comments.iter().map(|c| json!({
            "id": id(Kind::Comment, c.id),
            "event": event(data, c.event_id),
            "replyToId": c.parent_id.map(|p| id(Kind::Comment, p)),
            "body": c.body,
            "createdAt": time(c.created_at),
            "editedAt": c.edited_at.map(time),
            "deletedAt": c.deleted_at.map(time),
        })).collect::<Vec<_>>(),
        "messages": data.messages.iter().map(|m| json!({
            "id": id(Kind::Message, m.message.id),
            "conversationId": id(Kind::Conversation, m.message.conversation_id),
            "to": member(data, m.to),
            "body": m.message.body,
            "sentAt": time(m.message.created_at),
        })).collect::<Vec<_>>(),
        "images": data.images.iter().map(|i| json!({
            "id": id(Kind::Image, i.id),
            "urls": {
                "small": media.url(&i.small_name),
                "medium": media.url(&i.medium_name),
                "large": media.url(&i.large_name),
            },
            "width": i.width,
            "height": i.height,
            "uploadedAt": time(i.created_at),
        })).collect::<Vec<_>>(),
        "avatarAttestations": data.attestations.iter().map(|a| json!({
            "meetingConfirmationId": id(Kind::MeetingConfirmation, a.meeting_id),
            "by": member(data, a.attester_id),
            "about": member(data, a.subject_id),
            "imageId": id(Kind::Image, a.image_id),
            "createdAt": time(a.created_at),
        })).collect::<Vec<_>>(),
    })
}
