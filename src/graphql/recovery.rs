//! Getting back into an account whose password is forgotten.

use async_graphql::{Context, InputObject, Object};
use chrono::Utc;

use crate::domain::password_reset;
use crate::graphql::accounts::{AuthPayload, auth_payload};
use crate::graphql::context::{deliver, request, state};

/// The address of the account.
#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    /// The account's email address, in any case.
    pub email: String,
}

/// The code from the mail and the password to set.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The address the code was mailed to.
    pub email: String,
    /// The six digits from the mail.
    pub code: String,
    /// 10 to 1,024 characters.
    pub new_password: String,
}

#[derive(Default)]
pub struct RecoveryMutation;

#[Object]
impl RecoveryMutation {
    /// Mails a 6-digit code, valid 15 minutes, to the address if it has an account; only
    /// the newest code counts. Always true, whether or not the address has an account, and
    /// in about the same time: the answer tells nobody which addresses are members. A
    /// malformed address is BAD_USER_INPUT; more than 5 requests an hour for one address,
    /// or 20 from one client, are RATE_LIMITED, known address or not.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        input: RequestPasswordResetInput,
    ) -> async_graphql::Result<bool> {
        let state = state(ctx);
        let requested = password_reset::request(
            &state.db,
            &state.keys.one_time_code,
            &input.email,
            &request(ctx).client,
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("input"))?;
        deliver(ctx, requested);
        Ok(true)
    }

    /// Sets a new password with the code from `requestPasswordReset` and signs in. Every
    /// other session of the member ends (refresh and access tokens are refused at once), and
    /// an unverified address becomes verified: the code proved it. A wrong, expired or used
    /// code, or an address without an account, is the same BAD_USER_INPUT on `input.code`;
    /// the fifth wrong try at an address locks it (RATE_LIMITED) until a new code is
    /// requested or 15 minutes pass, and a client may try 20 times in 15 minutes. A new password
    /// under 10 or over 1,024 characters is BAD_USER_INPUT on `input.newPassword`.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<AuthPayload> {
        let state = state(ctx);
        let now = Utc::now();
        let reset = password_reset::reset(
            &state.db,
            &state.hasher,
            &state.keys.one_time_code,
            password_reset::Reset {
                email: input.email,
                code: input.code,
                new_password: input.new_password,
            },
            &request(ctx).client,
            request(ctx).user_agent.clone(),
            now,
        )
        .await
        .map_err(|e| e.under("input"))?;
        let (user, refresh) = deliver(ctx, reset);
        Ok(auth_payload(state, user, refresh)?)
    }
}
