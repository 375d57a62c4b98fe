//! The outbox of mail that must not be lost (see `effects` for the two rules of mail).
//!
//! A mail is written here in the transaction of the change it tells of, so a change that
//! rolls back sends nothing. Right after the commit it is sent and deleted. If that send
//! fails, or the process dies first, the row stays owed: after a grace period the background
//! loop claims it (a conditional update, so one process takes it) and tries again, up to
//! `ATTEMPTS` times, `RETRY_EVERY` apart. A mail may, rarely, go twice (a crash after
//! sending, before deleting); it is never lost silently.

use chrono::{DateTime, Duration, Utc};
use entity::mail_outbox::{self, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::error::AppResult;
use crate::notify::{Mail, Mailer};

/// How long the send that follows the commit has before the background loop may take over.
pub const GRACE: Duration = Duration::minutes(2);
/// Attempts before a mail is given up (its row stays, with no due time, for the operator).
pub const ATTEMPTS: i32 = 5;
/// How long after a failed attempt the next one is due.
pub const RETRY_EVERY: Duration = Duration::minutes(10);
/// Mails the background loop tries in one round.
const BATCH: u64 = 100;

/// Writes mails to the outbox inside `tx`; each is sent once the transaction commits.
/// `user_id` is the member each is about: their pending mail goes with their account.
pub async fn queue(
    tx: &mut Tx,
    mails: Vec<(Option<Uuid>, Mail)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if mails.is_empty() {
        return Ok(());
    }
    let rows: Vec<mail_outbox::ActiveModel> = mails
        .into_iter()
        .map(|(user_id, mail)| mail_outbox::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            recipient: Set(mail.to),
            subject: Set(mail.subject),
            body: Set(mail.body),
            due_at: Set(Some(now + GRACE)),
            attempts: Set(0),
            created_at: Set(now),
        })
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|row| *row.id.as_ref()).collect();
    Entity::insert_many(rows).exec(&*tx).await?;
    for id in ids {
        tx.effects().mail_queued(id);
    }
    Ok(())
}

/// Sends the mails `ids` (just committed) and deletes those sent; a failure leaves the row
/// owed for `retry`. Errors are logged: nobody waits on this.
pub async fn send(db: &impl ConnectionTrait, mailer: &Mailer, ids: &[Uuid]) {
    if ids.is_empty() {
        return;
    }
    match Entity::find()
        .filter(Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await
    {
        Ok(rows) => deliver(db, mailer, rows).await,
        Err(err) => tracing::error!(error = %err, "outbox: cannot read the mail to send"),
    }
}

/// Sends the mail owed as of `now` (failed or lost sends), at most `BATCH` at a time;
/// returns how many it tried. Each is claimed with a conditional update before it is sent,
/// so processes sharing a database never send the same one at once.
pub async fn retry(
    db: &impl ConnectionTrait,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let due: Vec<Uuid> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::DueAt.lte(now))
        .order_by_asc(Column::DueAt)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let claimed = Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::DueAt, Expr::value(Some(now + RETRY_EVERY)))
        .filter(Column::Id.is_in(due))
        .filter(Column::DueAt.lte(now))
        .exec_with_returning(db)
        .await?;
    let tried = claimed.len();
    deliver(db, mailer, claimed).await;
    Ok(tried)
}

/// Sends each row, deletes those sent, and gives up (no due time) on those out of attempts.
async fn deliver(db: &impl ConnectionTrait, mailer: &Mailer, rows: Vec<mail_outbox::Model>) {
    let mut sent = Vec::with_capacity(rows.len());
    let mut spent = Vec::new();
    for row in rows {
        let mail = Mail {
            to: row.recipient,
            subject: row.subject,
            body: row.body,
        };
        match mailer.send(mail).await {
            Ok(()) => sent.push(row.id),
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), mail = %row.id, "mail not sent; will retry");
                if row.attempts >= ATTEMPTS {
                    spent.push(row.id);
                }
            }
        }
    }
    if !sent.is_empty()
        && let Err(err) = Entity::delete_many()
            .filter(Column::Id.is_in(sent))
            .exec(db)
            .await
    {
        tracing::warn!(error = %err, "outbox: mail sent but not deleted; it may be sent again");
    }
    if !spent.is_empty() {
        tracing::error!(mails = ?spent, "outbox: giving up on mail after {ATTEMPTS} attempts");
        let given_up = Entity::update_many()
            .col_expr(Column::DueAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(Column::Id.is_in(spent))
            .exec(db)
            .await;
        if let Err(err) = given_up {
            tracing::warn!(error = %err, "outbox: cannot mark mail given up");
        }
    }
}
