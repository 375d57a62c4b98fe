//! Recommended events (`recommendedEvents`); the feed is `Viewer.feed`.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, Object, SimpleObject};
use chrono::Utc;
use uuid::Uuid;

use crate::connection_name;
use crate::domain::search::ScoreKey;
use crate::domain::{accounts, discovery, interests};
use crate::graphql::context::{member_id, state};
use crate::graphql::events::Event;
use crate::graphql::geo::{GeoPointInput, ranking_place};
use crate::graphql::interests::Interest;
use crate::graphql::limits;
use crate::graphql::pagination::{Conn, PageRequest, connection};
use crate::graphql::users::User;

/// Why an event is recommended, and who the viewer knows there.
#[derive(SimpleObject)]
pub struct EventRecommendationEdgeFields {
    /// The ranking score (see `recommendedEvents`).
    pub score: f64,
    /// The interests the event's group shares with the viewer, by name.
    pub shared_interests: Vec<Interest>,
    /// Members GOING to the event with whom the viewer has a CONFIRMED in-person meeting
    /// (withdrawn ones do not count), never anyone blocked either way; at most 10, by ID.
    pub people_you_met_going: Vec<User>,
}

connection_name!(
    EventRecommendationName,
    "EventRecommendationConnection",
    "EventRecommendationEdge"
);
pub type EventRecommendationConnection =
    Conn<Event, EventRecommendationName, EmptyFields, EventRecommendationEdgeFields>;

#[derive(Default)]
pub struct DiscoveryQuery;

#[Object]
impl DiscoveryQuery {
    /// Events for the signed-in member (UNAUTHENTICATED otherwise), best first. An event
    /// qualifies when it is SCHEDULED, has not ended and starts within the next 90 days,
    /// its group (not closed) shares at least one interest with the member, and the member
    /// has not answered it; with a place (`near`, else the member's home location) only
    /// events within 100 km count (the venue, or for an online-only event where its group
    /// meets). `score` = shared interests × 10 / (10 + distance in km), as in
    /// `recommendedGroups`; with no place known, `score` = shared interests. Ties go by ID.
    /// Only the 500 soonest qualifying events are ranked.
    #[graphql(
        complexity = "limits::page_with(limits::RECOMMENDATION_COST, first, child_complexity)"
    )]
    async fn recommended_events(
        &self,
        ctx: &Context<'_>,
        near: Option<GeoPointInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventRecommendationConnection> {
        let db = &state(ctx).db;
        let viewer = accounts::get_viewer(db, member_id(ctx)?).await?;
        let page = PageRequest::<ScoreKey>::parse(first, after)?;
        let place = ranking_place(near, &viewer)?;
        let picks = discovery::recommended_events(
            db,
            viewer.id,
            place,
            page.after,
            page.fetch_limit(),
            Utc::now(),
        )
        .await?;
        let mut group_ids: Vec<Uuid> = picks.iter().map(|p| p.event.group_id).collect();
        group_ids.sort_unstable();
        group_ids.dedup();
        let interests_of = interests::of_groups(db, &group_ids).await?;
        let event_ids: Vec<Uuid> = picks.iter().map(|p| p.event.id).collect();
        let mut met = discovery::met_going(db, viewer.id, &event_ids).await?;
        Ok(connection(
            &page,
            picks,
            |p| (p.score, p.event.id),
            |p| {
                let shared = interests_of
                    .get(&p.event.group_id)
                    .into_iter()
                    .flatten()
                    .filter(|i| p.shared_interest_ids.contains(&i.id))
                    .cloned()
                    .map(Interest)
                    .collect();
                let people = met
                    .remove(&p.event.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(User)
                    .collect();
                (
                    Event(p.event),
                    EventRecommendationEdgeFields {
                        score: p.score,
                        shared_interests: shared,
                        people_you_met_going: people,
                    },
                )
            },
            EmptyFields,
        ))
    }
}
