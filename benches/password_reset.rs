//! Does `requestPasswordReset` take as long for an address without an account as for one
//! with? Times the work behind the answer (`domain::password_reset::request`, the limits)
//! for known and unknown addresses, interleaved. The lookup, the code and the mail come
//! after the answer (`issue`, run here untimed), so they are not part of what a client can
//! time.
//!
//! ```sh
//! cargo bench --bench password_reset                     # SQLite, a fresh file
//! cargo bench --bench password_reset -- --postgres postgres://postgres@127.0.0.1:5432/kith_bench_reset
//! ```
//! (The PostgreSQL database must exist and is migrated; run it on an empty one.)

use std::time::{Duration, Instant};

use chrono::Utc;
use kith::auth::{Keys, PasswordHasher};
use kith::config::MailTransport;
use kith::domain::accounts::{self, SignUp};
use kith::domain::password_reset;
use kith::effects::Outlets;
use kith::live::Bus;
use kith::notify::Mailer;

const ROUNDS: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut postgres = None;
    while let Some(arg) = args.next() {
        if arg == "--postgres" {
            postgres = args.next();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let url =
        postgres.unwrap_or_else(|| format!("sqlite://{}/reset.db?mode=rwc", dir.path().display()));
    let db = kith::db::connect(&url).await.unwrap();
    kith::db::migrate(&db).await.unwrap();
    let keys = Keys::derive(b"a benchmark secret that is long enough");
    let hasher = PasswordHasher::new(2);
    let outlets = Outlets {
        db: db.clone(),
        bus: Bus::new(db.clone()),
        mailer: Mailer::new(&MailTransport::Log, "Kith <no-reply@kith.invalid>").unwrap(),
        push: Default::default(),
    };
    let now = Utc::now();
    for i in 0..ROUNDS {
        let input = SignUp {
            email: format!("member{i}@example.com"),
            password: "correct horse battery".into(),
            display_name: format!("Member {i}"),
        };
        accounts::sign_up(&db, &hasher, input, "bench", i32::MAX, None, now)
            .await
            .unwrap();
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        // Each address and client once: the limits never refuse.
        for (email, times) in [
            (format!("member{i}@example.com"), &mut known),
            (format!("stranger{i}@example.com"), &mut unknown),
        ] {
            let started = Instant::now();
            let requested = password_reset::request(
                &db,
                &keys.one_time_code,
                &email,
                &format!("client-{email}"),
                Utc::now(),
            )
            .await
            .unwrap();
            times.push(started.elapsed());
            // What follows the answer, untimed: the lookup, the code and its (logged) mail.
            outlets.deliver_now(requested).await;
        }
    }
    println!("requestPasswordReset, {ROUNDS} addresses each, {url}");
    for (name, mut times) in [("with an account", known), ("without an account", unknown)] {
        times.sort();
        println!(
            "  {name:>20}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.9),
            percentile(&times, 0.99)
        );
    }
}
