//! Finding groups: nearby search and recommendations.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use uuid::Uuid;

use crate::connection_name;
use crate::domain::geo::GeoPoint as DomainPoint;
use crate::domain::search::{self, DistanceKey, NearbyFilter, ScoreKey};
use crate::domain::{accounts, interests};
use crate::graphql::context::{member_id, state};
use crate::graphql::geo::GeoPointInput;
use crate::graphql::groups::Group;
use crate::graphql::ids::{self, Kind};
use crate::graphql::interests::Interest;
use crate::graphql::limits;
use crate::graphql::pagination::{Conn, PageRequest, connection};

/// Where to look for groups.
#[derive(InputObject)]
pub struct GroupSearchInput {
    /// The centre of the search.
    pub near: GeoPointInput,
    /// How far from `near` to look, in km: above 0 and at most 200.
    pub radius_km: f64,
    /// Words the group's name or description must contain (any case); at most 100
    /// characters.
    pub query: Option<String>,
    /// Keep groups with at least one of these interests.
    #[graphql(default)]
    pub interest_ids: Vec<ID>,
}

/// A nearby group and how far it is.
#[derive(SimpleObject)]
pub struct GroupSearchEdgeFields {
    /// Great-circle distance from the search's `near`, in km.
    pub distance_km: f64,
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
    /// distance (ties by ID), optionally matching text and interests. A radius outside
    /// (0, 200] is BAD_USER_INPUT (`filter.radiusKm`).
    #[graphql(complexity = "limits::page_with(limits::SEARCH_COST, first, child_complexity)")]
    async fn search_groups(
        &self,
        ctx: &Context<'_>,
        filter: GroupSearchInput,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<GroupSearchConnection> {
        let page = PageRequest::<DistanceKey>::parse(first, after)?;
        let interest_ids =
            ids::decode_all(Kind::Interest, "filter.interestIds", &filter.interest_ids)?;
        let nearby = NearbyFilter {
            near: (filter.near.lat, filter.near.lng),
            radius_km: filter.radius_km,
            query: filter.query,
            interest_ids,
        };
        let hits = search::nearby_groups(&state(ctx).db, nearby, page.after, page.fetch_limit())
            .await
            .map_err(|e| e.under("filter"))?;
        Ok(connection(
            &page,
            hits,
            |hit| (hit.distance_km, hit.group.id),
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
        let place = match near {
            Some(p) => Some(DomainPoint::new(p.lat, p.lng).map_err(|e| e.under("near"))?),
            None => match (viewer.home_lat, viewer.home_lng) {
                (Some(lat), Some(lng)) => DomainPoint::new(lat, lng).ok(),
                _ => None,
            },
        };
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
