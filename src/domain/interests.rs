//! The interest taxonomy and who holds which interests.

use std::collections::HashMap;

use entity::{group_interest, interest, user_interest};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Most interests one member or group may hold.
pub const MAX_INTERESTS: usize = 30;

/// `%text%` for LIKE, with the wildcards in `text` taken literally (escape character `\`).
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn name_matches(query: Option<&str>) -> Condition {
    match query.map(str::trim).filter(|q| !q.is_empty()) {
        None => Condition::all(),
        Some(q) => Condition::all().add(
            Expr::expr(Func::lower(Expr::col(interest::Column::Name)))
                .like(sea_orm::sea_query::LikeExpr::new(like_pattern(q)).escape('\\')),
        ),
    }
}

/// Interests whose name contains `query` (any case), by name, after the cursor `(name, id)`.
pub async fn list(
    db: &impl ConnectionTrait,
    query: Option<&str>,
    after: Option<(String, Uuid)>,
    limit: u64,
) -> AppResult<Vec<interest::Model>> {
    let mut select = interest::Entity::find().filter(name_matches(query));
    if let Some((name, id)) = after {
        select = select.filter(
            Condition::any()
                .add(interest::Column::Name.gt(name.clone()))
                .add(
                    Condition::all()
                        .add(interest::Column::Name.eq(name))
                        .add(interest::Column::Id.gt(id)),
                ),
        );
    }
    Ok(select
        .order_by_asc(interest::Column::Name)
        .order_by_asc(interest::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn count(db: &impl ConnectionTrait, query: Option<&str>) -> AppResult<u64> {
    Ok(interest::Entity::find()
        .filter(name_matches(query))
        .count(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<interest::Model>> {
    Ok(interest::Entity::find_by_id(id).one(db).await?)
}

/// Checks that every id names an interest; duplicates are dropped. Unknown ids are
/// BAD_USER_INPUT naming `field`.
pub async fn known_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    field: &str,
) -> AppResult<Vec<Uuid>> {
    let mut unique: Vec<Uuid> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() > MAX_INTERESTS {
        return Err(AppError::bad_input(
            field,
            format!("at most {MAX_INTERESTS} interests"),
        ));
    }
    if unique.is_empty() {
        return Ok(unique);
    }
    let found = interest::Entity::find()
        .filter(interest::Column::Id.is_in(unique.clone()))
        .count(db)
        .await?;
    if found as usize != unique.len() {
        return Err(AppError::bad_input(field, "unknown interest id"));
    }
    Ok(unique)
}

/// Replaces a member's interests.
pub async fn set_for_user(
    db: &DatabaseConnection,
    user_id: Uuid,
    ids: &[Uuid],
    field: &str,
) -> AppResult<()> {
    let tx = Tx::begin(db).await?;
    let ids = known_ids(&tx, ids, field).await?;
    user_interest::Entity::delete_many()
        .filter(user_interest::Column::UserId.eq(user_id))
        .exec(&tx)
        .await?;
    if !ids.is_empty() {
        user_interest::Entity::insert_many(ids.into_iter().map(|interest_id| {
            user_interest::ActiveModel {
                user_id: sea_orm::Set(user_id),
                interest_id: sea_orm::Set(interest_id),
            }
        }))
        .exec(&tx)
        .await?;
    }
    tx.commit().await?.expect_none();
    Ok(())
}

/// Replaces a group's interests, inside the caller's transaction.
pub async fn set_for_group(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    ids: Vec<Uuid>,
) -> AppResult<()> {
    group_interest::Entity::delete_many()
        .filter(group_interest::Column::GroupId.eq(group_id))
        .exec(db)
        .await?;
    if !ids.is_empty() {
        group_interest::Entity::insert_many(ids.into_iter().map(|interest_id| {
            group_interest::ActiveModel {
                group_id: sea_orm::Set(group_id),
                interest_id: sea_orm::Set(interest_id),
            }
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

/// The interests of each member in `user_ids`, by name; one query.
pub async fn of_users(
    db: &impl ConnectionTrait,
    user_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<interest::Model>>> {
    let rows = user_interest::Entity::find()
        .filter(user_interest::Column::UserId.is_in(user_ids.to_vec()))
        .all(db)
        .await?;
    group_by_owner(db, rows.into_iter().map(|r| (r.user_id, r.interest_id))).await
}

/// The interests of each group in `group_ids`, by name; one query.
pub async fn of_groups(
    db: &impl ConnectionTrait,
    group_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<interest::Model>>> {
    let rows = group_interest::Entity::find()
        .filter(group_interest::Column::GroupId.is_in(group_ids.to_vec()))
        .all(db)
        .await?;
    group_by_owner(db, rows.into_iter().map(|r| (r.group_id, r.interest_id))).await
}

async fn group_by_owner(
    db: &impl ConnectionTrait,
    pairs: impl Iterator<Item = (Uuid, Uuid)>,
) -> AppResult<HashMap<Uuid, Vec<interest::Model>>> {
    let pairs: Vec<(Uuid, Uuid)> = pairs.collect();
    let mut ids: Vec<Uuid> = pairs.iter().map(|(_, i)| *i).collect();
    ids.sort_unstable();
    ids.dedup();
    let interests: HashMap<Uuid, interest::Model> = interest::Entity::find()
        .filter(interest::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let mut by_owner: HashMap<Uuid, Vec<interest::Model>> = HashMap::new();
    for (owner, interest_id) in pairs {
        if let Some(interest) = interests.get(&interest_id) {
            by_owner.entry(owner).or_default().push(interest.clone());
        }
    }
    for list in by_owner.values_mut() {
        list.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(by_owner)
}

/// The interest ids a member holds.
pub async fn ids_of_user(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(user_interest::Entity::find()
        .filter(user_interest::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.interest_id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern(" Rock "), "%rock%");
        assert_eq!(like_pattern("100%_x\\"), "%100\\%\\_x\\\\%");
    }
}
