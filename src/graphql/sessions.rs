//! A member's signed-in devices, and the credentials that guard them.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::session;

use crate::domain::{accounts, sessions};
use crate::graphql::context::{member, state};
use crate::graphql::ids::{self, Kind};

pub struct Session {
    pub row: session::Model,
    /// The session of the request's own access token.
    pub current: bool,
}

/// A signed-in device: one chain of refresh tokens, from log-in (or sign-up) until it ends.
#[Object]
impl Session {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Session, self.row.id)
    }

    /// When the member signed in on this device.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When its refresh token was last used (or the session began).
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.row.last_used_at
    }

    /// The `User-Agent` the device signed in with, if it sent one.
    async fn user_agent(&self) -> Option<&str> {
        self.row.user_agent.as_deref()
    }

    /// True for the session making this request.
    async fn current(&self) -> bool {
        self.current
    }
}

/// Ending a session.
#[derive(InputObject)]
pub struct RevokeSessionInput {
    /// One of the viewer's sessions (`Viewer.sessions`).
    pub session_id: ID,
}

/// A new password.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password now.
    pub current_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Ends one of the viewer's sessions (NOT_FOUND for anyone else's): its refresh token is
    /// refused at once, and its access token lapses within its 15 minutes. True when it
    /// ended now, false when it had ended already.
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        input: RevokeSessionInput,
    ) -> async_graphql::Result<bool> {
        let viewer = member(ctx)?;
        let id = ids::decode(Kind::Session, "input.sessionId", &input.session_id)?;
        Ok(sessions::revoke_own(&state(ctx).db, viewer.sub, id, Utc::now()).await?)
    }

    /// Changes the viewer's password. The current one must be right (UNAUTHENTICATED); the
    /// new one has at least 10 characters (BAD_USER_INPUT on `input.newPassword`). Every
    /// other session ends; this one goes on. True.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<bool> {
        let viewer = member(ctx)?;
        let state = state(ctx);
        accounts::change_password(
            &state.db,
            &state.hasher,
            viewer.sub,
            viewer.sid,
            input.current_password,
            input.new_password,
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("input"))?;
        Ok(true)
    }
}
