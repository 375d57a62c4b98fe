//! What a resolver may know about the request, the one way to read the signed-in member, and
//! the one way to finish a change.

use async_graphql::Context;
use uuid::Uuid;

use crate::admission::Admission;
use crate::auth::AccessClaims;
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::graphql::loaders::{self, Loaders};
use crate::state::AppState;

/// Who is asking, as admission found them.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    Member(AccessClaims),
    /// A token was presented but is bad, expired or of an ended session: the app should
    /// refresh, not be told it is signed out, so this is UNAUTHENTICATED rather than
    /// anonymous.
    Invalid,
}

impl From<Admission> for Auth {
    fn from(admission: Admission) -> Self {
        match admission {
            Admission::Anonymous => Auth::Anonymous,
            Admission::Member(claims) => Auth::Member(claims),
            Admission::Refused(_) => Auth::Invalid,
        }
    }
}

/// Facts about the request that resolvers need, whatever transport carried it.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub auth: Auth,
    /// The client's address, for per-client rate limits.
    pub client: String,
    pub user_agent: Option<String>,
}

/// The one builder of a request's context, for HTTP and WebSocket alike: who asks, and the
/// request's own data loaders. A query's loaders keep what they load for the rest of the
/// request (a group read for one field is not read again for another); a mutation's and a
/// subscription's do not, since what they read may change while they run.
pub fn prepare(
    mut request: async_graphql::Request,
    state: &AppState,
    info: RequestInfo,
) -> async_graphql::Request {
    let loaders = loaders::loaders(state.db.clone());
    loaders.enable_all_cache(is_query(&mut request));
    request.data(info).data(loaders)
}

/// Whether the operation the request runs is a query (false when it cannot tell).
fn is_query(request: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_some_and(|operation| operation.node.ty == OperationType::Query)
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

/// The value of a committed change; its effects (live updates, mail) go on their way.
pub fn deliver<T>(ctx: &Context<'_>, committed: Committed<T>) -> T {
    state(ctx).outlets.deliver(committed)
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
