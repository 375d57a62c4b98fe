//! A small, believable data set for a newcomer's first queries: `kith seed --demo`.
//! Members can sign in with their email and `DEMO_PASSWORD`. Running it twice changes nothing.

use chrono::Utc;
use entity::user;
use migration::interests::{id as interest_id, slug as interest_slug};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::auth::PasswordHasher;
use crate::domain::accounts::{self, SignUp};
use crate::domain::groups::{self, JoinPolicy, NewGroup};
use crate::domain::{interests, memberships};
use crate::error::AppError;

pub const DEMO_PASSWORD: &str = "demo-password";

/// (email, display name, interests)
const MEMBERS: &[(&str, &str, &[&str])] = &[
    (
        "ada@demo.kith.invalid",
        "Ada",
        &["Rust", "Hiking", "Board Games"],
    ),
    (
        "bo@demo.kith.invalid",
        "Bo",
        &["Climbing", "Coffee", "Photography"],
    ),
    (
        "chidi@demo.kith.invalid",
        "Chidi",
        &["Philosophy", "Book Club", "Chess"],
    ),
    (
        "dana@demo.kith.invalid",
        "Dana",
        &["Running", "Yoga", "Meditation"],
    ),
    (
        "emeka@demo.kith.invalid",
        "Emeka",
        &["Football", "Jazz", "Cooking"],
    ),
    (
        "fatima@demo.kith.invalid",
        "Fatima",
        &["Language Exchange", "Pottery", "Tea"],
    ),
    (
        "gustav@demo.kith.invalid",
        "Gustav",
        &["Cycling", "Craft Beer", "Open Source"],
    ),
    (
        "hana@demo.kith.invalid",
        "Hana",
        &["Japanese", "Anime", "Drawing"],
    ),
    (
        "ines@demo.kith.invalid",
        "Inês",
        &["Surfing", "Photography", "Vegan Cooking"],
    ),
    (
        "jonas@demo.kith.invalid",
        "Jonas",
        &["Board Games", "Tabletop Role-Playing", "Rust"],
    ),
];

/// (organiser's index in MEMBERS, name, description, lat, lng, city, zone, interests, policy)
type DemoGroup = (
    usize,
    &'static str,
    &'static str,
    f64,
    f64,
    &'static str,
    &'static str,
    &'static [&'static str],
    JoinPolicy,
);

const GROUPS: &[DemoGroup] = &[
    (
        0,
        "Berlin Rust Hack & Learn",
        "Bring a laptop and a question; leave with working code and new friends.",
        52.5065,
        13.4475,
        "Berlin",
        "Europe/Berlin",
        &["Rust", "Programming", "Open Source"],
        JoinPolicy::Open,
    ),
    (
        9,
        "Kreuzberg Board Game Nights",
        "Hundreds of games, one long table, every Thursday.",
        52.4986,
        13.4030,
        "Berlin",
        "Europe/Berlin",
        &["Board Games", "Card Games"],
        JoinPolicy::Open,
    ),
    (
        1,
        "Berlin Bouldering Crew",
        "Beginners and old hands climb together, then coffee.",
        52.5420,
        13.4130,
        "Berlin",
        "Europe/Berlin",
        &["Climbing", "Coffee"],
        JoinPolicy::Open,
    ),
    (
        3,
        "Tempelhof Sunrise Runners",
        "5 km at sunrise on the old airfield. All paces.",
        52.4730,
        13.4030,
        "Berlin",
        "Europe/Berlin",
        &["Running", "Walking Groups"],
        JoinPolicy::Open,
    ),
    (
        6,
        "Potsdam Lakes Cycling",
        "Weekend rides around the lakes south-west of Berlin.",
        52.3906,
        13.0645,
        "Potsdam",
        "Europe/Berlin",
        &["Cycling", "Hiking"],
        JoinPolicy::Approval,
    ),
    (
        2,
        "London Philosophy Pub",
        "Big questions, small pints. Reading sent a week ahead.",
        51.5155,
        -0.0922,
        "London",
        "Europe/London",
        &["Philosophy", "Book Club"],
        JoinPolicy::Open,
    ),
    (
        5,
        "London Language Exchange",
        "Swap an hour of your language for an hour of someone else's.",
        51.5290,
        -0.0780,
        "London",
        "Europe/London",
        &["Language Exchange", "Spanish", "French"],
        JoinPolicy::Open,
    ),
    (
        4,
        "Brooklyn Jazz Jam",
        "Open jam session; bring an instrument or just your ears.",
        40.6782,
        -73.9442,
        "New York",
        "America/New_York",
        &["Jazz", "Open Mic"],
        JoinPolicy::Open,
    ),
    (
        7,
        "Tokyo Sketch Walkers",
        "We walk a neighbourhood and draw what we see.",
        35.6595,
        139.7005,
        "Tokyo",
        "Asia/Tokyo",
        &["Drawing", "Walking Groups", "Japanese"],
        JoinPolicy::Open,
    ),
    (
        8,
        "São Paulo Street Photography",
        "Golden-hour walks through the city with cameras of any kind.",
        -23.5614,
        -46.6559,
        "São Paulo",
        "America/Sao_Paulo",
        &["Photography", "Street Food"],
        JoinPolicy::Approval,
    ),
];

pub async fn run(db: &DatabaseConnection) -> anyhow::Result<()> {
    let already = user::Entity::find()
        .filter(user::Column::Email.eq(MEMBERS[0].0))
        .one(db)
        .await?;
    if already.is_some() {
        tracing::info!("demo data is already there");
        return Ok(());
    }
    let hasher = PasswordHasher::new(2);
    let now = Utc::now();
    let mut members = Vec::new();
    for (email, name, likes) in MEMBERS {
        let input = SignUp {
            email: (*email).into(),
            password: DEMO_PASSWORD.into(),
            display_name: (*name).into(),
        };
        let (user, _) = accounts::sign_up(db, &hasher, input, "seed", i32::MAX, None, now)
            .await
            .map_err(AppError::into_anyhow)?;
        let mut verified: user::ActiveModel = user.into();
        verified.email_verified_at = Set(Some(now));
        let user = verified.update(db).await?;
        let ids: Vec<_> = likes
            .iter()
            .map(|l| interest_id(&interest_slug(l)))
            .collect();
        interests::set_for_user(db, user.id, &ids, "interestIds")
            .await
            .map_err(AppError::into_anyhow)?;
        members.push(user);
    }
    for (organiser, name, description, lat, lng, city, zone, likes, policy) in GROUPS {
        let input = NewGroup {
            name: (*name).into(),
            description: (*description).into(),
            location: (*lat, *lng),
            city: (*city).into(),
            time_zone: (*zone).into(),
            interest_ids: likes
                .iter()
                .map(|l| interest_id(&interest_slug(l)))
                .collect(),
            join_policy: *policy,
        };
        let group = groups::create(db, &members[*organiser], input, now)
            .await
            .map_err(AppError::into_anyhow)?;
        // A few members join the groups near them.
        for (i, member) in members.iter().enumerate() {
            if i != *organiser && (i + name.len()) % 3 == 0 {
                memberships::join(db, group.id, member.id, now)
                    .await
                    .map_err(AppError::into_anyhow)?;
            }
        }
    }
    tracing::info!(
        "demo data written: {} members (password `{DEMO_PASSWORD}`), {} groups",
        MEMBERS.len(),
        GROUPS.len()
    );
    Ok(())
}
