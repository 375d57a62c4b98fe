//! Everything stored about a member, gathered for `exportMyData`. Other members appear
//! only as ids with display names; secrets (the password hash, token hashes, the calendar
//! feed token) are not the member's data but keys to it, and stay out.

use std::collections::HashMap;

use entity::{
    avatar_attestation, block, comment, device, event, event_host, group, image, interest,
    meeting_confirmation, membership, notification, report, rsvp, session, user, user_interest,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::accounts::get_viewer;
use crate::domain::preferences::{self, Setting};
use crate::error::AppResult;

pub struct MyData {
    pub user: user::Model,
    pub interests: Vec<interest::Model>,
    pub memberships: Vec<membership::Model>,
    pub rsvps: Vec<rsvp::Model>,
    /// Events the member hosts.
    pub hosting: Vec<Uuid>,
    pub confirmations: Vec<meeting_confirmation::Model>,
    pub notifications: Vec<notification::Model>,
    pub sessions: Vec<session::Model>,
    /// Devices that receive pushes, of every session (ended ones until pruned).
    pub devices: Vec<device::Model>,
    pub notification_settings: Vec<Setting>,
    pub reports: Vec<report::Model>,
    pub blocks: Vec<block::Model>,
    /// The member's comments and replies (deleted ones keep their place, without body).
    pub comments: Vec<comment::Model>,
    /// The private messages the member sent (not those they received: others wrote them).
    pub messages: Vec<crate::domain::messages::Sent>,
    pub groups: HashMap<Uuid, group::Model>,
    pub events: HashMap<Uuid, event::Model>,
    /// The images the member uploaded that are still stored.
    pub images: Vec<image::Model>,
    /// Avatars attested in person, by the member or of the member's avatars.
    pub attestations: Vec<avatar_attestation::Model>,
    /// The display names of the other members mentioned.
    pub names: HashMap<Uuid, String>,
}

/// Reads everything about `user_id`, oldest first in every list.
pub async fn gather(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<MyData> {
    let user = get_viewer(db, user_id).await?;
    let interest_ids: Vec<Uuid> = user_interest::Entity::find()
        .filter(user_interest::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.interest_id)
        .collect();
    let interests = interest::Entity::find()
        .filter(interest::Column::Id.is_in(interest_ids))
        .order_by_asc(interest::Column::Name)
        .all(db)
        .await?;
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .order_by_asc(membership::Column::CreatedAt)
        .all(db)
        .await?;
    let rsvps = rsvp::Entity::find()
        .filter(rsvp::Column::UserId.eq(user_id))
        .order_by_asc(rsvp::Column::CreatedAt)
        .all(db)
        .await?;
    let hosting: Vec<Uuid> = event_host::Entity::find()
        .filter(event_host::Column::UserId.eq(user_id))
        .order_by_asc(event_host::Column::EventId)
        .all(db)
        .await?
        .into_iter()
        .map(|h| h.event_id)
        .collect();
    let confirmations = meeting_confirmation::Entity::find()
        .filter(
            Condition::any()
                .add(meeting_confirmation::Column::ScannerId.eq(user_id))
                .add(meeting_confirmation::Column::SubjectId.eq(user_id)),
        )
        .order_by_asc(meeting_confirmation::Column::CreatedAt)
        .all(db)
        .await?;
    let notifications = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?;
    let sessions = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .order_by_asc(session::Column::CreatedAt)
        .all(db)
        .await?;
    let devices = device::Entity::find()
        .filter(device::Column::UserId.eq(user_id))
        .order_by_asc(device::Column::CreatedAt)
        .all(db)
        .await?;
    let notification_settings = preferences::of_user(db, user_id).await?;
    let comments = crate::domain::comments::by_author(db, user_id).await?;
    let messages = crate::domain::messages::sent_by(db, user_id).await?;
    let reports = report::Entity::find()
        .filter(report::Column::ReporterId.eq(user_id))
        .order_by_asc(report::Column::CreatedAt)
        .all(db)
        .await?;
    let blocks = block::Entity::find()
        .filter(block::Column::BlockerId.eq(user_id))
        .order_by_asc(block::Column::CreatedAt)
        .all(db)
        .await?;

    let mut data = MyData {
        user,
        interests,
        memberships,
        rsvps,
        hosting,
        confirmations,
        notifications,
        sessions,
        devices,
        notification_settings,
        reports,
        blocks,
        images: crate::domain::images::owned_by(db, user_id).await?,
        attestations: crate::domain::attestations::involving(db, user_id).await?,
        comments,
        messages,
        groups: HashMap::new(),
        events: HashMap::new(),
        names: HashMap::new(),
    };
    name_what_is_mentioned(db, &mut data).await?;
    Ok(data)
}

/// Fills in the groups, events and other members `data` mentions, by name.
async fn name_what_is_mentioned(db: &impl ConnectionTrait, data: &mut MyData) -> AppResult<()> {
    let MyData {
        user,
        memberships,
        rsvps,
        hosting,
        confirmations,
        reports,
        blocks,
        comments,
        messages,
        attestations,
        ..
    } = &*data;
    let user_id = user.id;
    let group_ids: Vec<Uuid> = memberships.iter().map(|m| m.group_id).collect();
    let groups: HashMap<Uuid, group::Model> = group::Entity::find()
        .filter(group::Column::Id.is_in(group_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect();
    let event_ids: Vec<Uuid> = rsvps
        .iter()
        .map(|r| r.event_id)
        .chain(hosting.iter().copied())
        .chain(confirmations.iter().map(|c| c.event_id))
        .chain(comments.iter().map(|c| c.event_id))
        .collect();
    let events: HashMap<Uuid, event::Model> = event::Entity::find()
        .filter(event::Column::Id.is_in(event_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let others: Vec<Uuid> = confirmations
        .iter()
        .flat_map(|c| [c.scanner_id, c.subject_id])
        .chain(reports.iter().map(|r| r.reported_id))
        .chain(blocks.iter().map(|b| b.blocked_id))
        .chain(messages.iter().map(|m| m.to))
        .chain(
            attestations
                .iter()
                .flat_map(|a| [a.attester_id, a.subject_id]),
        )
        .filter(|id| *id != user_id)
        .collect();
    let mut names: HashMap<Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(others))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    names.insert(user.id, user.display_name.clone());
    data.groups = groups;
    data.events = events;
    data.names = names;
    Ok(())
}
