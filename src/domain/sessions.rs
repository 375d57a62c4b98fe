//! Signed-in sessions and their refresh tokens.
//!
//! A session is one device's family of refresh tokens. Every refresh replaces the token
//! (rotation); the replaced one is kept, as a hash, so that presenting it again is
//! recognised as reuse: a stolen token used after its owner (or the owner's after the
//! thief's) ends the whole family, and both must sign in again.
//!
//! A lost answer is not a lost session: each token's successor is made from it with a key
//! of the server (`Keys::refresh_token`), so a refresh retried within `RETRY_GRACE` of the
//! rotation, from the same session, while the successor is still unused, is given the same
//! successor (and the same access token) again. After the grace, or once the successor has
//! been used, presenting the old token is reuse as before.

use chrono::{DateTime, Utc};
use entity::{refresh_token, session, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType,
    QueryFilter, QuerySelect, RelationTrait, Set,
};
use uuid::Uuid;

use crate::auth::secrets::{hmac, random_token, token_hash};
use crate::db::Tx;
use crate::effects::{Committed, Effects};
use crate::error::{AppError, AppResult};

const INVALID_REFRESH: AppError =
    AppError::Unauthenticated("invalid, expired or revoked refresh token");

/// A refresh token as handed to the client; only its hash is stored.
pub struct IssuedRefresh {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub token: String,
    /// When it was made: the access token that goes with it is issued as of then, so a
    /// retried refresh gets the very same pair.
    pub issued_at: DateTime<Utc>,
}

/// How long after a rotation the rotated token may be presented again (its answer lost in
/// a tunnel) and get the same successor.
pub const RETRY_GRACE: chrono::Duration = chrono::Duration::seconds(30);

/// The successor of `token`: the same for the same token, unguessable without the key.
fn successor(key: &[u8], token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hmac(key, token.as_bytes()))
}

async fn store_token(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    refresh_token::ActiveModel {
        token_hash: Set(token_hash(token)),
        session_id: Set(session_id),
        created_at: Set(now),
        replaced_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A refresh token unused for this long stops working; the member signs in again.
pub const REFRESH_IDLE_LIFETIME: chrono::Duration = chrono::Duration::days(30);

/// Starts a session for a member who has just proved who they are (inside the caller's
/// transaction, with whatever proved it).
pub async fn start(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    user_agent: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<IssuedRefresh> {
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        user_agent: Set(user_agent.map(|ua| ua.chars().take(256).collect())),
        created_at: Set(now),
        last_used_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    let token = random_token();
    store_token(db, session.id, &token, now).await?;
    Ok(IssuedRefresh {
        session_id: session.id,
        user_id,
        token,
        issued_at: now,
    })
}

/// Exchanges a refresh token for its successor in the same session.
pub async fn refresh(
    db: &DatabaseConnection,
    key: &[u8],
    presented: &str,
    now: DateTime<Utc>,
) -> AppResult<IssuedRefresh> {
    let tx = Tx::begin(db).await?;
    let outcome = rotate(&tx, key, presented, now).await?;
    // Committed whatever the outcome: a reuse must revoke the session although the
    // client is answered with an error.
    tx.commit().await?.expect_none();
    outcome
}

/// The rotation itself; reuse is reported as `Ok(Err(..))` so that the caller still
/// commits the revocation.
async fn rotate(
    db: &impl ConnectionTrait,
    key: &[u8],
    presented: &str,
    now: DateTime<Utc>,
) -> AppResult<Result<IssuedRefresh, AppError>> {
    let hash = token_hash(presented);
    let Some((token, Some(session))) = refresh_token::Entity::find_by_id(hash.clone())
        .find_also_related(session::Entity)
        .one(db)
        .await?
    else {
        return Ok(Err(INVALID_REFRESH));
    };
    if session.revoked_at.is_some() || token.created_at + REFRESH_IDLE_LIFETIME <= now {
        return Ok(Err(INVALID_REFRESH));
    }
    let next = successor(key, presented);
    // Mark the token replaced only if nobody else did: of two refreshes with the same
    // token, exactly one rotates; the other is a retry or a reuse.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::ReplacedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash.clone()))
        .filter(refresh_token::Column::ReplacedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1;
    let issued_at = if claimed {
        session::Entity::update_many()
            .col_expr(session::Column::LastUsedAt, Expr::value(now))
            .filter(session::Column::Id.eq(session.id))
            .exec(db)
            .await?;
        store_token(db, session.id, &next, now).await?;
        now
    } else {
        match retried_at(db, &hash, &next, now).await? {
            Some(rotated_at) => rotated_at,
            None => {
                revoke(db, session.id, now).await?;
                tracing::warn!(session = %session.id, user = %session.user_id, "refresh token reused; session revoked");
                return Ok(Err(INVALID_REFRESH));
            }
        }
    };
    Ok(Ok(IssuedRefresh {
        session_id: session.id,
        user_id: session.user_id,
        token: next,
        issued_at,
    }))
}

/// When a replaced token is presented again: Some(when it was rotated) for a retry within
/// the grace whose successor `next` is still unused; None for a reuse.
async fn retried_at(
    db: &impl ConnectionTrait,
    hash: &str,
    next: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<DateTime<Utc>>> {
    let Some(rotated_at) = refresh_token::Entity::find_by_id(hash.to_owned())
        .one(db)
        .await?
        .and_then(|t| t.replaced_at)
    else {
        return Ok(None);
    };
    if now - rotated_at > RETRY_GRACE {
        return Ok(None);
    }
    let unused = refresh_token::Entity::find_by_id(token_hash(next))
        .one(db)
        .await?
        .is_some_and(|t| t.replaced_at.is_none());
    Ok(unused.then_some(rotated_at))
}

/// Ends the session that `presented` belongs to: true when it ended now, false when the
/// token is unknown or its session had already ended.
pub async fn end_by_token(
    db: &impl ConnectionTrait,
    presented: &str,
    now: DateTime<Utc>,
) -> AppResult<Committed<bool>> {
    let Some((token, Some(session))) = refresh_token::Entity::find_by_id(token_hash(presented))
        .find_also_related(session::Entity)
        .one(db)
        .await?
    else {
        return Ok(Committed::new(false, Effects::default()));
    };
    let ended = revoke(db, token.session_id, now).await?;
    Ok(ended_now(ended, session.user_id))
}

/// `ended`, with the word that the member's sessions ended when they did.
fn ended_now(ended: bool, user_id: Uuid) -> Committed<bool> {
    let mut effects = Effects::default();
    if ended {
        effects.sessions_ended(user_id);
    }
    Committed::new(ended, effects)
}

/// Ends a session: its refresh tokens stop working at once.
pub async fn revoke(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let result = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends every session of a member.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let result = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// A member's signed-in devices: the `limit` sessions not ended and used within the idle
/// lifetime, most recently used first.
pub async fn active_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<session::Model>> {
    use sea_orm::QueryOrder;
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::LastUsedAt.gt(now - REFRESH_IDLE_LIFETIME))
        .order_by_desc(session::Column::LastUsedAt)
        .order_by_desc(session::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Ends one of the member's own sessions; NOT_FOUND for anyone else's. False when it had
/// ended already.
pub async fn revoke_own(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Committed<bool>> {
    session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .filter(|s| s.user_id == user_id)
        .ok_or(AppError::NotFound("session"))?;
    let ended = revoke(db, session_id, now).await?;
    Ok(ended_now(ended, user_id))
}

/// Ends every session of the member but `keep`.
pub async fn revoke_others(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Uuid,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let result = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Id.ne(keep))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Where a session stands, for admitting its access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Signed in: its access tokens are honoured.
    Live,
    /// Ended (logged out, revoked, a password changed or reset, the account deleted), or
    /// never the member's.
    Ended,
    /// The member is banned.
    Banned,
}

/// Where the member's session stands, in one statement: an access token is honoured only
/// while it is `Live`, so ending a session turns away its access tokens at once rather than
/// when they lapse.
pub async fn standing(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    user_id: Uuid,
) -> AppResult<Standing> {
    type Row = (Uuid, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let row: Option<Row> = session::Entity::find_by_id(session_id)
        .select_only()
        .column(session::Column::UserId)
        .column(session::Column::RevokedAt)
        .column(user::Column::BannedAt)
        .join(JoinType::InnerJoin, session::Relation::User.def())
        .into_tuple()
        .one(db)
        .await?;
    Ok(match row {
        Some((owner, _, Some(_))) if owner == user_id => Standing::Banned,
        Some((owner, None, None)) if owner == user_id => Standing::Live,
        _ => Standing::Ended,
    })
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<session::Model>> {
    Ok(session::Entity::find_by_id(id).one(db).await?)
}

/// Forgets refresh tokens that can never work again: those past `REFRESH_IDLE_LIFETIME`
/// (refused before any reuse check, so nothing is lost by forgetting them) and those of
/// ended sessions. A replaced token still within its lifetime is kept: presenting it is
/// how reuse is recognised. Returns how many went.
pub async fn prune_refresh_tokens(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<u64> {
    use sea_orm::sea_query::Query;
    let expired = refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::CreatedAt.lte(now - REFRESH_IDLE_LIFETIME))
        .exec(db)
        .await?
        .rows_affected;
    let ended = refresh_token::Entity::delete_many()
        .filter(
            refresh_token::Column::SessionId.in_subquery(
                Query::select()
                    .column(session::Column::Id)
                    .from(session::Entity)
                    .and_where(session::Column::RevokedAt.is_not_null())
                    .to_owned(),
            ),
        )
        .exec(db)
        .await?
        .rows_affected;
    Ok(expired + ended)
}
