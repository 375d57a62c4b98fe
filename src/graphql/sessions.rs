//! A member's signed-in devices, and the credentials that guard them: password and address.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::Utc;
use entity::session;

use crate::domain::{accounts, sessions};
use crate::graphql::context::{deliver, member, state};
use crate::graphql::ids::{self, Kind};
use crate::graphql::scalars::Time;
use crate::graphql::users::Viewer;

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
    async fn created_at(&self) -> Time {
        Time(self.row.created_at)
    }

    /// When its refresh token was last used (or the session began).
    async fn last_used_at(&self) -> Time {
        Time(self.row.last_used_at)
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

/// A session ended.
#[derive(SimpleObject)]
pub struct RevokeSessionPayload {
    /// The session that is no longer signed in (ended now, or already): remove it from
    /// `Viewer.sessions`.
    pub revoked_session_id: ID,
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
    /// 10 to 1,024 characters.
    pub new_password: String,
}

/// A new address for the account.
#[derive(InputObject)]
pub struct ChangeEmailInput {
    /// Trimmed and lower-cased; must be a valid address no other account has (else CONFLICT).
    pub new_email: String,
    /// The account's password.
    pub password: String,
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Ends one of the viewer's sessions (NOT_FOUND for anyone else's): its refresh and
    /// access tokens are refused at once. Ending one that had ended already changes nothing.
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        input: RevokeSessionInput,
    ) -> async_graphql::Result<RevokeSessionPayload> {
        let viewer = member(ctx)?;
        let id = ids::decode(Kind::Session, "input.sessionId", &input.session_id)?;
        let state = state(ctx);
        let ended = sessions::revoke_own(&state.db, viewer.sub, id, Utc::now()).await?;
        deliver(ctx, ended);
        Ok(RevokeSessionPayload {
            revoked_session_id: input.session_id,
        })
    }

    /// Changes the viewer's password. The current one must be right (UNAUTHENTICATED); the
    /// new one has 10 to 1,024 characters (BAD_USER_INPUT on `input.newPassword`). Every
    /// other session ends; this one goes on. True.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<bool> {
        let viewer = member(ctx)?;
        let state = state(ctx);
        let changed = accounts::change_password(
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
        deliver(ctx, changed);
        Ok(true)
    }

    /// Moves the account to a new address. The password must be right (UNAUTHENTICATED). The
    /// new address is unverified until the code mailed to it is entered (`verifyEmail`); the
    /// old address is told of the change. An address another account has is CONFLICT; the
    /// current one, or a malformed one, is BAD_USER_INPUT on `input.newEmail`. Sessions go
    /// on.
    async fn change_email(
        &self,
        ctx: &Context<'_>,
        input: ChangeEmailInput,
    ) -> async_graphql::Result<Viewer> {
        let viewer = member(ctx)?;
        let state = state(ctx);
        let changed = accounts::change_email(
            &state.db,
            &state.hasher,
            &state.keys.one_time_code,
            viewer.sub,
            &input.new_email,
            input.password,
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("input"))?;
        Ok(Viewer(deliver(ctx, changed)))
    }
}
