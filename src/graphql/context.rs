//! What a resolver may know about the request, and the one way to read the signed-in member.

use async_graphql::Context;
use uuid::Uuid;

use crate::auth::AccessClaims;
use crate::error::{AppError, AppResult};
use crate::graphql::loaders::Loaders;
use crate::state::AppState;

/// Who is asking, as the HTTP layer found it in the `Authorization` header.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    Member(AccessClaims),
    /// A token was presented but is bad or expired: the app should refresh, not be told
    /// it is signed out, so this is UNAUTHENTICATED rather than anonymous.
    Invalid,
}

/// Facts about the HTTP request that resolvers need.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub auth: Auth,
    /// The client's address, for per-client rate limits.
    pub client: String,
    pub user_agent: Option<String>,
}

pub fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The request's data loaders (see `graphql::loaders`).
pub fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

pub fn request<'a>(ctx: &Context<'a>) -> &'a RequestInfo {
    ctx.data_unchecked::<RequestInfo>()
}

/// The signed-in member, if any; a bad token is UNAUTHENTICATED.
pub fn optional_member<'a>(ctx: &Context<'a>) -> AppResult<Option<&'a AccessClaims>> {
    match &request(ctx).auth {
        Auth::Anonymous => Ok(None),
        Auth::Member(claims) => Ok(Some(claims)),
        Auth::Invalid => Err(AppError::Unauthenticated("invalid or expired access token")),
    }
}

/// The signed-in member's claims; UNAUTHENTICATED when nobody is signed in.
pub fn member<'a>(ctx: &Context<'a>) -> AppResult<&'a AccessClaims> {
    optional_member(ctx)?.ok_or(AppError::Unauthenticated("sign in first"))
}

/// The signed-in member's id; UNAUTHENTICATED when nobody is signed in.
pub fn member_id(ctx: &Context<'_>) -> AppResult<Uuid> {
    member(ctx).map(|claims| claims.sub)
}
