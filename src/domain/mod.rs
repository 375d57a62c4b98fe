//! The rules, one module per area. Domain functions take `&impl ConnectionTrait` so they run
//! inside a caller's transaction as well as alone; they know nothing of GraphQL.

pub mod accounts;
pub mod attestations;
pub mod blocks;
pub mod calendars;
pub mod checkins;
pub mod codes;
pub mod comments;
pub mod deletion;
pub mod devices;
pub mod discovery;
pub mod event_search;
pub mod events;
pub mod export;
pub mod full_text;
pub mod geo;
pub mod groups;
pub mod housekeeping;
pub mod idempotency;
pub mod images;
pub mod interests;
pub mod kept_pages;
pub mod meetings;
pub mod memberships;
pub mod messages;
pub mod notifications;
pub mod password_reset;
pub mod people;
pub mod preferences;
pub mod rate_limit;
pub mod reminders;
pub mod reports;
pub mod rsvps;
pub mod saved_events;
pub mod search;
pub mod series;
pub mod sessions;
pub mod text;
pub mod trust;
pub mod verification;
pub mod visibility;
pub mod zones;

/// A field of a partial update: absent fields stay as they are (`Keep`), present ones
/// replace the stored value, `Set(None)` clearing it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Set(T),
}

impl<T> Patch<T> {
    /// The new value, or `current` when the field is kept.
    pub fn or(self, current: T) -> T {
        match self {
            Patch::Keep => current,
            Patch::Set(value) => value,
        }
    }
}
