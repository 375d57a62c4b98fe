//! People to meet at an event: the other attendees, ranked by the interests they share
//! with the viewer, so that strangers in a room know whom to say hello to.

use std::collections::HashSet;

use entity::rsvp::{self, RsvpStatus};
use entity::{interest, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::domain::{accounts, blocks, events, interests, reports, visibility};
use crate::error::{AppError, AppResult};

/// Someone to meet, with the interests they share with the viewer (by name).
pub struct Suggestion {
    pub user: user::Model,
    pub shared: Vec<interest::Model>,
}

/// For a member GOING to the event: the others GOING, most shared interests first (then by
/// name), never the viewer, a banned member, anyone who reported the viewer or whom the
/// viewer reported, or anyone blocked either way. FORBIDDEN for a member not GOING.
pub async fn to_meet(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    event_id: Uuid,
    limit: usize,
) -> AppResult<Vec<Suggestion>> {
    events::find(db, event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let going: Vec<Uuid> = rsvp::Entity::find()
        .select_only()
        .column(rsvp::Column::UserId)
        .filter(rsvp::Column::EventId.eq(event_id))
        .filter(rsvp::Column::Status.eq(RsvpStatus::Going))
        .into_tuple()
        .all(db)
        .await?;
    visibility::people_to_meet(&going, viewer)?;
    let mut avoid = reports::reported_either_way(db, viewer).await?;
    avoid.extend(blocks::either_way(db, viewer).await?);
    let others: Vec<Uuid> = going
        .into_iter()
        .filter(|u| *u != viewer && !avoid.contains(u))
        .collect();
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let mine: HashSet<Uuid> = interests::ids_of_user(db, viewer)
        .await?
        .into_iter()
        .collect();
    let mut theirs = interests::of_users(db, &others).await?;
    let mut people: Vec<Suggestion> = accounts::find_many(db, &others)
        .await?
        .into_iter()
        .filter(|u| u.banned_at.is_none())
        .map(|user| {
            let shared = theirs
                .remove(&user.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|i| mine.contains(&i.id))
                .collect();
            Suggestion { user, shared }
        })
        .collect();
    people.sort_by(|a, b| {
        b.shared
            .len()
            .cmp(&a.shared.len())
            .then_with(|| a.user.display_name.cmp(&b.user.display_name))
            .then_with(|| a.user.id.cmp(&b.user.id))
    });
    people.truncate(limit);
    Ok(people)
}
