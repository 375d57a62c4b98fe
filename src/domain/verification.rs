//! How far a profile is verified. This issue knows email verification; in-person
//! confirmations add the higher levels.

use entity::user;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Unverified,
    Email,
    InPerson,
    Trusted,
}

pub struct Verification {
    pub email_verified: bool,
    pub in_person_count: i32,
    pub level: Level,
}

pub fn of(user: &user::Model) -> Verification {
    let email_verified = user.email_verified_at.is_some();
    Verification {
        email_verified,
        in_person_count: 0,
        level: if email_verified {
            Level::Email
        } else {
            Level::Unverified
        },
    }
}
