//! Finding groups: near a place (nearest first), by words (best match first, see
//! `full_text`), and recommended for a member.

use std::cmp::Ordering;
use std::collections::HashMap;

use entity::{group, group_interest, membership};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
    RelationTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::sql::Sql;
use crate::domain::full_text::{self, MatchKey, Searched, Words};
use crate::domain::geo::{GeoPoint, cover};
use crate::domain::interests;
use crate::error::{AppError, AppResult};

pub const MAX_RADIUS_KM: f64 = 200.0;

/// A search radius in km: above 0 and at most [`MAX_RADIUS_KM`], else BAD_USER_INPUT on
/// `radiusKm`.
pub fn check_radius(radius: f64) -> AppResult<f64> {
    if radius > 0.0 && radius <= MAX_RADIUS_KM {
        Ok(radius)
    } else {
        Err(AppError::bad_input(
            "radiusKm",
            format!("radiusKm must be above 0 and at most {MAX_RADIUS_KM}"),
        ))
    }
}
/// The first circle searched: small enough that a dense city centre fills a page from it.
const FIRST_RADIUS_KM: f64 = 0.3;
/// How far `recommendedGroups` looks from the member's place.
pub const RECOMMENDATION_RADIUS_KM: f64 = 100.0;

/// The longest search text: longer ones find nothing a shorter one would not, and only
/// cost the database.
pub const MAX_QUERY_CHARS: usize = 100;

/// BAD_USER_INPUT on `field` for a search text over `MAX_QUERY_CHARS`.
pub fn check_query(field: &str, query: Option<&str>) -> AppResult<()> {
    if query.is_some_and(|q| q.trim().chars().count() > MAX_QUERY_CHARS) {
        return Err(AppError::bad_input(
            field,
            format!("a search text has at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    Ok(())
}

/// What a group search asks for; field names in errors are relative to the filter.
pub struct GroupFilter {
    pub near: Option<(f64, f64)>,
    pub radius_km: Option<f64>,
    pub query: Option<String>,
    pub interest_ids: Vec<Uuid>,
}

pub struct FoundGroup {
    pub group: group::Model,
    /// From the search's `near`; None when it had none.
    pub distance_km: Option<f64>,
    pub key: GroupSearchKey,
}

/// The keyset of nearby results: by distance, ties by id.
pub type DistanceKey = (f64, Uuid);

/// Where a page of a group search ends: nearest first with `near`, best match first without.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum GroupSearchKey {
    Near(DistanceKey),
    Match(MatchKey),
}

/// Where a search is, for the rows found: `near` and its radius, or none (then words).
pub enum Around {
    Circle(GeoPoint, f64),
    Nowhere,
}

/// Checks a search's place and text: with `near` a radius is required; without it, words
/// are. Field names are relative to the filter.
pub fn around(
    near: Option<(f64, f64)>,
    radius_km: Option<f64>,
    query: Option<&str>,
) -> AppResult<(Around, Option<Words>)> {
    check_query("query", query)?;
    let words = query.and_then(Words::parse);
    let around = match (near, radius_km) {
        (Some((lat, lng)), Some(radius)) => Around::Circle(
            GeoPoint::new(lat, lng).map_err(|e| e.under("near"))?,
            check_radius(radius)?,
        ),
        (Some(_), None) => {
            return Err(AppError::bad_input(
                "radiusKm",
                "radiusKm is required with near",
            ));
        }
        (None, Some(_)) => {
            return Err(AppError::bad_input("near", "radiusKm needs near"));
        }
        (None, None) if words.is_some() => Around::Nowhere,
        (None, None) => {
            return Err(AppError::bad_input(
                "near",
                "near is required unless query has a word to search for",
            ));
        }
    };
    Ok((around, words))
}

/// A cursor of the other kind of search than the one asked for.
pub fn wrong_cursor() -> AppError {
    AppError::bad_input("after", "this cursor belongs to another search")
}

fn after_key(key: DistanceKey, cursor: Option<DistanceKey>) -> bool {
    match cursor {
        None => true,
        Some((d, id)) => key.0 > d || (key.0 == d && key.1 > id),
    }
}

fn by_key(a: &DistanceKey, b: &DistanceKey) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// Conditions shared by searches: in one of the index ranges, matching the text and the interests.
fn candidates_condition(
    backend: DbBackend,
    ranges: &[(i64, i64)],
    words: Option<&Words>,
    interest_ids: &[Uuid],
) -> Condition {
    let mut in_cover = Condition::any();
    for (lo, hi) in ranges {
        in_cover = in_cover.add(group::Column::Cell.between(*lo, *hi));
    }
    let mut condition = Condition::all().add(in_cover);
    if let Some(words) = words {
        condition = condition.add(full_text::condition_expr(backend, Searched::Groups, words));
    }
    if !interest_ids.is_empty() {
        condition = condition.add(
            group::Column::Id.in_subquery(
                Query::select()
                    .column(group_interest::Column::GroupId)
                    .from(group_interest::Entity)
                    .and_where(group_interest::Column::InterestId.is_in(interest_ids.to_vec()))
                    .to_owned(),
            ),
        );
    }
    condition
}

/// Loads whole rows for `ids`, in the order given.
async fn load_in_order(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<group::Model>> {
    let mut by_id: HashMap<Uuid, group::Model> = group::Entity::find()
        .filter(group::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Groups matching the filter after the cursor: with `near`, those within the radius,
/// nearest first (great-circle distance), optionally matching words; without it, those
/// matching the words, best match first. Closed groups are never found.
pub async fn search_groups(
    db: &impl ConnectionTrait,
    filter: GroupFilter,
    after: Option<GroupSearchKey>,
    limit: u64,
) -> AppResult<Vec<FoundGroup>> {
    let (around, words) = around(filter.near, filter.radius_km, filter.query.as_deref())?;
    let interest_ids = interests::known_ids(db, &filter.interest_ids, "interestIds").await?;
    match (around, words) {
        (Around::Circle(near, radius), words) => {
            let after = match after {
                None => None,
                Some(GroupSearchKey::Near(key)) => Some(key),
                Some(GroupSearchKey::Match(_)) => return Err(wrong_cursor()),
            };
            let wanted = Wanted {
                words: words.as_ref(),
                interest_ids: &interest_ids,
            };
            nearby_groups(db, near, radius, wanted, after, limit).await
        }
        (Around::Nowhere, Some(words)) => {
            let after = match after {
                None => None,
                Some(GroupSearchKey::Match(key)) => Some(key),
                Some(GroupSearchKey::Near(_)) => return Err(wrong_cursor()),
            };
            best_matching_groups(db, &words, &interest_ids, after, limit).await
        }
        (Around::Nowhere, None) => Ok(Vec::new()),
    }
}

/// What a found group must have besides its place.
#[derive(Clone, Copy)]
struct Wanted<'a> {
    words: Option<&'a Words>,
    interest_ids: &'a [Uuid],
}

/// The interests condition on `{column}` (a group id), when any are asked for.
pub(crate) fn push_interests(sql: &mut Sql, column: &str, interest_ids: &[Uuid]) {
    if interest_ids.is_empty() {
        return;
    }
    sql.push(&format!(
        " AND {column} IN (SELECT group_id FROM group_interests WHERE interest_id IN ("
    ));
    for (i, id) in interest_ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push("))");
}

/// Open groups matching the words, best match first, after the cursor.
async fn best_matching_groups(
    db: &impl ConnectionTrait,
    words: &Words,
    interest_ids: &[Uuid],
    after: Option<MatchKey>,
    limit: u64,
) -> AppResult<Vec<FoundGroup>> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT m.id, m.score FROM ");
    full_text::push_ranked(&mut sql, backend, Searched::Groups, words, |sql| {
        sql.push(" AND t.closed_at IS NULL");
        push_interests(sql, "t.id", interest_ids);
    });
    sql.push(" m WHERE 1 = 1");
    full_text::push_after(&mut sql, after);
    sql.push(" ORDER BY m.score DESC, m.id LIMIT ");
    sql.bind(limit as i64);
    let hits = full_text::ranked_ids(db, sql).await?;
    let ids: Vec<Uuid> = hits.iter().map(|(_, id)| *id).collect();
    let groups = load_in_order(db, &ids).await?;
    Ok(groups
        .into_iter()
        .zip(hits)
        .map(|(group, (score, id))| FoundGroup {
            group,
            distance_km: None,
            key: GroupSearchKey::Match((score, id)),
        })
        .collect())
}

/// Groups within `radius` of `near`, nearest first, after the cursor.
///
/// The search starts with a small circle and widens it until it holds a full page: the
/// work depends on how many groups are near, not on how many exist.
async fn nearby_groups(
    db: &impl ConnectionTrait,
    near: GeoPoint,
    radius: f64,
    wanted: Wanted<'_>,
    after: Option<DistanceKey>,
    limit: u64,
) -> AppResult<Vec<FoundGroup>> {
    let backend = db.get_database_backend();
    let mut reach = FIRST_RADIUS_KM
        .max(after.map_or(0.0, |(d, _)| d * 1.5))
        .min(radius);
    loop {
        let rows: Vec<(Uuid, f64, f64)> = group::Entity::find()
            .select_only()
            .columns([group::Column::Id, group::Column::Lat, group::Column::Lng])
            .filter(candidates_condition(
                backend,
                &cover(&near, reach),
                wanted.words,
                wanted.interest_ids,
            ))
            .into_tuple()
            .all(db)
            .await?;
        let mut hits: Vec<DistanceKey> = rows
            .into_iter()
            .filter_map(|(id, lat, lng)| {
                let d = near.distance_km(&GeoPoint::new(lat, lng).ok()?);
                (d <= reach && after_key((d, id), after)).then_some((d, id))
            })
            .collect();
        // Everything within `reach` was read, so a full page here is the true nearest.
        if hits.len() as u64 >= limit || reach >= radius {
            hits.sort_by(by_key);
            hits.truncate(limit as usize);
            let ids: Vec<Uuid> = hits.iter().map(|(_, id)| *id).collect();
            let groups = load_in_order(db, &ids).await?;
            return Ok(groups
                .into_iter()
                .zip(hits)
                .map(|(group, key)| FoundGroup {
                    group,
                    distance_km: Some(key.0),
                    key: GroupSearchKey::Near(key),
                })
                .collect());
        }
        reach = (reach * growth(hits.len() as u64, limit)).min(radius);
    }
}

/// How much to widen a circle of radius r that held `found` of the `wanted` groups: by the
/// density seen so far, groups grow with the area (r²), so aim a little past
/// r·√(wanted/found); never less than 1.5× (progress), nor more than 8× (a sparse spot
/// must not turn into a huge read at once).
fn growth(found: u64, wanted: u64) -> f64 {
    let ratio = wanted as f64 / std::cmp::max(found, 1) as f64;
    (1.3 * ratio.sqrt()).clamp(1.5, 8.0)
}

pub struct Recommendation {
    pub group: group::Model,
    pub score: f64,
    pub shared_interest_ids: Vec<Uuid>,
}

/// The keyset of recommendations: by score, highest first, ties by id.
pub type ScoreKey = (f64, Uuid);

/// The score of a group for a member: the number of shared interests, weighed by nearness
/// when a place is known: `shared × 10 / (10 + distanceKm)` (a group 10 km away counts half).
pub fn score(shared: usize, distance_km: Option<f64>) -> f64 {
    let shared = shared as f64;
    match distance_km {
        Some(d) => shared * 10.0 / (10.0 + d),
        None => shared,
    }
}

/// Recommendation candidates (id, where it is, the interests it shares with the member)
/// ranked as `recommendedGroups` and `recommendedEvents` rank them: with a place, only those
/// within `RECOMMENDATION_RADIUS_KM` of it (one with no place of its own is left out); best
/// `score` first, ties by id; after the cursor; at most `limit`.
pub fn rank(
    candidates: impl IntoIterator<Item = (Uuid, Option<(f64, f64)>, Vec<Uuid>)>,
    place: Option<&GeoPoint>,
    after: Option<ScoreKey>,
    limit: u64,
) -> Vec<(ScoreKey, Vec<Uuid>)> {
    let mut ranked: Vec<(ScoreKey, Vec<Uuid>)> = candidates
        .into_iter()
        .filter_map(|(id, at, interests)| {
            let distance = match place {
                Some(p) => {
                    let (lat, lng) = at?;
                    let d = p.distance_km(&GeoPoint::new(lat, lng).ok()?);
                    if d > RECOMMENDATION_RADIUS_KM {
                        return None;
                    }
                    Some(d)
                }
                None => None,
            };
            Some(((score(interests.len(), distance), id), interests))
        })
        .filter(|((s, id), _)| match after {
            None => true,
            Some((cs, cid)) => *s < cs || (*s == cs && *id > cid),
        })
        .collect();
    ranked.sort_by(|(a, _), (b, _)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.truncate(limit as usize);
    ranked
}

/// Groups sharing at least one interest with the member, which the member has not joined,
/// within 100 km of `place` when there is one, best score first.
pub async fn recommended_groups(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    place: Option<GeoPoint>,
    after: Option<ScoreKey>,
    limit: u64,
) -> AppResult<Vec<Recommendation>> {
    let mine = interests::ids_of_user(db, user_id).await?;
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let mut condition = Condition::all()
        .add(group::Column::ClosedAt.is_null())
        .add(group_interest::Column::InterestId.is_in(mine))
        .add(
            group::Column::Id.not_in_subquery(
                Query::select()
                    .column(membership::Column::GroupId)
                    .from(membership::Entity)
                    .and_where(Expr::col(membership::Column::UserId).eq(user_id))
                    .to_owned(),
            ),
        );
    if let Some(place) = &place {
        condition = condition.add(candidates_condition(
            db.get_database_backend(),
            &cover(place, RECOMMENDATION_RADIUS_KM),
            None,
            &[],
        ));
    }
    let rows: Vec<(Uuid, f64, f64, Uuid)> = group::Entity::find()
        .select_only()
        .columns([group::Column::Id, group::Column::Lat, group::Column::Lng])
        .column(group_interest::Column::InterestId)
        .join(sea_orm::JoinType::InnerJoin, group_interest_relation())
        .filter(condition)
        .into_tuple()
        .all(db)
        .await?;
    let mut shared: HashMap<Uuid, (f64, f64, Vec<Uuid>)> = HashMap::new();
    for (id, lat, lng, interest) in rows {
        shared
            .entry(id)
            .or_insert((lat, lng, Vec::new()))
            .2
            .push(interest);
    }
    let ranked = rank(
        shared
            .into_iter()
            .map(|(id, (lat, lng, interests))| (id, Some((lat, lng)), interests)),
        place.as_ref(),
        after,
        limit,
    );
    let ids: Vec<Uuid> = ranked.iter().map(|((_, id), _)| *id).collect();
    let groups = load_in_order(db, &ids).await?;
    Ok(groups
        .into_iter()
        .zip(ranked)
        .map(|(group, ((score, _), mut shared_interest_ids))| {
            shared_interest_ids.sort_unstable();
            Recommendation {
                group,
                score,
                shared_interest_ids,
            }
        })
        .collect())
}

fn group_interest_relation() -> sea_orm::RelationDef {
    group_interest::Relation::Group.def().rev()
}
