//! Who may see what, each rule once: the lists (`Group.members`, `Event.attendees`,
//! `Event.peopleToMeet`) and `node(id:)` ask here, so an object is never visible by ID to
//! someone its list hides it from.
//!
//! Blocks: two members of whom either blocked the other are hidden from each other in the
//! lists of people, and as entries of those lists (a `Membership`, an `Rsvp`) by
//! `node(id:)` too. Their public profiles (`User`) stay readable by ID, as any profile is.

use entity::{meeting_confirmation, membership, notification, rsvp, session, user};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::{blocks, events, memberships};
use crate::error::{AppError, AppResult};

/// Who is looking: a signed-in member, or nobody.
pub type Viewer = Option<Uuid>;

/// Only ACTIVE members of a group see who belongs to it: FORBIDDEN for others.
pub async fn members(db: &impl ConnectionTrait, group_id: Uuid, viewer: Uuid) -> AppResult<()> {
    if memberships::is_active_member(db, group_id, viewer).await? {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only members of the group see its members",
        ))
    }
}

/// Only ACTIVE members of the event's group see who is going: FORBIDDEN for others.
pub async fn attendees(
    db: &impl ConnectionTrait,
    event: &entity::event::Model,
    viewer: Uuid,
) -> AppResult<()> {
    if memberships::is_active_member(db, event.group_id, viewer).await? {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only members of the group see who is going",
        ))
    }
}

/// Only ACTIVE members of the event's group read its comments: FORBIDDEN for others.
pub async fn comments(
    db: &impl ConnectionTrait,
    event: &entity::event::Model,
    viewer: Uuid,
) -> AppResult<()> {
    if memberships::is_active_member(db, event.group_id, viewer).await? {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only members of the group read the comments on its events",
        ))
    }
}

/// A comment: to the ACTIVE members of its event's group not blocked either way with its
/// author (as in `Event.comments`).
pub async fn comment(
    db: &impl ConnectionTrait,
    row: &entity::comment::Model,
    viewer: Viewer,
) -> AppResult<bool> {
    match viewer {
        Some(viewer) => crate::domain::comments::visible(db, row, viewer).await,
        None => Ok(false),
    }
}

/// Only people GOING to an event see whom to meet there: FORBIDDEN for others.
pub fn people_to_meet(going: &[Uuid], viewer: Uuid) -> AppResult<()> {
    if going.contains(&viewer) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only people GOING to the event see whom to meet there",
        ))
    }
}

/// A membership: to its member, and to the group's ACTIVE members not blocked either way
/// with its member (as in `Group.members`). A PENDING request is for its member and the
/// group's members alike.
pub async fn membership(
    db: &impl ConnectionTrait,
    row: &membership::Model,
    viewer: Viewer,
) -> AppResult<bool> {
    let Some(viewer) = viewer else {
        return Ok(false);
    };
    if row.user_id == viewer {
        return Ok(true);
    }
    Ok(
        memberships::is_active_member(db, row.group_id, viewer).await?
            && !blocks::between(db, viewer, row.user_id).await?,
    )
}

/// An answer: to its member, and to those who may see the event's attendees, not blocked
/// either way with its member (as in `Event.attendees`).
pub async fn rsvp(db: &impl ConnectionTrait, row: &rsvp::Model, viewer: Viewer) -> AppResult<bool> {
    let Some(viewer) = viewer else {
        return Ok(false);
    };
    if row.user_id == viewer {
        return Ok(true);
    }
    let Some(event) = events::find(db, row.event_id).await? else {
        return Ok(false);
    };
    Ok(
        memberships::is_active_member(db, event.group_id, viewer).await?
            && !blocks::between(db, viewer, row.user_id).await?,
    )
}

/// A meeting confirmation: to its two people alone.
pub fn meeting_confirmation(row: &meeting_confirmation::Model, viewer: Viewer) -> bool {
    viewer.is_some_and(|v| row.scanner_id == v || row.subject_id == v)
}

/// A notification: to its member alone.
pub fn notification(row: &notification::Model, viewer: Viewer) -> bool {
    viewer == Some(row.user_id)
}

/// A signed-in device: to its member alone.
pub fn session(row: &session::Model, viewer: Viewer) -> bool {
    viewer == Some(row.user_id)
}

/// A member's public page (`/u/{id}`), which anyone with the link reads: not for a banned
/// member, whom Kith no longer shows to strangers. A deleted account has no row, so no page.
pub fn user_page(row: &user::Model) -> bool {
    row.banned_at.is_none()
}
