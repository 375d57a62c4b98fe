//! Finding groups: nearby search and recommendations.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use uuid::Uuid;

use crate::connection_name;
use crate::domain::search::{self, GroupFilter, GroupSearchKey, ScoreKey};
use crate::domain::{accounts, interests};
use crate::graphql::context::{member_id, state};
use crate::graphql::geo::{GeoPointInput, ranking_place};
use crate::graphql::groups::Group;
use crate::graphql::ids::{self, Kind};
use crate::graphql::interests::Interest;
use crate::graphql::limits;
use crate::graphql::pagination::{Conn, PageRequest, connection};

/// Where and what to look for: groups near a place (`near` with `radiusKm`), groups
/// matching words (`query`), or both. Without `near`, `query` must hold a word.
#[derive(InputObject)]
pub struct GroupSearchInput {
    /// The centre of the search; optional when `query` is given. With it, groups come
    /// nearest first.
    pub near: Option<GeoPointInput>,
    /// How far from `near` to look, in km: above 0 and at most 200; required with `near`,
    /// refused without it.
    pub radius_km: Option<f64>,
    /// Full-text search of the group's name and description: every word must begin a word
    /// of either, in any order, accents and case ignored (`cafe` finds "Repair Cafés",
    /// `walk berl` finds "Berlin Walkers"). Without `near`, groups come best match first
    /// (a word in the name counts more than one in the description). Letters and digits
    /// are the words; at most 100 characters, and 8 words count.
    pub query: Option<String>,
    /// Keep groups with at least one of these interests.
    #[graphql(default)]
    pub interest_ids: Vec<ID>,
}

/// A found group and how far it is.
#[derive(SimpleObject)]
pub struct GroupSearchEdgeFields {
    /// Great-circle distance from the search's `near`, in km; null when the search had no
    /// `near`.
    pub distance_km: Option<f64>,
}

connection_name!(GroupSearchName, "GroupSearchConnection", "GroupSearchEdge");
pub type GroupSearchConnection = Conn<Group, GroupSearchName, EmptyFields, GroupSearchEdgeFields>;

/// Why a group is recommended.
#[derive(SimpleObject)]
pub struct GroupRecommendationEdgeFields {
    /// The ranking score (see `recommendedGroups`).
    pub score: f64,
    /// The interests the group shares with the viewer, by name.
    pub shared_interests: Vec<Interest>,
}

connection_name!(
    GroupRecommendationName,
    "GroupRecommendationConnection",
    "GroupRecommendationEdge"
);
pub type GroupRecommendationConnection =
    Conn<Group, GroupRecommendationName, EmptyFields, GroupRecommendationEdgeFields>;

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Groups within `filter.radiusKm` of `filter.near`, nearest first by great-circle
    /// distance (ties by ID), optionally matching words and interests; or, without
    /// `filter.near`, groups matching `filter.query`, best match first (ties by ID; the best
    /// of the first 2,000 matches found). A
    /// radius outside (0, 200] is BAD_USER_INPUT (`filter.radiusKm`), as are `near`
    /// without a radius and neither `near` nor a word to search for (`filter.near`). A
    /// cursor is good only for the same kind of search.
    #[graphql(complexity = "limits::page_with(limits::SEARCH_COST, first, child_complexity)")]
    async fn search_groups(
        &self,
        ctx: &Context<'_>,
        filter: GroupSearchInput,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<GroupSearchConnection> {
        let page = PageRequest::<GroupSearchKey>::parse(first, after)?;
        if let Some(key) = &page.after
            && matches!(key, GroupSearchKey::Near(_)) != filter.near.is_some()
        {
            return Err(search::wrong_cursor().into());
        }
        let interest_ids =
            ids::decode_all(Kind::Interest, "filter.interestIds", &filter.interest_ids)?;
        let wanted = GroupFilter {
            near: filter.near.map(|p| (p.lat, p.lng)),
            radius_km: filter.radius_km,
            query: filter.query,
            interest_ids,
        };
        let hits = search::search_groups(&state(ctx).db, wanted, page.after, page.fetch_limit())
            .await
            .map_err(|e| e.under("filter"))?;
        Ok(connection(
            &page,
            hits,
            |hit| hit.key,
            |hit| {
                (
                    Group(hit.group),
                    GroupSearchEdgeFields {
                        distance_km: hit.distance_km,
                    },
                )
            },
            EmptyFields,
        ))
    }

    /// Groups for the signed-in member, best first. A group qualifies when it shares at
    /// least one interest with the member and the member has not joined it; with a place
    /// (`near`, else the member's home location) only groups within 100 km count.
    /// `score` = shared interests × 10 / (10 + distance in km), so a group 10 km away
    /// counts half as much as one next door; with no place known, `score` = shared
    /// interests. Ties go by ID. The member's home is used for ranking only and never shown.
    #[graphql(
        complexity = "limits::page_with(limits::RECOMMENDATION_COST, first, child_complexity)"
    )]
    async fn recommended_groups(
        &self,
        ctx: &Context<'_>,
        near: Option<GeoPointInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<GroupRecommendationConnection> {
        let db = &state(ctx).db;
        let viewer = accounts::get_viewer(db, member_id(ctx)?).await?;
        let page = PageRequest::<ScoreKey>::parse(first, after)?;
        let place = ranking_place(near, &viewer)?;
        let picks =
            search::recommended_groups(db, viewer.id, place, page.after, page.fetch_limit())
                .await?;
        let shared_ids: Vec<Uuid> = picks.iter().map(|p| p.group.id).collect();
        let mut interests_of = interests::of_groups(db, &shared_ids).await?;
        Ok(connection(
            &page,
            picks,
            |p| (p.score, p.group.id),
            |p| {
                let shared = interests_of
                    .remove(&p.group.id)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|i| p.shared_interest_ids.contains(&i.id))
                    .map(Interest)
                    .collect();
                (
                    Group(p.group),
                    GroupRecommendationEdgeFields {
                        score: p.score,
                        shared_interests: shared,
                    },
                )
            },
            EmptyFields,
        ))
    }
}
