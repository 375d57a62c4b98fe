//! What the server allows and offers, for an app to adapt to before it signs in.

use async_graphql::{Context, Object};

use crate::graphql::context::state;
use crate::graphql::limits;
use crate::graphql::pagination::MAX_PAGE_SIZE;

pub struct ServerInfo;

/// This server's settings that shape what an app may ask.
#[Object]
impl ServerInfo {
    /// The server's version.
    async fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// How near a venue, in metres, a phone must be to check in by its location.
    async fn check_in_radius_meters(&self, ctx: &Context<'_>) -> f64 {
        state(ctx).config.check_in_radius_meters
    }

    /// How long a meeting token (and its code) lives, in seconds.
    async fn meeting_token_seconds(&self) -> i64 {
        crate::auth::meeting_token::LIFETIME.num_seconds()
    }

    /// The platforms devices may be registered for (`registerDevice`): those the server has
    /// push credentials for.
    async fn push_platforms(&self, ctx: &Context<'_>) -> Vec<crate::graphql::push::Platform> {
        state(ctx)
            .outlets
            .push
            .platforms()
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// The VAPID public key (base64url, an uncompressed P-256 point) a browser subscribes
    /// with (`applicationServerKey`); null when WEB_PUSH is not offered.
    async fn vapid_public_key(&self, ctx: &Context<'_>) -> Option<String> {
        state(ctx).outlets.push.vapid_public_key.clone()
    }

    /// The largest `first` any list takes.
    async fn max_page_size(&self) -> i32 {
        MAX_PAGE_SIZE
    }

    /// The deepest query accepted.
    async fn max_query_depth(&self) -> usize {
        limits::MAX_DEPTH
    }

    /// The costliest query accepted: each field costs 1, a list its `first` times its
    /// fields, and searches, recommendations and exports the work they do besides.
    async fn max_query_complexity(&self) -> usize {
        limits::MAX_COMPLEXITY
    }
}

#[derive(Default)]
pub struct ServerInfoQuery;

#[Object]
impl ServerInfoQuery {
    /// This server's settings; no sign-in needed.
    async fn server_info(&self) -> ServerInfo {
        ServerInfo
    }
}
