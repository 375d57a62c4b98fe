//! Finding groups: near a place (nearest first), and recommended for a member.

use std::cmp::Ordering;
use std::collections::HashMap;

use entity::{group, group_interest, membership};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, RelationTrait,
};
use uuid::Uuid;

use crate::domain::geo::{GeoPoint, cover};
use crate::domain::interests::{self, like_pattern};
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
/// cost the database (SQLite refuses `LIKE` patterns past 50,000 bytes).
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

/// What a nearby search asks for; field names in errors are relative to the filter.
pub struct NearbyFilter {
    pub near: (f64, f64),
    pub radius_km: f64,
    pub query: Option<String>,
    pub interest_ids: Vec<Uuid>,
}

pub struct Nearby {
    pub group: group::Model,
    pub distance_km: f64,
}

/// The keyset of nearby results: by distance, ties by id.
pub type DistanceKey = (f64, Uuid);

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
    ranges: &[(i64, i64)],
    query: Option<&str>,
    interest_ids: &[Uuid],
) -> Condition {
    let mut in_cover = Condition::any();
    for (lo, hi) in ranges {
        in_cover = in_cover.add(group::Column::Cell.between(*lo, *hi));
    }
    let mut condition = Condition::all().add(in_cover);
    if let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) {
        condition = condition.add(
            Expr::col(group::Column::SearchText).like(LikeExpr::new(like_pattern(q)).escape('\\')),
        );
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

/// Groups within `radius_km` of `near`, nearest first (great-circle distance), after the cursor.
///
/// The search starts with a small circle and widens it until it holds a full page: the
/// work depends on how many groups are near, not on how many exist.
pub async fn nearby_groups(
    db: &impl ConnectionTrait,
    filter: NearbyFilter,
    after: Option<DistanceKey>,
    limit: u64,
) -> AppResult<Vec<Nearby>> {
    let near = GeoPoint::new(filter.near.0, filter.near.1).map_err(|e| e.under("near"))?;
    check_query("query", filter.query.as_deref())?;
    let radius = check_radius(filter.radius_km)?;
    let interest_ids = interests::known_ids(db, &filter.interest_ids, "interestIds").await?;
    let mut reach = FIRST_RADIUS_KM
        .max(after.map_or(0.0, |(d, _)| d * 1.5))
        .min(radius);
    loop {
        let rows: Vec<(Uuid, f64, f64)> = group::Entity::find()
            .select_only()
            .columns([group::Column::Id, group::Column::Lat, group::Column::Lng])
            .filter(candidates_condition(
                &cover(&near, reach),
                filter.query.as_deref(),
                &interest_ids,
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
                .map(|(group, (distance_km, _))| Nearby { group, distance_km })
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
    let mut ranked: Vec<(ScoreKey, Vec<Uuid>)> = shared
        .into_iter()
        .filter_map(|(id, (lat, lng, interests))| {
            let distance = match &place {
                Some(p) => {
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
