//! Who belongs to a group, in which role, and the rules for joining, leaving and promoting.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
pub use entity::membership::{MembershipStatus as Status, Role};
use entity::{group, membership, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::groups;
use crate::domain::notifications::{self, About};
use crate::error::{AppError, AppResult};
use crate::notify::messages::Message;
use entity::group::JoinPolicy;

/// Most ORGANIZERs a group has: they are listed whole on every group page.
pub const MAX_ORGANIZERS: usize = 10;

async fn adjust_member_count(db: &impl ConnectionTrait, group_id: Uuid, by: i32) -> AppResult<()> {
    group::Entity::update_many()
        .col_expr(
            group::Column::MemberCount,
            Expr::col(group::Column::MemberCount).add(by),
        )
        .filter(group::Column::Id.eq(group_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds an ACTIVE membership, inside the caller's transaction.
pub async fn add_active(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    user_id: Uuid,
    role: Role,
    now: DateTime<Utc>,
) -> AppResult<membership::Model> {
    let row = membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        group_id: Set(group_id),
        user_id: Set(user_id),
        role: Set(role),
        status: Set(Status::Active),
        created_at: Set(now),
        joined_at: Set(Some(now)),
    }
    .insert(db)
    .await?;
    adjust_member_count(db, group_id, 1).await?;
    Ok(row)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<membership::Model>> {
    Ok(membership::Entity::find_by_id(id).one(db).await?)
}

/// The membership of `user_id` in `group_id`, in any status.
pub async fn of(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group_id))
        .filter(membership::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// The viewer's ACTIVE membership, if its role is one of `roles`; FORBIDDEN otherwise.
pub async fn require_role(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    user_id: Uuid,
    roles: &[Role],
) -> AppResult<membership::Model> {
    match of(db, group_id, user_id).await? {
        Some(m) if m.status == Status::Active && roles.contains(&m.role) => Ok(m),
        _ => Err(AppError::forbidden(format!(
            "only {} of the group may do this",
            roles
                .iter()
                .map(|r| r.to_value())
                .collect::<Vec<_>>()
                .join(" or ")
        ))),
    }
}

/// True when the member is ACTIVE in the group.
pub async fn is_active_member(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    Ok(of(db, group_id, user_id)
        .await?
        .is_some_and(|m| m.status == Status::Active))
}

/// Joins a group: ACTIVE in an OPEN group, PENDING (awaiting an organiser) in an APPROVAL one.
/// Joining again returns the membership as it is.
pub async fn join(
    db: &DatabaseConnection,
    group_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<membership::Model> {
    let tx = Tx::begin(db).await?;
    let group = groups::find(&tx, group_id)
        .await?
        .ok_or(AppError::NotFound("group"))?;
    if let Some(existing) = of(&tx, group_id, user_id).await? {
        return Ok(existing);
    }
    groups::require_open(&group)?;
    let row = match group.join_policy {
        JoinPolicy::Open => add_active(&tx, group_id, user_id, Role::Member, now).await?,
        JoinPolicy::Approval => {
            membership::ActiveModel {
                id: Set(Uuid::now_v7()),
                group_id: Set(group_id),
                user_id: Set(user_id),
                role: Set(Role::Member),
                status: Set(Status::Pending),
                created_at: Set(now),
                joined_at: Set(None),
            }
            .insert(&tx)
            .await?
        }
    };
    tx.commit().await?.expect_none();
    Ok(row)
}

async fn active_organizer_count(db: &impl ConnectionTrait, group_id: Uuid) -> AppResult<u64> {
    Ok(membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group_id))
        .filter(membership::Column::Role.eq(Role::Organizer))
        .filter(membership::Column::Status.eq(Status::Active))
        .count(db)
        .await?)
}

/// Leaves a group (or withdraws a pending request); returns the group as it is after. The
/// last ORGANIZER cannot leave until another is named (CONFLICT). Leaving a group one is not
/// in changes nothing.
pub async fn leave(
    db: &DatabaseConnection,
    group_id: Uuid,
    user_id: Uuid,
) -> AppResult<group::Model> {
    let tx = Tx::begin(db).await?;
    let group = groups::lock(&tx, group_id).await?;
    let Some(existing) = of(&tx, group_id, user_id).await? else {
        return Ok(group);
    };
    if existing.role == Role::Organizer
        && existing.status == Status::Active
        && active_organizer_count(&tx, group_id).await? <= 1
    {
        return Err(AppError::conflict(
            "you are the group's last organizer: name another organizer before leaving",
        ));
    }
    membership::Entity::delete_by_id(existing.id)
        .exec(&tx)
        .await?;
    if existing.status == Status::Active {
        adjust_member_count(&tx, group_id, -1).await?;
    }
    let group = groups::find(&tx, group_id)
        .await?
        .ok_or(AppError::NotFound("group"))?;
    tx.commit().await?.expect_none();
    Ok(group)
}

/// Approves or declines a PENDING membership; ORGANIZER or CO_ORGANIZER of its group.
/// A declined request is removed (the member may ask again) and answered as DECLINED.
pub async fn decide(
    db: &DatabaseConnection,
    actor: Uuid,
    membership_id: Uuid,
    approve: bool,
    now: DateTime<Utc>,
) -> AppResult<membership::Model> {
    let tx = Tx::begin(db).await?;
    let listed = find(&tx, membership_id)
        .await?
        .ok_or(AppError::NotFound("membership"))?;
    groups::lock(&tx, listed.group_id).await?;
    // Read again under the lock: another organiser may have just decided it.
    let request = find(&tx, membership_id)
        .await?
        .ok_or(AppError::NotFound("membership"))?;
    require_role(
        &tx,
        request.group_id,
        actor,
        &[Role::Organizer, Role::CoOrganizer],
    )
    .await?;
    if request.status != Status::Pending {
        return Err(AppError::conflict(
            "this membership is not awaiting a decision",
        ));
    }
    let decided = if approve {
        let mut row: membership::ActiveModel = request.into();
        row.status = Set(Status::Active);
        row.joined_at = Set(Some(now));
        let row = row.update(&tx).await?;
        adjust_member_count(&tx, row.group_id, 1).await?;
        row
    } else {
        membership::Entity::delete_by_id(request.id)
            .exec(&tx)
            .await?;
        membership::Model {
            status: Status::Declined,
            ..request
        }
    };
    tx.commit().await?.expect_none();
    Ok(decided)
}

/// Gives an ACTIVE member a role; ORGANIZER only. The last ORGANIZER cannot step down.
pub async fn set_role(
    db: &DatabaseConnection,
    actor: Uuid,
    group_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> AppResult<membership::Model> {
    let tx = Tx::begin(db).await?;
    groups::lock(&tx, group_id).await?;
    require_role(&tx, group_id, actor, &[Role::Organizer]).await?;
    let target = of(&tx, group_id, user_id)
        .await?
        .filter(|m| m.status == Status::Active)
        .ok_or_else(|| AppError::bad_input("userId", "not an active member of this group"))?;
    if target.role != Role::Organizer
        && role == Role::Organizer
        && active_organizer_count(&tx, group_id).await? >= MAX_ORGANIZERS as u64
    {
        return Err(AppError::conflict(format!(
            "a group has at most {MAX_ORGANIZERS} organizers"
        )));
    }
    if target.role == Role::Organizer
        && role != Role::Organizer
        && active_organizer_count(&tx, group_id).await? <= 1
    {
        return Err(AppError::conflict(
            "a group needs an organizer: name another before stepping down",
        ));
    }
    let mut row: membership::ActiveModel = target.into();
    row.role = Set(role);
    let row = row.update(&tx).await?;
    tx.commit().await?.expect_none();
    Ok(row)
}

/// A page of a group's ACTIVE memberships, oldest first, after the membership id `after`.
pub async fn active_in_group(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    group_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<membership::Model>> {
    let mut select = membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group_id))
        .filter(membership::Column::Status.eq(Status::Active))
        .filter(crate::domain::blocks::not_blocked_with(
            membership::Column::UserId,
            viewer,
        ));
    if let Some(after) = after {
        select = select.filter(membership::Column::Id.gt(after));
    }
    Ok(select
        .order_by_asc(membership::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// A page of a member's memberships (ACTIVE and PENDING), oldest first.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<membership::Model>> {
    let mut select = membership::Entity::find().filter(membership::Column::UserId.eq(user_id));
    if let Some(after) = after {
        select = select.filter(membership::Column::Id.gt(after));
    }
    Ok(select
        .order_by_asc(membership::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The organisers (role ORGANIZER, ACTIVE) of each group, longest-standing first.
pub async fn organizers_of(
    db: &impl ConnectionTrait,
    group_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<user::Model>>> {
    let rows = membership::Entity::find()
        .filter(
            Condition::all()
                .add(membership::Column::GroupId.is_in(group_ids.to_vec()))
                .add(membership::Column::Role.eq(Role::Organizer))
                .add(membership::Column::Status.eq(Status::Active)),
        )
        .order_by_asc(membership::Column::Id)
        .find_also_related(user::Entity)
        .all(db)
        .await?;
    let mut by_group: HashMap<Uuid, Vec<user::Model>> = HashMap::new();
    for (m, u) in rows {
        let listed = by_group.entry(m.group_id).or_default();
        if let Some(u) = u
            && listed.len() < MAX_ORGANIZERS
        {
            listed.push(u);
        }
    }
    Ok(by_group)
}

/// The memberships among the (group, member) pairs asked for, in one query.
pub async fn of_pairs(
    db: &impl ConnectionTrait,
    pairs: &[(Uuid, Uuid)],
) -> AppResult<Vec<membership::Model>> {
    let (groups, users): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    let rows = membership::Entity::find()
        .filter(membership::Column::GroupId.is_in(groups))
        .filter(membership::Column::UserId.is_in(users))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|m| pairs.contains(&(m.group_id, m.user_id)))
        .collect())
}

/// Removes every membership of a member leaving Kith, inside the caller's transaction. A
/// group they were the only ORGANIZER of passes to its longest-standing CO_ORGANIZER (the
/// first to have joined), who is told; with none, the group closes (`groups::close`).
pub async fn remove_all_of(tx: &mut Tx, user_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let rows = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .order_by_asc(membership::Column::GroupId)
        .all(&*tx)
        .await?;
    for listed in rows {
        let group = groups::lock(&*tx, listed.group_id).await?;
        // Deleted as it is now, under the group's lock: it may have changed since listed.
        let Some(row) = membership::Entity::delete_by_id(listed.id)
            .exec_with_returning(&*tx)
            .await?
        else {
            continue;
        };
        if row.status != Status::Active {
            continue;
        }
        adjust_member_count(&*tx, group.id, -1).await?;
        if row.role != Role::Organizer || active_organizer_count(&*tx, group.id).await? > 0 {
            continue;
        }
        hand_over(tx, &group, user_id, now).await?;
    }
    Ok(())
}

/// A group whose only organiser leaves passes to its longest-standing co-organiser, who is
/// told; with none it closes.
async fn hand_over(
    tx: &mut Tx,
    group: &group::Model,
    leaving: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let successor = membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group.id))
        .filter(membership::Column::Role.eq(Role::CoOrganizer))
        .filter(membership::Column::Status.eq(Status::Active))
        .order_by_asc(membership::Column::JoinedAt)
        .order_by_asc(membership::Column::Id)
        .one(&*tx)
        .await?;
    let Some(successor) = successor else {
        return groups::close(tx, group, leaving, now).await;
    };
    membership::Entity::update_many()
        .col_expr(membership::Column::Role, Expr::value(Role::Organizer))
        .filter(membership::Column::Id.eq(successor.id))
        .exec(&*tx)
        .await?;
    let message = Message::GroupHandedOver {
        group: group.name.clone(),
    };
    notifications::record(
        tx,
        &[successor.user_id],
        &message,
        About::Group(group.id),
        now,
    )
    .await
}
