//! Signing up and in, sessions, email verification and the profile.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::Utc;
use entity::user;

use crate::domain::accounts::{self, ProfileUpdate, SignUp};
use crate::domain::calendars;
use crate::domain::sessions::{self, IssuedRefresh};
use crate::error::AppResult;
use crate::graphql::context::{deliver, member_id, request, state};
use crate::graphql::geo::GeoPointInput;
use crate::graphql::inputs::{keep_or_set, nullable};
use crate::graphql::scalars::Time;
use crate::graphql::users::{User, Viewer};
use crate::state::AppState;

/// A signed-in session: a short-lived access token and the refresh token that renews it.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`. Valid 15 minutes.
    pub access_token: String,
    /// When the access token stops working.
    pub access_token_expires_at: Time,
    /// Exchange for a new pair with `refreshSession`. Each refresh token works once:
    /// presenting a used one again ends the whole session.
    pub refresh_token: String,
    /// The signed-in member.
    pub user: User,
}

pub(crate) fn auth_payload(
    state: &AppState,
    user: user::Model,
    refresh: IssuedRefresh,
) -> AppResult<AuthPayload> {
    let (access_token, access_token_expires_at) =
        state
            .access_tokens
            .issue(user.id, refresh.session_id, refresh.issued_at)?;
    Ok(AuthPayload {
        access_token,
        access_token_expires_at: Time(access_token_expires_at),
        refresh_token: refresh.token,
        user: User(user),
    })
}

/// A new account.
#[derive(InputObject)]
pub struct SignUpInput {
    /// Trimmed and lower-cased; must be a valid address not yet taken (else CONFLICT).
    pub email: String,
    /// 10 to 1,024 characters.
    pub password: String,
    /// 1–60 characters after trimming.
    pub display_name: String,
}

/// Credentials to sign in with.
#[derive(InputObject)]
pub struct LogInInput {
    /// The account's email address, in any case.
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// The refresh token to exchange.
#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The newest refresh token of the session.
    pub refresh_token: String,
}

/// The session to end.
#[derive(InputObject)]
pub struct LogOutInput {
    /// Any refresh token of the session.
    pub refresh_token: String,
}

/// The code that proves the email address.
#[derive(InputObject)]
pub struct VerifyEmailInput {
    /// The six digits from the mail.
    pub code: String,
}

/// Profile fields to change. Absent fields stay as they are; `null` clears `bio`,
/// `homeLocation`, `timeZone` and `locale` (and leaves `displayName` as it is).
#[derive(InputObject)]
pub struct UpdateProfileInput {
    /// 1–60 characters after trimming.
    pub display_name: Option<String>,
    /// Up to 2,000 characters; an empty bio is cleared.
    pub bio: MaybeUndefined<String>,
    /// The viewer's home, used to rank what is near them; never shown to anyone else.
    pub home_location: MaybeUndefined<GeoPointInput>,
    /// An IANA time zone such as `Europe/Berlin`.
    pub time_zone: MaybeUndefined<String>,
    /// The viewer's language, a BCP 47 tag such as `de`, `es-419` or `en-GB` (stored in its
    /// canonical form): notifications, pushes and mail are written in it. Kith writes
    /// English, German and Spanish; other languages get English. `null` goes back to
    /// English. Not a tag: BAD_USER_INPUT on `input.locale`.
    pub locale: MaybeUndefined<String>,
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account and signs it in. A taken email is CONFLICT. Sign-ups from one client
    /// address are limited (50 an hour unless the server says otherwise; RATE_LIMITED), which
    /// also keeps anyone from checking at scale which addresses have accounts.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        input: SignUpInput,
    ) -> async_graphql::Result<AuthPayload> {
        let state = state(ctx);
        let now = Utc::now();
        let input = SignUp {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
        };
        let info = request(ctx);
        let (user, refresh) = accounts::sign_up(
            &state.db,
            &state.hasher,
            input,
            &info.client,
            state.config.sign_ups_per_hour,
            info.user_agent.clone(),
            now,
        )
        .await
        .map_err(|e| e.under("input"))?;
        Ok(auth_payload(state, user, refresh)?)
    }

    /// Signs in. A wrong email and a wrong password give the same UNAUTHENTICATED; repeated
    /// failures for one email or from one client are RATE_LIMITED for 15 minutes.
    async fn log_in(
        &self,
        ctx: &Context<'_>,
        input: LogInInput,
    ) -> async_graphql::Result<AuthPayload> {
        let state = state(ctx);
        let info = request(ctx);
        let now = Utc::now();
        let (user, refresh) = accounts::log_in(
            &state.db,
            &state.hasher,
            &input.email,
            input.password,
            &info.client,
            info.user_agent.clone(),
            now,
        )
        .await?;
        Ok(auth_payload(state, user, refresh)?)
    }

    /// Exchanges a refresh token for a new access token and a new refresh token; the old
    /// refresh token stops working. A refresh whose answer was lost may be sent again: within
    /// 30 seconds, from the same session, and before the new refresh token is used, the same
    /// token is answered with the same new pair. Otherwise presenting a refresh token that
    /// was already exchanged ends the whole session (UNAUTHENTICATED): someone else may have
    /// a copy. A refresh token unused for 30 days expires.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        input: RefreshSessionInput,
    ) -> async_graphql::Result<AuthPayload> {
        let state = state(ctx);
        let now = Utc::now();
        let refresh = sessions::refresh(
            &state.db,
            &state.keys.refresh_token,
            &input.refresh_token,
            now,
        )
        .await?;
        let user = accounts::get_viewer(&state.db, refresh.user_id).await?;
        Ok(auth_payload(state, user, refresh)?)
    }

    /// Ends the session of this refresh token. True when a session ended; false when the
    /// token was unknown or its session had already ended. The session's access tokens are
    /// refused from then on.
    async fn log_out(&self, ctx: &Context<'_>, input: LogOutInput) -> async_graphql::Result<bool> {
        let ended =
            sessions::end_by_token(&state(ctx).db, &input.refresh_token, Utc::now()).await?;
        Ok(deliver(ctx, ended))
    }

    /// Mails a 6-digit code to the viewer's address, valid 15 minutes; only the newest code
    /// counts. At most 5 codes an hour (RATE_LIMITED). CONFLICT when already verified.
    async fn request_email_verification(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let state = state(ctx);
        let viewer = member_id(ctx)?;
        let requested =
            accounts::request_email_code(&state.db, &state.keys.one_time_code, viewer, Utc::now())
                .await?;
        deliver(ctx, requested);
        Ok(true)
    }

    /// Verifies the viewer's email with the code mailed to it. A wrong code is
    /// BAD_USER_INPUT; the fifth wrong try kills the code (RATE_LIMITED: request a new one).
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        input: VerifyEmailInput,
    ) -> async_graphql::Result<User> {
        let state = state(ctx);
        let viewer = member_id(ctx)?;
        let user = accounts::verify_email(
            &state.db,
            &state.keys.one_time_code,
            viewer,
            &input.code,
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("input"))?;
        Ok(User(user))
    }

    /// Replaces the viewer's calendar feed URL; the old one stops working at once.
    async fn reset_calendar_feed(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let state = state(ctx);
        let viewer = member_id(ctx)?;
        calendars::replace_feed_token(&state.db, viewer).await?;
        Ok(Viewer(accounts::get_viewer(&state.db, viewer).await?))
    }

    /// Changes the viewer's profile; absent fields stay as they are.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> async_graphql::Result<User> {
        let state = state(ctx);
        let viewer = member_id(ctx)?;
        let update = ProfileUpdate {
            display_name: keep_or_set(input.display_name),
            bio: nullable(input.bio, |b| b),
            home_location: nullable(input.home_location, |p| (p.lat, p.lng)),
            time_zone: nullable(input.time_zone, |z| z),
            locale: nullable(input.locale, |l| l),
        };
        let user = accounts::update_profile(&state.db, viewer, update, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(User(user))
    }
}
