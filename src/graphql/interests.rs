//! The interest taxonomy and a member's interests.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, ID, InputObject, Object};
use entity::interest;
use uuid::Uuid;

use crate::connection_name;
use crate::domain::{accounts, interests};
use crate::graphql::context::{member_id, state};
use crate::graphql::ids::{self, Kind};
use crate::graphql::limits;
use crate::graphql::pagination::{Conn, PageRequest, TotalCount, connection};
use crate::graphql::users::User;

pub struct Interest(pub interest::Model);

/// Something members like doing, from the taxonomy shipped with the server. IDs and slugs
/// are the same in every installation.
#[Object]
impl Interest {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Interest, self.0.id)
    }

    /// Stable, URL-safe name (`board-games`).
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Display name (`Board Games`).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The category it belongs to (`Games`).
    async fn category(&self) -> &str {
        &self.0.category
    }
}

connection_name!(InterestConnectionName, "InterestConnection", "InterestEdge");
pub type InterestConnection = Conn<Interest, InterestConnectionName, TotalCount>;

/// The interests to hold from now on.
#[derive(InputObject)]
pub struct SetInterestsInput {
    /// Interest IDs (at most 30); they replace the current set. An unknown ID is BAD_USER_INPUT.
    pub interest_ids: Vec<ID>,
}

#[derive(Default)]
pub struct InterestQuery;

#[Object]
impl InterestQuery {
    /// The interest taxonomy by name; `query` (at most 100 characters) keeps those whose name
    /// contains it, in any case.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn interests(
        &self,
        ctx: &Context<'_>,
        query: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<InterestConnection> {
        let db = &state(ctx).db;
        crate::domain::search::check_query("query", query.as_deref())?;
        let page = PageRequest::<(String, Uuid)>::parse(first, after)?;
        let rows =
            interests::list(db, query.as_deref(), page.after.clone(), page.fetch_limit()).await?;
        let total_count = interests::count(db, query.as_deref()).await?;
        Ok(connection(
            &page,
            rows,
            |i| (i.name.clone(), i.id),
            |i| (Interest(i), EmptyFields),
            TotalCount { total_count },
        ))
    }
}

#[derive(Default)]
pub struct InterestMutation;

#[Object]
impl InterestMutation {
    /// Replaces the viewer's interests.
    async fn set_interests(
        &self,
        ctx: &Context<'_>,
        input: SetInterestsInput,
    ) -> async_graphql::Result<User> {
        let state = state(ctx);
        let viewer = member_id(ctx)?;
        let ids = ids::decode_all(Kind::Interest, "input.interestIds", &input.interest_ids)?;
        interests::set_for_user(&state.db, viewer, &ids, "input.interestIds").await?;
        Ok(User(accounts::get_viewer(&state.db, viewer).await?))
    }
}
