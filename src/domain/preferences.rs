//! What a member wants to hear, and how: per kind of notification, by push and by mail.
//! Only the kinds a member changed are stored; the others have the defaults.
//! In-app notifications are always stored, whatever the settings.

use std::collections::HashMap;

use entity::notification::NotificationKind;
use entity::notification_setting::{self, Column, Entity};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, Set};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// How a member hears of one kind of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub kind: NotificationKind,
    pub push: bool,
    pub email: bool,
}

/// The defaults: every kind by push; every kind by mail except reminders (a mail a day
/// before and another two hours before would be noise in an inbox), comments (a mail per
/// comment of a lively event would be too) and private messages (a mail per message of a
/// conversation even more so).
pub fn default_for(kind: NotificationKind) -> Setting {
    Setting {
        kind,
        push: true,
        email: !matches!(
            kind,
            NotificationKind::EventReminder
                | NotificationKind::EventComment
                | NotificationKind::CommentReply
                | NotificationKind::Message
        ),
    }
}

/// The member's setting for every kind, in the order of the kinds.
pub async fn of_user(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<Setting>> {
    let stored: HashMap<NotificationKind, notification_setting::Model> = Entity::find()
        .filter(Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.kind, row))
        .collect();
    Ok(NotificationKind::iter()
        .map(|kind| match stored.get(&kind) {
            Some(row) => Setting {
                kind,
                push: row.push,
                email: row.email,
            },
            None => default_for(kind),
        })
        .collect())
}

/// The settings of `user_ids` for `kind`: one per member.
pub async fn for_kind(
    db: &impl ConnectionTrait,
    user_ids: &[Uuid],
    kind: NotificationKind,
) -> AppResult<HashMap<Uuid, Setting>> {
    let mut settings: HashMap<Uuid, Setting> =
        user_ids.iter().map(|id| (*id, default_for(kind))).collect();
    for chunk in user_ids.chunks(500) {
        let rows = Entity::find()
            .filter(Column::UserId.is_in(chunk.to_vec()))
            .filter(Column::Kind.eq(kind))
            .all(db)
            .await?;
        for row in rows {
            settings.insert(
                row.user_id,
                Setting {
                    kind,
                    push: row.push,
                    email: row.email,
                },
            );
        }
    }
    Ok(settings)
}

/// Stores the member's choices; kinds not named keep theirs. A kind named twice is
/// BAD_USER_INPUT on `field`.
pub async fn update(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    settings: &[Setting],
    field: &str,
) -> AppResult<()> {
    for (at, setting) in settings.iter().enumerate() {
        if settings[..at].iter().any(|s| s.kind == setting.kind) {
            return Err(AppError::bad_input(
                field,
                format!("{} is named more than once", setting.kind.to_value()),
            ));
        }
    }
    if settings.is_empty() {
        return Ok(());
    }
    let rows = settings.iter().map(|s| notification_setting::ActiveModel {
        user_id: Set(user_id),
        kind: Set(s.kind),
        push: Set(s.push),
        email: Set(s.email),
    });
    Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([Column::UserId, Column::Kind])
                .update_columns([Column::Push, Column::Email])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}
