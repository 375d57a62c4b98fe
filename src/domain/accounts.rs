//! Member accounts: sign-up, log-in, profiles and email verification.

use chrono::{DateTime, Duration, Utc};
use entity::user::{self, Column, Entity};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, SqlErr,
};
use uuid::Uuid;

use crate::auth::PasswordHasher;
use crate::auth::secrets::token_hash;
use crate::db::Tx;
use crate::domain::Patch;
use crate::domain::codes::{self, Purpose};
use crate::domain::geo::GeoPoint;
use crate::domain::rate_limit::{self, Limit};
use crate::domain::sessions::{self, IssuedRefresh};
use crate::domain::zones::parse_time_zone;
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::notify::messages::{AccountMail, Lang, canonical_tag};
use crate::notify::outbox;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer inputs only make hashing slower; no one types more.
pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_DISPLAY_NAME_CHARS: usize = 60;
pub const MAX_BIO_CHARS: usize = 2000;
const MAX_EMAIL_CHARS: usize = 254;

/// Failed log-ins from one client address, whatever the account, in 15 minutes: counted
/// first, so a client over it counts against no account.
pub const LOGIN_FAILURES_PER_CLIENT: Limit = Limit {
    max: 50,
    window: Duration::minutes(15),
};
/// Failed log-ins for one account from one client address, in 15 minutes.
pub const LOGIN_FAILURES_PER_CLIENT_AND_EMAIL: Limit = Limit {
    max: 10,
    window: Duration::minutes(15),
};
/// Failed log-ins for one account from anywhere, in an hour (NIST SP 800-63B: at most 100
/// in a row). Over it, only clients the account signed in from before may try; the owner on
/// a known network is not locked out by strangers.
pub const LOGIN_FAILURES_PER_EMAIL: Limit = Limit {
    max: 100,
    window: Duration::hours(1),
};
/// How long a client that signed in to an account stays known to it.
pub const KNOWN_CLIENT_FOR: Duration = Duration::days(30);
/// The rate-limit keys that remember a known client (kept `KNOWN_CLIENT_FOR`).
pub const KNOWN_CLIENT_PREFIX: &str = "login:known:";

/// The key of the failed log-ins counted for an address.
pub fn login_email_key(email: &str) -> String {
    format!("login:email:{}", token_hash(email))
}

const WRONG_CREDENTIALS: AppError = AppError::Unauthenticated("wrong email or password");

/// Characters that show as nothing: an address holding one looks like another member's.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// Trims, lower-cases and validates an email address: only one mail can be delivered to.
/// Quoted local parts (`"x y"@example.com`) and address literals (`a@[127.0.0.1]`) are
/// refused: they are valid in RFC 5322, but no member types them, and mail servers refuse
/// them.
pub fn parse_email(field: &str, raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    let deliverable = email.chars().count() <= MAX_EMAIL_CHARS
        && email_address::EmailAddress::is_valid(&email)
        && email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.'))
        && !email.contains(['"', '[', ']', '(', ')', '\\', ' ', ',', ';', ':', '<', '>'])
        && !email.chars().any(|c| c.is_control() || is_invisible(c))
        && email.parse::<lettre::message::Mailbox>().is_ok();
    if !deliverable {
        return Err(AppError::bad_input(field, "not a valid email address"));
    }
    Ok(email)
}

pub fn check_password(field: &str, password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("a password may have at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

pub fn parse_display_name(field: &str, raw: &str) -> AppResult<String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("a display name has 1 to {MAX_DISPLAY_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            "a display name may not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// A write refused because another account has the address is CONFLICT.
fn email_taken(err: DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::conflict("an account with this email already exists")
        }
        _ => err.into(),
    }
}

pub struct SignUp {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

/// Creates an account and its first session, together or not at all. A taken email is
/// CONFLICT. Each attempt from a client is counted against `per_client_hourly` before the
/// password is hashed, so neither hashing nor asking which addresses are taken runs
/// unbounded.
pub async fn sign_up(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    input: SignUp,
    client: &str,
    per_client_hourly: i32,
    user_agent: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<(user::Model, IssuedRefresh)> {
    let email = parse_email("email", &input.email)?;
    check_password("password", &input.password)?;
    let display_name = parse_display_name("displayName", &input.display_name)?;
    let tx = Tx::begin(db).await?;
    let limit = Limit {
        max: per_client_hourly,
        window: Duration::hours(1),
    };
    let limited = rate_limit::hit(&tx, &format!("signup:client:{client}"), limit, now).await?;
    tx.commit().await?.expect_none();
    if let Some(limited) = limited {
        return Err(limited);
    }
    // Hashed before the transaction: no write lock is held across argon2.
    let password_hash = hasher.hash(input.password).await?;
    let tx = Tx::begin(db).await?;
    let user = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        email_verified_at: Set(None),
        password_hash: Set(password_hash),
        display_name: Set(display_name),
        bio: Set(None),
        home_lat: Set(None),
        home_lng: Set(None),
        time_zone: Set(None),
        calendar_token: Set(None),
        banned_at: Set(None),
        trusted: Set(false),
        locale: Set(None),
        avatar_image_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await
    .map_err(email_taken)?;
    let refresh = sessions::start(&tx, user.id, user_agent, now).await?;
    tx.commit().await?.expect_none();
    Ok((user, refresh))
}

/// Checks an email and password and starts a session.
///
/// Unknown email and wrong password give the same error after the same work. Every attempt
/// is counted before the password is checked (per client first, then per account and
/// client, then per account), so that many attempts at once cannot slip past the limits; a
/// success gives its attempts back. Credentials no account can have (over-long) are refused
/// at once, without hashing.
pub async fn log_in(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    email: &str,
    password: String,
    client: &str,
    user_agent: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<(user::Model, IssuedRefresh)> {
    let email = email.trim().to_lowercase();
    if email.chars().count() > MAX_EMAIL_CHARS || password.chars().count() > MAX_PASSWORD_CHARS {
        // No account has such credentials: wrong, without work or counting.
        return Err(WRONG_CREDENTIALS);
    }
    let keys = LogInKeys::new(&email, client);
    count_log_in(db, &keys, now).await?;

    let user = find_by_email(db, &email).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = hasher.verify(password, hash).await?;
    let Some(user) = user.filter(|_| verified) else {
        return Err(WRONG_CREDENTIALS);
    };
    if user.banned_at.is_some() {
        return Err(AppError::forbidden("this account is banned"));
    }
    let tx = Tx::begin(db).await?;
    rate_limit::clear(&tx, &keys.email).await?;
    rate_limit::clear(&tx, &keys.pair).await?;
    rate_limit::release(&tx, &keys.client).await?;
    rate_limit::remember(&tx, &keys.known, now).await?;
    let refresh = sessions::start(&tx, user.id, user_agent, now).await?;
    tx.commit().await?.expect_none();
    Ok((user, refresh))
}

/// The counters of one log-in attempt.
struct LogInKeys {
    client: String,
    pair: String,
    email: String,
    known: String,
}

impl LogInKeys {
    fn new(email: &str, client: &str) -> Self {
        let both = format!("{email}\n{client}");
        LogInKeys {
            client: format!("login:client:{client}"),
            pair: format!("login:pair:{}", token_hash(&both)),
            email: login_email_key(email),
            known: format!("{KNOWN_CLIENT_PREFIX}{}", token_hash(&both)),
        }
    }
}

/// Counts one log-in attempt in one write transaction, committed whatever the outcome.
async fn count_log_in(
    db: &DatabaseConnection,
    keys: &LogInKeys,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let tx = Tx::begin(db).await?;
    let outcome = count_in(&tx, keys, now).await;
    tx.commit().await?.expect_none();
    outcome
}

/// RATE_LIMITED when a limit is reached. A client over its own limit counts against no
/// account; past the account's own limit, only clients it signed in from before may try.
async fn count_in(tx: &Tx, keys: &LogInKeys, now: DateTime<Utc>) -> AppResult<()> {
    if let Some(limited) = rate_limit::hit(tx, &keys.client, LOGIN_FAILURES_PER_CLIENT, now).await?
    {
        return Err(limited);
    }
    if let Some(limited) =
        rate_limit::hit(tx, &keys.pair, LOGIN_FAILURES_PER_CLIENT_AND_EMAIL, now).await?
    {
        return Err(limited);
    }
    match rate_limit::hit(tx, &keys.email, LOGIN_FAILURES_PER_EMAIL, now).await? {
        Some(limited)
            if !rate_limit::remembered(tx, &keys.known, now - KNOWN_CLIENT_FOR).await? =>
        {
            Err(limited)
        }
        _ => Ok(()),
    }
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<user::Model>> {
    Ok(Entity::find_by_id(id).one(db).await?)
}

/// The account with this address (already trimmed and lower-cased).
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<user::Model>> {
    Ok(Entity::find()
        .filter(Column::Email.eq(email))
        .one(db)
        .await?)
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<user::Model>> {
    Ok(Entity::find()
        .filter(Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?)
}

/// The signed-in member's own row; an access token for a deleted account is UNAUTHENTICATED.
pub async fn get_viewer(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    find(db, id)
        .await?
        .ok_or(AppError::Unauthenticated("the account no longer exists"))
}

#[derive(Default)]
pub struct ProfileUpdate {
    pub display_name: Patch<String>,
    pub bio: Patch<Option<String>>,
    pub home_location: Patch<Option<(f64, f64)>>,
    pub time_zone: Patch<Option<String>>,
    pub locale: Patch<Option<String>>,
}

/// Changes the fields given; absent ones stay as they are, and a null clears an optional one.
/// Field names in errors are relative to the input (`displayName`, `homeLocation.lat`).
pub async fn update_profile(
    db: &DatabaseConnection,
    user_id: Uuid,
    update: ProfileUpdate,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    let tx = Tx::begin(db).await?;
    let user = get_viewer(&tx, user_id).await?;
    let mut row: user::ActiveModel = user.into();
    if let Patch::Set(name) = update.display_name {
        row.display_name = Set(parse_display_name("displayName", &name)?);
    }
    if let Patch::Set(bio) = update.bio {
        let bio = bio.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
        if bio
            .as_ref()
            .is_some_and(|b| b.chars().count() > MAX_BIO_CHARS)
        {
            return Err(AppError::bad_input(
                "bio",
                format!("a bio may have at most {MAX_BIO_CHARS} characters"),
            ));
        }
        row.bio = Set(bio);
    }
    if let Patch::Set(home) = update.home_location {
        let point = home
            .map(|(lat, lng)| GeoPoint::new(lat, lng).map_err(|e| e.under("homeLocation")))
            .transpose()?;
        row.home_lat = Set(point.map(|p| p.lat()));
        row.home_lng = Set(point.map(|p| p.lng()));
    }
    if let Patch::Set(zone) = update.time_zone {
        let zone = zone
            .map(|z| parse_time_zone("timeZone", &z).map(|tz| tz.name().to_owned()))
            .transpose()?;
        row.time_zone = Set(zone);
    }
    if let Patch::Set(locale) = update.locale {
        let locale = locale
            .map(|tag| {
                canonical_tag(&tag).map_err(|message| AppError::bad_input("locale", message))
            })
            .transpose()?;
        row.locale = Set(locale);
    }
    row.updated_at = Set(now);
    let user = row.update(&tx).await?;
    tx.commit().await?.expect_none();
    Ok(user)
}

/// A new email-verification code for the viewer, mailed once this commits.
pub async fn request_email_code(
    db: &DatabaseConnection,
    code_key: &[u8],
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Committed<()>> {
    let mut tx = Tx::begin(db).await?;
    let user = get_viewer(&tx, user_id).await?;
    if user.email_verified_at.is_some() {
        return Err(AppError::conflict("the email address is already verified"));
    }
    let code = codes::issue(
        &tx,
        code_key,
        user.id,
        Purpose::VerifyEmail,
        &user.email,
        now,
    )
    .await?;
    let lang = Lang::of(user.locale.as_deref());
    tx.effects()
        .mail_code(AccountMail::VerificationCode { code: &code }.to(
            lang,
            &user.email,
            &user.display_name,
        ));
    let effects = tx.commit().await?;
    Ok(Committed::new((), effects))
}

/// Marks the viewer's email verified when `code` is the newest one mailed to it.
pub async fn verify_email(
    db: &DatabaseConnection,
    code_key: &[u8],
    user_id: Uuid,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    // Wrong tries must be counted even though the answer is an error, so the transaction
    // commits in both cases.
    let tx = Tx::begin(db).await?;
    let user = get_viewer(&tx, user_id).await?;
    if user.email_verified_at.is_some() {
        return Err(AppError::conflict("the email address is already verified"));
    }
    let outcome = codes::redeem(
        &tx,
        code_key,
        user.id,
        Purpose::VerifyEmail,
        code,
        "code",
        now,
    )
    .await;
    let result = match outcome {
        Ok(redeemed) if redeemed.sent_to == user.email => {
            let mut row: user::ActiveModel = user.into();
            row.email_verified_at = Set(Some(now));
            row.updated_at = Set(now);
            Ok(row.update(&tx).await?)
        }
        Ok(_) => Err(AppError::conflict(
            "the code was sent to an earlier address; request a new one",
        )),
        Err(e) => Err(e),
    };
    tx.commit().await?.expect_none();
    result
}

/// Wrong passwords given by a signed-in member (to change the password or the address, or
/// to delete the account), per account in 15 minutes: a stolen access token buys few
/// guesses.
pub const OWN_PASSWORD_FAILURES: Limit = Limit {
    max: 10,
    window: Duration::minutes(15),
};

/// Checks the signed-in member's password: UNAUTHENTICATED when wrong, RATE_LIMITED after
/// `OWN_PASSWORD_FAILURES`. Each check is counted before the hash is compared (so guesses
/// sent at once cannot slip past), and a right one gives its count back.
pub async fn check_own_password(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    user: &user::Model,
    password: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let key = format!("password:user:{}", user.id);
    let tx = Tx::begin(db).await?;
    let limited = rate_limit::hit(&tx, &key, OWN_PASSWORD_FAILURES, now).await?;
    tx.commit().await?.expect_none();
    if let Some(limited) = limited {
        return Err(limited);
    }
    if !hasher
        .verify(password, Some(user.password_hash.clone()))
        .await?
    {
        return Err(AppError::Unauthenticated("the password is wrong"));
    }
    rate_limit::release(db, &key).await
}

/// Changes the member's password after checking the current one (UNAUTHENTICATED when
/// wrong), and ends every other session: a device that had the old password is signed out.
pub async fn change_password(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    user_id: Uuid,
    current_session: Uuid,
    current_password: String,
    new_password: String,
    now: DateTime<Utc>,
) -> AppResult<Committed<()>> {
    check_password("newPassword", &new_password)?;
    let user = get_viewer(db, user_id).await?;
    check_own_password(db, hasher, &user, current_password, now).await?;
    let hash = hasher.hash(new_password).await?;
    let mut tx = Tx::begin(db).await?;
    Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(user_id))
        .exec(&tx)
        .await?;
    sessions::revoke_others(&tx, user_id, current_session, now).await?;
    tx.effects().sessions_ended(user_id);
    let effects = tx.commit().await?;
    Ok(Committed::new((), effects))
}

/// Moves the member to a new address after checking their password (UNAUTHENTICATED when
/// wrong). The new address is unverified until its code is entered (mailed to it); the old
/// one is told where the account went (through the outbox: that word must not be lost).
/// One another account has is CONFLICT. All or nothing: a code that may not be issued now
/// (RATE_LIMITED) leaves the address as it was.
pub async fn change_email(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    code_key: &[u8],
    user_id: Uuid,
    raw_email: &str,
    password: String,
    now: DateTime<Utc>,
) -> AppResult<Committed<user::Model>> {
    let email = parse_email("newEmail", raw_email)?;
    let user = get_viewer(db, user_id).await?;
    check_own_password(db, hasher, &user, password, now).await?;
    if email == user.email {
        return Err(AppError::bad_input(
            "newEmail",
            "this is already the account's address",
        ));
    }
    let mut tx = Tx::begin(db).await?;
    let old_email = user.email.clone();
    let was_verified = user.email_verified_at.is_some();
    let mut row: user::ActiveModel = user.into();
    row.email = Set(email.clone());
    row.email_verified_at = Set(None);
    row.updated_at = Set(now);
    let user = row.update(&tx).await.map_err(email_taken)?;
    let code = codes::issue(&tx, code_key, user.id, Purpose::VerifyEmail, &email, now).await?;
    let lang = Lang::of(user.locale.as_deref());
    tx.effects()
        .mail_code(AccountMail::VerificationCode { code: &code }.to(
            lang,
            &user.email,
            &user.display_name,
        ));
    // The word to the old address is for whoever proved they read it; an address never
    // verified (or one told too often this hour) is not written to.
    if was_verified && codes::count_mail_to(&tx, &old_email, now).await?.is_none() {
        let notice =
            AccountMail::EmailChanged { new: &user.email }.to(lang, &old_email, &user.display_name);
        outbox::queue(&mut tx, vec![(Some(user.id), notice)], now).await?;
    }
    let effects = tx.commit().await?;
    Ok(Committed::new(user, effects))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_deliverable_addresses_are_accepted() {
        for good in [
            "ann@example.com",
            " Bo.Smith+kith@Mail.Example.org ",
            "jörg@bücher.de",
        ] {
            assert!(parse_email("email", good).is_ok(), "{good}");
        }
        for bad in [
            "\"x y\"@example.com",
            "a@[127.0.0.1]",
            "a@localhost",
            "no-at-sign.example.com",
            "a b@example.com",
            "a@exa mple.com",
            "a\u{200B}b@example.com",
            "(comment)a@example.com",
        ] {
            assert!(parse_email("email", bad).is_err(), "{bad}");
        }
    }
}
