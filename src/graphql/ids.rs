//! Opaque global IDs: `base64url("<Type>:<uuid>")`. Clients must not parse them; the type
//! inside lets `node(id:)` find the object and keeps IDs unique across types.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Interest,
    Group,
    Membership,
    Event,
    Rsvp,
    Notification,
    EventSeries,
    MeetingConfirmation,
    Session,
    Device,
    Comment,
    Conversation,
    Message,
    /// Named only in `exportMyData`: reports are for moderators, not objects of the API.
    Report,
    /// A photo; not a `Node`: it is reached through what shows it.
    Image,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Interest => "Interest",
            Kind::Group => "Group",
            Kind::Membership => "Membership",
            Kind::Event => "Event",
            Kind::Rsvp => "Rsvp",
            Kind::Notification => "Notification",
            Kind::EventSeries => "EventSeries",
            Kind::MeetingConfirmation => "MeetingConfirmation",
            Kind::Session => "Session",
            Kind::Device => "Device",
            Kind::Comment => "Comment",
            Kind::Conversation => "Conversation",
            Kind::Message => "Message",
            Kind::Report => "Report",
            Kind::Image => "Image",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "User" => Some(Kind::User),
            "Interest" => Some(Kind::Interest),
            "Group" => Some(Kind::Group),
            "Membership" => Some(Kind::Membership),
            "Event" => Some(Kind::Event),
            "Rsvp" => Some(Kind::Rsvp),
            "Notification" => Some(Kind::Notification),
            "EventSeries" => Some(Kind::EventSeries),
            "MeetingConfirmation" => Some(Kind::MeetingConfirmation),
            "Session" => Some(Kind::Session),
            "Device" => Some(Kind::Device),
            "Comment" => Some(Kind::Comment),
            "Conversation" => Some(Kind::Conversation),
            "Message" => Some(Kind::Message),
            "Report" => Some(Kind::Report),
            "Image" => Some(Kind::Image),
            _ => None,
        }
    }
}

pub fn encode(kind: Kind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.name(), id)))
}

/// Any global ID; None when it is not one of ours.
pub fn decode_any(id: &str) -> Option<(Kind, Uuid)> {
    let raw = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (kind, uuid) = text.split_once(':')?;
    Some((Kind::from_name(kind)?, Uuid::parse_str(uuid).ok()?))
}

/// An ID that must be of `kind`; anything else is BAD_USER_INPUT naming `field`.
pub fn decode(kind: Kind, field: &str, id: &ID) -> AppResult<Uuid> {
    match decode_any(id) {
        Some((found, uuid)) if found == kind => Ok(uuid),
        _ => Err(AppError::bad_input(
            field,
            format!("not a {} ID", kind.name()),
        )),
    }
}

/// A list of IDs that must all be of `kind`.
pub fn decode_all(kind: Kind, field: &str, ids: &[ID]) -> AppResult<Vec<Uuid>> {
    ids.iter().map(|id| decode(kind, field, id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_ids() {
        let uuid = Uuid::now_v7();
        let id = encode(Kind::User, uuid);
        assert_eq!(decode(Kind::User, "id", &id).unwrap(), uuid);
        assert!(decode(Kind::User, "id", &ID::from(uuid.to_string())).is_err());
        assert!(decode_any("%%%").is_none());
    }
}
