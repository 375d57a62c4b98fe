//! The share links: `KITH_PUBLIC_URL` + `/e/{id}`, `/g/{slug}`, `/u/{id}`. One place for
//! their shape, so the `url` fields and the pages' `og:url` never disagree.
//!
//! An event's and a member's `{id}` is their GraphQL ID as it is (URL-safe base64, no
//! padding), so an app that opens a link passes the last segment to `event(id:)`,
//! `user(id:)` or `node(id:)` unchanged; a group's is its slug, for `groupBySlug(slug:)`.

use uuid::Uuid;

use crate::graphql::ids::{self, Kind};

/// The path of an event's page.
pub fn event_path(id: Uuid) -> String {
    format!("/e/{}", ids::encode(Kind::Event, id).0)
}

/// The path of a group's page.
pub fn group_path(slug: &str) -> String {
    format!("/g/{slug}")
}

/// The path of a member's page.
pub fn user_path(id: Uuid) -> String {
    format!("/u/{}", ids::encode(Kind::User, id).0)
}
