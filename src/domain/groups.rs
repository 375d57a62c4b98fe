//! Interest groups: creation, changes, and who may do what in them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::event::EventStatus;
pub use entity::group::JoinPolicy;
use entity::{event, event_series, group, group_version, membership, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, SelectTwoModel, SelectorTrait, Set, SqlErr,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::db::sql::Shape;
use crate::domain::Patch;
use crate::domain::geo::{GeoPoint, index_cell};
use crate::domain::memberships::{self, Role};
use crate::domain::zones::parse_time_zone;
use crate::domain::{events, interests, text};
use crate::error::{AppError, AppResult};

/// The `cell` of a closed group. No H3 cell is negative, so no search range holds it: a
/// closed group leaves the spatial index and every search with it.
pub const CLOSED_CELL: i64 = -1;

pub const NAME_CHARS: std::ops::RangeInclusive<usize> = 3..=80;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MAX_CITY_CHARS: usize = 100;

fn parse_name(raw: &str) -> AppResult<String> {
    text::one_line("name", "a group name", raw, &NAME_CHARS)
}

fn parse_description(raw: &str) -> AppResult<String> {
    text::description(raw, MAX_DESCRIPTION_CHARS)
}

fn parse_city(raw: &str) -> AppResult<String> {
    let city = raw.trim();
    if city.is_empty() || city.chars().count() > MAX_CITY_CHARS {
        return Err(AppError::bad_input(
            "city",
            format!("a city has 1 to {MAX_CITY_CHARS} characters"),
        ));
    }
    Ok(city.to_owned())
}

/// The slug a name asks for: ASCII letters and digits joined by hyphens, at most 60 long.
fn base_slug(name: &str) -> String {
    let slug = slug::slugify(name);
    let slug: String = slug.chars().take(60).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "group".to_owned()
    } else {
        slug
    }
}

/// The first of `base`, `base-2`, `base-3`, ... that no group has.
async fn free_slug(db: &impl ConnectionTrait, base: &str) -> AppResult<String> {
    let taken: Vec<String> = group::Entity::find()
        .select_only()
        .column(group::Column::Slug)
        .filter(
            Condition::any()
                .add(group::Column::Slug.eq(base))
                .add(group::Column::Slug.starts_with(format!("{base}-"))),
        )
        .into_tuple()
        .all(db)
        .await?;
    if !taken.iter().any(|s| s == base) {
        return Ok(base.to_owned());
    }
    Ok((2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains(candidate))
        .expect("an unbounded range has a free number"))
}

pub struct NewGroup {
    pub name: String,
    pub description: String,
    pub location: (f64, f64),
    pub city: String,
    pub time_zone: String,
    pub interest_ids: Vec<Uuid>,
    pub join_policy: JoinPolicy,
}

/// Creates a group; the creator, who needs a verified email, becomes its ORGANIZER.
/// Field names in errors are relative to the input.
pub async fn create(
    db: &DatabaseConnection,
    creator: &user::Model,
    input: NewGroup,
    now: DateTime<Utc>,
) -> AppResult<group::Model> {
    if creator.email_verified_at.is_none() {
        return Err(AppError::forbidden(
            "verify your email address before creating a group",
        ));
    }
    let name = parse_name(&input.name)?;
    let description = parse_description(&input.description)?;
    let location =
        GeoPoint::new(input.location.0, input.location.1).map_err(|e| e.under("location"))?;
    let city = parse_city(&input.city)?;
    let time_zone = parse_time_zone("timeZone", &input.time_zone)?
        .name()
        .to_owned();
    let base = base_slug(&name);
    // Two groups created at once with the same name can both find one slug free; the
    // unique index stops the second, which then tries again and finds the next.
    for _ in 0..3 {
        let tx = Tx::begin(db).await?;
        let interest_ids = interests::known_ids(&tx, &input.interest_ids, "interestIds").await?;
        let slug = free_slug(&tx, &base).await?;
        let inserted = group::ActiveModel {
            id: Set(Uuid::now_v7()),
            slug: Set(slug),
            name: Set(name.clone()),
            description: Set(description.clone()),
            lat: Set(location.lat()),
            lng: Set(location.lng()),
            cell: Set(index_cell(&location)),
            city: Set(city.clone()),
            time_zone: Set(time_zone.clone()),
            join_policy: Set(input.join_policy),
            member_count: Set(0),
            closed_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            photo_image_id: Set(None),
        }
        .insert(&tx)
        .await;
        let group = match inserted {
            Ok(group) => group,
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        interests::set_for_group(&tx, group.id, interest_ids).await?;
        memberships::add_active(&tx, group.id, creator.id, Role::Organizer, now).await?;
        let group = find(&tx, group.id)
            .await?
            .ok_or(AppError::NotFound("group"))?;
        tx.commit().await?.expect_none();
        return Ok(group);
    }
    Err(AppError::conflict(
        "another group took this name at the same moment; try again",
    ))
}

#[derive(Default)]
pub struct GroupUpdate {
    pub name: Patch<String>,
    pub description: Patch<String>,
    pub location: Patch<(f64, f64)>,
    pub city: Patch<String>,
    pub time_zone: Patch<String>,
    pub interest_ids: Patch<Vec<Uuid>>,
    pub join_policy: Patch<JoinPolicy>,
}

/// Changes a group; ORGANIZER or CO_ORGANIZER only. The slug never changes.
pub async fn update(
    db: &DatabaseConnection,
    actor: Uuid,
    group_id: Uuid,
    update: GroupUpdate,
    now: DateTime<Utc>,
) -> AppResult<group::Model> {
    let tx = Tx::begin(db).await?;
    let group = find(&tx, group_id)
        .await?
        .ok_or(AppError::NotFound("group"))?;
    memberships::require_role(&tx, group.id, actor, &[Role::Organizer, Role::CoOrganizer]).await?;
    require_open(&group)?;
    let mut row: group::ActiveModel = group.clone().into();
    let name = match update.name {
        Patch::Set(name) => parse_name(&name)?,
        Patch::Keep => group.name.clone(),
    };
    let description = match update.description {
        Patch::Set(d) => parse_description(&d)?,
        Patch::Keep => group.description.clone(),
    };
    row.name = Set(name.clone());
    row.description = Set(description.clone());
    if let Patch::Set((lat, lng)) = update.location {
        let point = GeoPoint::new(lat, lng).map_err(|e| e.under("location"))?;
        row.lat = Set(point.lat());
        row.lng = Set(point.lng());
        row.cell = Set(index_cell(&point));
        // Its online-only events are found where it meets.
        event::Entity::update_many()
            .col_expr(event::Column::PlaceCell, Expr::value(index_cell(&point)))
            .col_expr(event::Column::PlaceLat, Expr::value(point.lat()))
            .col_expr(event::Column::PlaceLng, Expr::value(point.lng()))
            .filter(event::Column::GroupId.eq(group.id))
            .filter(event::Column::VenueCell.is_null())
            .exec(&tx)
            .await?;
    }
    if let Patch::Set(city) = update.city {
        row.city = Set(parse_city(&city)?);
    }
    if let Patch::Set(zone) = update.time_zone {
        row.time_zone = Set(parse_time_zone("timeZone", &zone)?.name().to_owned());
    }
    if let Patch::Set(policy) = update.join_policy {
        row.join_policy = Set(policy);
    }
    if let Patch::Set(ids) = update.interest_ids {
        let ids = interests::known_ids(&tx, &ids, "interestIds").await?;
        interests::set_for_group(&tx, group.id, ids).await?;
    }
    row.updated_at = Set(now);
    let group = row.update(&tx).await?;
    tx.commit().await?.expect_none();
    Ok(group)
}

/// CONFLICT for a closed group: it takes no new members and no changes.
pub fn require_open(group: &group::Model) -> AppResult<()> {
    match group.closed_at {
        Some(_) => Err(AppError::conflict(
            "the group is closed: its organizer left Kith",
        )),
        None => Ok(()),
    }
}

/// Closes a group whose only organiser left with no one to take over, inside the caller's
/// transaction: it leaves every search, its pending requests are dropped (no one is left
/// to answer them), its series stop, and its events still to start are cancelled with
/// notifications (to everyone but `leaving`, the organiser whose departure closes it).
pub async fn close(
    tx: &mut Tx,
    group: &group::Model,
    leaving: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    group::Entity::update_many()
        .col_expr(group::Column::ClosedAt, Expr::value(now))
        .col_expr(group::Column::Cell, Expr::value(CLOSED_CELL))
        .col_expr(group::Column::UpdatedAt, Expr::value(now))
        .filter(group::Column::Id.eq(group.id))
        .exec(&*tx)
        .await?;
    membership::Entity::delete_many()
        .filter(membership::Column::GroupId.eq(group.id))
        .filter(membership::Column::Status.eq(memberships::Status::Pending))
        .exec(&*tx)
        .await?;
    event_series::Entity::update_many()
        .col_expr(event_series::Column::Complete, Expr::value(true))
        .filter(event_series::Column::GroupId.eq(group.id))
        .exec(&*tx)
        .await?;
    let upcoming = event::Entity::find()
        .filter(event::Column::GroupId.eq(group.id))
        .filter(event::Column::Status.eq(EventStatus::Scheduled))
        .filter(event::Column::StartsAt.gt(now))
        .order_by_asc(event::Column::Id)
        .all(&*tx)
        .await?;
    let reason = format!("“{}” has closed: its organizer left Kith", group.name);
    for event in &upcoming {
        events::cancel_in(tx, event, Some(leaving), Some(reason.clone()), now).await?;
    }
    Ok(())
}

/// The group, its row locked until the transaction ends (`SELECT … FOR UPDATE` on
/// PostgreSQL; SQLite's write transactions run one at a time): changes to who organises it
/// take this lock, so two of them never both see an organiser the other is removing.
pub async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<group::Model> {
    group::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound("group"))
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<group::Model>> {
    Ok(group::Entity::find_by_id(id).one(db).await?)
}

/// A group and its version.
static WITH_VERSION: Shape = Shape::new(|backend| {
    group::Entity::find_by_id(Uuid::nil())
        .find_also_related(group_version::Entity)
        .build(backend)
});

/// The group and its version (see `group_version`: what its event lists show changes it),
/// in one statement.
pub async fn find_with_version(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<(group::Model, i64)>> {
    let statement = WITH_VERSION.with(db.get_database_backend(), [id.into()]);
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let (group, version) =
        SelectTwoModel::<group::Model, group_version::Model>::from_raw_query_result(row)?;
    Ok(Some((group, version.map_or(0, |v| v.version))))
}

/// The versions of these groups (0 for a group whose lists never changed).
pub async fn versions(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, i64>> {
    let mut found: HashMap<Uuid, i64> = group_version::Entity::find()
        .filter(group_version::Column::GroupId.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.group_id, v.version))
        .collect();
    for id in ids {
        found.entry(*id).or_insert(0);
    }
    Ok(found)
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<group::Model>> {
    Ok(group::Entity::find()
        .filter(group::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?)
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<group::Model>> {
    let slug = slug.trim().to_lowercase();
    // Slugs are made of a-z, 0-9 and '-': anything else names no group, and is not sent to
    // the database (PostgreSQL refuses text with a NUL byte, which was an internal error).
    if slug.is_empty() || !slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Ok(None);
    }
    Ok(group::Entity::find()
        .filter(group::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_never_empty() {
        assert_eq!(
            base_slug("Berlin Rust Hack & Learn"),
            "berlin-rust-hack-learn"
        );
        assert_eq!(base_slug("Café Zürich"), "cafe-zurich");
        assert_eq!(base_slug("!!!"), "group");
        assert!(base_slug(&"word ".repeat(40)).len() <= 60);
    }
}
