//! Getting back into an account: a code mailed to its address, then a new password.
//!
//! Nothing here tells whether an address has an account. Asking for a code answers the
//! same either way, after the same work (the limits, in one write transaction); looking the
//! address up, making the code and mailing it happen after the answer. The limits count
//! unknown addresses as they count known ones. Redeeming fails with one message whether the
//! address is unknown, no code was asked for, or the code is wrong, expired or used; and
//! tries are counted per address, known or not, so the fifth wrong one locks any address
//! alike, until a new code is asked for or the window passes.

use chrono::{DateTime, Duration, Utc};
use entity::user;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

use crate::auth::PasswordHasher;
use crate::auth::secrets::token_hash;
use crate::db::Tx;
use crate::domain::accounts::{check_password, find_by_email, login_email_key, parse_email};
use crate::domain::codes::{self, Purpose};
use crate::domain::rate_limit::{self, Limit};
use crate::domain::sessions::{self, IssuedRefresh};
use crate::effects::{Committed, Outlets};
use crate::error::{AppError, AppResult};
use crate::notify::messages::{AccountMail, Lang};

/// Reset codes asked for one address, known or not.
pub const REQUESTS_PER_ADDRESS: Limit = Limit {
    max: codes::MAX_REQUESTS_PER_HOUR,
    window: Duration::hours(1),
};
/// Reset codes asked for from one client address, whatever the email.
pub const REQUESTS_PER_CLIENT: Limit = Limit {
    max: 20,
    window: Duration::hours(1),
};
/// Tries from one client address, whatever the address tried.
const TRIES_PER_CLIENT: Limit = Limit {
    max: 20,
    window: Duration::minutes(15),
};
/// Tries per address, known or not: the fifth wrong one locks it. Asking for a code starts
/// the count again.
const TRIES: Limit = Limit {
    max: codes::MAX_ATTEMPTS,
    window: codes::LIFETIME,
};

fn wrong_code() -> AppError {
    AppError::bad_input(
        "code",
        "wrong, expired or already used code; request a new one",
    )
}

fn address_key(prefix: &str, email: &str) -> String {
    format!("{prefix}:email:{}", token_hash(email))
}

/// A code to mail once the request commits.
pub struct ResetCode {
    pub to: String,
    pub display_name: String,
    pub code: String,
    /// The member's language.
    pub lang: Lang,
}

/// Counts a request for `raw_email` from `client`, and starts the count of tries at the
/// address again: the same statements whether or not the address has an account. Looking
/// the address up, making the code and mailing it follow the answer (`issue`).
pub async fn request(
    db: &DatabaseConnection,
    code_key: &[u8],
    raw_email: &str,
    client: &str,
    now: DateTime<Utc>,
) -> AppResult<Committed<()>> {
    let email = parse_email("email", raw_email)?;
    let mut tx = Tx::begin(db).await?;
    let per_address = rate_limit::hit(
        &tx,
        &address_key("reset", &email),
        REQUESTS_PER_ADDRESS,
        now,
    )
    .await?;
    let per_client = rate_limit::hit(
        &tx,
        &format!("reset:client:{client}"),
        REQUESTS_PER_CLIENT,
        now,
    )
    .await?;
    let limited = match per_address.or(per_client) {
        Some(limited) => Some(limited),
        None => codes::count_mail_to(&tx, &email, now).await?,
    };
    if let Some(limited) = limited {
        tx.commit().await?.expect_none();
        return Err(limited);
    }
    rate_limit::clear(&tx, &address_key("reset-try", &email)).await?;
    let code_key = code_key.to_vec();
    tx.effects().follow_up(Box::new(move |outlets: Outlets| {
        Box::pin(async move {
            match issue(&outlets.db, &code_key, &email, Utc::now()).await {
                Ok(Some(code)) => {
                    let mail = AccountMail::ResetCode { code: &code.code }.to(
                        code.lang,
                        &code.to,
                        &code.display_name,
                    );
                    outlets.mailer.send_or_log(mail).await;
                }
                Ok(None) => {}
                Err(err) => tracing::error!(error = ?err, "reset code not made"),
            }
        })
    }));
    let effects = tx.commit().await?;
    Ok(Committed::new((), effects))
}

/// Makes a code for `email` when it belongs to a member who is not banned; None when there
/// is nothing to mail. Run after the answer to `request` has gone, so that how long the
/// answer took tells nothing.
pub async fn issue(
    db: &DatabaseConnection,
    code_key: &[u8],
    email: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<ResetCode>> {
    let tx = Tx::begin(db).await?;
    let Some(user) = find_by_email(&tx, email)
        .await?
        .filter(|u| u.banned_at.is_none())
    else {
        return Ok(None);
    };
    let code = codes::create(
        &tx,
        code_key,
        user.id,
        Purpose::ResetPassword,
        &user.email,
        now,
    )
    .await?;
    tx.commit().await?.expect_none();
    Ok(Some(ResetCode {
        lang: Lang::of(user.locale.as_deref()),
        to: user.email,
        display_name: user.display_name,
        code,
    }))
}

/// Counts a try at `tries_key` and from `client`, before any hashing: RATE_LIMITED past
/// either limit.
async fn count_try(
    db: &DatabaseConnection,
    tries_key: &str,
    client: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let tx = Tx::begin(db).await?;
    let per_client = rate_limit::hit(
        &tx,
        &format!("reset-try:client:{client}"),
        TRIES_PER_CLIENT,
        now,
    )
    .await?;
    let limited = match per_client {
        Some(limited) => Some(limited),
        None => rate_limit::hit(&tx, tries_key, TRIES, now).await?,
    };
    tx.commit().await?.expect_none();
    limited.map_or(Ok(()), Err)
}

/// What `resetPassword` is given.
pub struct Reset {
    pub email: String,
    pub code: String,
    pub new_password: String,
}

/// Sets a new password with the newest reset code mailed to `raw_email`, ends every session
/// of the member (their connections close) and starts a new one. The code proves the
/// address, so an unverified address becomes verified.
pub async fn reset(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    code_key: &[u8],
    input: Reset,
    client: &str,
    user_agent: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Committed<(user::Model, IssuedRefresh)>> {
    check_password("newPassword", &input.new_password)?;
    let email = parse_email("email", &input.email)?;
    let code = input.code;
    let tries_key = address_key("reset-try", &email);
    count_try(db, &tries_key, client, now).await?;
    // Hashed once the try is counted, for every address: no write lock is held across
    // argon2, and an unknown address takes as long as a known one.
    let hash = hasher.hash(input.new_password).await?;
    let mut tx = Tx::begin(db).await?;
    // A wrong try: locked when it was the last one allowed.
    let refuse = || async {
        let wait = rate_limit::retry_after(&tx, &tries_key, TRIES, now).await?;
        Err::<(user::Model, IssuedRefresh), _>(match wait {
            Some(retry_after_seconds) => AppError::RateLimited {
                retry_after_seconds,
            },
            None => wrong_code(),
        })
    };
    let Some(user) = find_by_email(&tx, &email).await? else {
        let refused = refuse().await;
        tx.commit().await?.expect_none();
        return refused.map(|done| Committed::new(done, Default::default()));
    };
    let outcome = codes::redeem(
        &tx,
        code_key,
        user.id,
        Purpose::ResetPassword,
        &code,
        "code",
        now,
    )
    .await;
    let result = match outcome {
        Ok(redeemed) if redeemed.sent_to == user.email => {
            if user.banned_at.is_some() {
                Err(AppError::forbidden("this account is banned"))
            } else {
                let verified_at = user.email_verified_at.unwrap_or(now);
                let mut row: user::ActiveModel = user.into();
                row.password_hash = Set(hash);
                row.email_verified_at = Set(Some(verified_at));
                row.updated_at = Set(now);
                let user = row.update(&tx).await?;
                sessions::revoke_all(&tx, user.id, now).await?;
                rate_limit::clear(&tx, &login_email_key(&user.email)).await?;
                rate_limit::clear(&tx, &tries_key).await?;
                let refresh = sessions::start(&tx, user.id, user_agent, now).await?;
                Ok((user, refresh))
            }
        }
        Err(err @ AppError::Internal(_)) => Err(err),
        // A code for an earlier address, or any refusal of the code: one answer.
        Ok(_) | Err(_) => refuse().await,
    };
    if let Ok((user, _)) = &result {
        tx.effects().sessions_ended(user.id);
    }
    // Committed whatever the outcome: wrong tries must count.
    let effects = tx.commit().await?;
    result.map(|done| Committed::new(done, effects))
}
