//! Deterministic synthetic data at scale: `kith seed --synthetic --groups N --users N`.
//!
//! Most groups cluster around cities (a dense core a few kilometres wide), the rest are
//! scattered through the countryside up to a few hundred kilometres out. The same seed
//! gives the same data. Rows go in with multi-row inserts inside large transactions.

use chrono::{Duration, Utc};
use entity::event::EventStatus;
use entity::group::JoinPolicy;
use entity::membership::{MembershipStatus, Role};
use entity::{event, event_host, group, group_interest, membership, user};
use migration::interests::{TAXONOMY, id as interest_id, slug as interest_slug};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

use crate::auth::PasswordHasher;
use crate::db::Tx;
use crate::domain::geo::{GeoPoint, index_cell};
use crate::error::AppError;
use crate::seed::CITIES;

/// Rows per INSERT: under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const CHUNK: usize = 1000;
/// The password of every synthetic member.
pub const PASSWORD: &str = "synthetic-password";

pub struct Options {
    pub groups: u64,
    pub users: u64,
    /// Events spread over the groups, starting within the next 90 days.
    pub events: u64,
    pub seed: u64,
}

fn uuid_from(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// A normal sample (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A point `sigma_km` (standard deviation) around a centre.
fn around(rng: &mut ChaCha8Rng, lat: f64, lng: f64, sigma_km: f64) -> GeoPoint {
    let dlat = normal(rng) * sigma_km / 111.0;
    let dlng = normal(rng) * sigma_km / (111.0 * lat.to_radians().cos().max(0.05));
    let lat = (lat + dlat).clamp(-89.9, 89.9);
    let lng = ((lng + dlng + 540.0) % 360.0) - 180.0;
    GeoPoint::new(lat, lng).expect("clamped into range")
}

fn pick_city(rng: &mut ChaCha8Rng) -> &'static (&'static str, f64, f64, &'static str, u32) {
    let total: u32 = CITIES.iter().map(|c| c.4).sum();
    let mut ticket = rng.random_range(0..total);
    for city in CITIES {
        if ticket < city.4 {
            return city;
        }
        ticket -= city.4;
    }
    &CITIES[0]
}

const KINDS: &[&str] = &[
    "Club",
    "Circle",
    "Meetup",
    "Collective",
    "Society",
    "Friends",
    "Crew",
    "Social",
];

pub async fn run(db: &DatabaseConnection, options: &Options) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let now = Utc::now();
    let password_hash = PasswordHasher::new(1)
        .hash(PASSWORD.to_owned())
        .await
        .map_err(AppError::into_anyhow)?;
    let interests: Vec<(Uuid, &str)> = TAXONOMY
        .iter()
        .flat_map(|(_, names)| names.iter())
        .map(|name| (interest_id(&interest_slug(name)), *name))
        .collect();
    let run_tag: String = format!("{:08x}", rng.random::<u32>());

    let users = options.users.max(1);
    let mut user_ids = Vec::with_capacity(users as usize);
    let mut batch = Vec::with_capacity(CHUNK);
    let txn = Tx::begin(db).await?;
    for i in 0..users {
        let id = uuid_from(&mut rng);
        user_ids.push(id);
        batch.push(user::ActiveModel {
            id: Set(id),
            email: Set(format!("member{i}.{run_tag}@synthetic.kith.invalid")),
            email_verified_at: Set(Some(now)),
            password_hash: Set(password_hash.clone()),
            display_name: Set(format!("Member {i}")),
            bio: Set(None),
            home_lat: Set(None),
            home_lng: Set(None),
            time_zone: Set(None),
            calendar_token: Set(None),
            banned_at: Set(None),
            trusted: Set(false),
            locale: Set(None),
            avatar_image_id: Set(None),
            created_at: Set(now - Duration::days(rng.random_range(0..1000))),
            updated_at: Set(now),
        });
        if batch.len() == CHUNK {
            user::Entity::insert_many(std::mem::take(&mut batch))
                .exec(&txn)
                .await?;
        }
    }
    if !batch.is_empty() {
        user::Entity::insert_many(std::mem::take(&mut batch))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?.expect_none();

    let mut txn = Tx::begin(db).await?;
    let (mut groups, mut links, mut members) = (Vec::new(), Vec::new(), Vec::new());
    let mut placed: Vec<(Uuid, GeoPoint, &str, &str)> = Vec::new();
    let mut organisers: Vec<Uuid> = Vec::new();
    for i in 0..options.groups {
        let city = pick_city(&mut rng);
        // Four in five in the city itself, the rest in its countryside.
        let place = if rng.random_bool(0.8) {
            around(&mut rng, city.1, city.2, 6.0)
        } else {
            around(&mut rng, city.1, city.2, 120.0)
        };
        let id = uuid_from(&mut rng);
        let count = rng.random_range(1..=3);
        let mut chosen: Vec<(Uuid, &str)> = (0..count)
            .map(|_| interests[rng.random_range(0..interests.len())])
            .collect();
        chosen.sort_unstable();
        chosen.dedup();
        let name = format!(
            "{} {} {} #{i}",
            city.0,
            chosen[0].1,
            KINDS[rng.random_range(0..KINDS.len())]
        );
        let description = format!(
            "We meet for {} in and around {}. Everyone is welcome.",
            chosen
                .iter()
                .map(|c| c.1.to_lowercase())
                .collect::<Vec<_>>()
                .join(", "),
            city.0
        );
        let created = now - Duration::days(rng.random_range(0..2000));
        groups.push(group::ActiveModel {
            id: Set(id),
            slug: Set(format!("{}-{i}-{run_tag}", slug::slugify(city.0))),
            name: Set(name),
            description: Set(description),
            lat: Set(place.lat()),
            lng: Set(place.lng()),
            cell: Set(index_cell(&place)),
            city: Set(city.0.to_owned()),
            time_zone: Set(city.3.to_owned()),
            join_policy: Set(if rng.random_bool(0.8) {
                JoinPolicy::Open
            } else {
                JoinPolicy::Approval
            }),
            member_count: Set(1),
            closed_at: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
            photo_image_id: Set(None),
        });
        links.extend(
            chosen
                .iter()
                .map(|(interest, _)| group_interest::ActiveModel {
                    group_id: Set(id),
                    interest_id: Set(*interest),
                }),
        );
        placed.push((id, place, city.3, chosen[0].1));
        let organiser = user_ids[rng.random_range(0..user_ids.len())];
        organisers.push(organiser);
        members.push(membership::ActiveModel {
            id: Set(uuid_from(&mut rng)),
            group_id: Set(id),
            user_id: Set(organiser),
            role: Set(Role::Organizer),
            status: Set(MembershipStatus::Active),
            created_at: Set(created),
            joined_at: Set(Some(created)),
        });
        if groups.len() == CHUNK {
            group::Entity::insert_many(std::mem::take(&mut groups))
                .exec(&txn)
                .await?;
            group_interest::Entity::insert_many(std::mem::take(&mut links))
                .exec(&txn)
                .await?;
            membership::Entity::insert_many(std::mem::take(&mut members))
                .exec(&txn)
                .await?;
        }
        if (i + 1) % 50_000 == 0 {
            txn.commit().await?.expect_none();
            tracing::info!("{} groups written", i + 1);
            txn = Tx::begin(db).await?;
        }
    }
    if !groups.is_empty() {
        group::Entity::insert_many(groups).exec(&txn).await?;
        group_interest::Entity::insert_many(links)
            .exec(&txn)
            .await?;
        membership::Entity::insert_many(members).exec(&txn).await?;
    }
    txn.commit().await?.expect_none();
    if !placed.is_empty() {
        write_events(db, &mut rng, options.events, &placed, &organisers).await?;
    }
    Ok(())
}

/// Events in random groups: a venue near the group (one in five online only), a start in
/// the next 90 days at a whole hour, two hours long, hosted by the group's organiser.
async fn write_events(
    db: &DatabaseConnection,
    rng: &mut ChaCha8Rng,
    count: u64,
    groups: &[(Uuid, GeoPoint, &str, &str)],
    organisers: &[Uuid],
) -> anyhow::Result<()> {
    let now = Utc::now();
    let mut txn = Tx::begin(db).await?;
    let (mut rows, mut hosts) = (Vec::new(), Vec::new());
    for i in 0..count {
        let g = rng.random_range(0..groups.len());
        let (group_id, place, zone, interest) = groups[g];
        let id = uuid_from(rng);
        let starts = (now + Duration::hours(rng.random_range(2..24 * 90)))
            .with_time(chrono::NaiveTime::MIN)
            .single()
            .unwrap_or(now)
            + Duration::hours(rng.random_range(8..22));
        let venue = (!rng.random_bool(0.2)).then(|| around(rng, place.lat(), place.lng(), 1.0));
        rows.push(event::ActiveModel {
            id: Set(id),
            group_id: Set(group_id),
            series_id: Set(None),
            title: Set(format!("{interest} meetup #{i}")),
            description: Set(format!(
                "An evening of {} together.",
                interest.to_lowercase()
            )),
            starts_at: Set(starts),
            ends_at: Set(starts + Duration::hours(2)),
            time_zone: Set(zone.to_owned()),
            venue_name: Set(venue.map(|_| format!("Venue {i}"))),
            venue_address: Set(venue.map(|_| String::new())),
            venue_lat: Set(venue.map(|v| v.lat())),
            venue_lng: Set(venue.map(|v| v.lng())),
            venue_cell: Set(venue.map(|v| index_cell(&v))),
            online_url: Set(venue.is_none().then(|| format!("https://meet.example/{i}"))),
            place_cell: Set(Some(index_cell(&venue.unwrap_or(place)))),
            place_lat: Set(Some(venue.unwrap_or(place).lat())),
            place_lng: Set(Some(venue.unwrap_or(place).lng())),
            capacity: Set(rng.random_bool(0.5).then(|| rng.random_range(5..60))),
            status: Set(EventStatus::Scheduled),
            cancel_reason: Set(None),
            going_count: Set(0),
            waitlist_count: Set(0),
            waitlist_seq: Set(0),
            sequence: Set(0),
            created_by: Set(organisers[g]),
            created_at: Set(now),
            updated_at: Set(now),
            photo_image_id: Set(None),
            rsvp_closes_at: Set(None),
            guest_limit: Set(0),
        });
        hosts.push(event_host::ActiveModel {
            event_id: Set(id),
            user_id: Set(organisers[g]),
        });
        if rows.len() == CHUNK / 2 {
            event::Entity::insert_many(std::mem::take(&mut rows))
                .exec(&txn)
                .await?;
            event_host::Entity::insert_many(std::mem::take(&mut hosts))
                .exec(&txn)
                .await?;
        }
        if (i + 1) % 50_000 == 0 {
            txn.commit().await?.expect_none();
            txn = Tx::begin(db).await?;
        }
    }
    if !rows.is_empty() {
        event::Entity::insert_many(rows).exec(&txn).await?;
        event_host::Entity::insert_many(hosts).exec(&txn).await?;
    }
    txn.commit().await?.expect_none();
    Ok(())
}
