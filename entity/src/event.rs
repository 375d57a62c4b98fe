use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub group_id: Uuid,
    /// The recurring series this event is an occurrence of.
    pub series_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// IANA zone in which the event's wall-clock time is kept.
    pub time_zone: String,
    pub venue_name: Option<String>,
    pub venue_address: Option<String>,
    pub venue_lat: Option<f64>,
    pub venue_lng: Option<f64>,
    /// The venue's cell in the spatial index (see `domain::geo`).
    pub venue_cell: Option<i64>,
    pub online_url: Option<String>,
    /// Where the event is for search: the venue's cell and coordinates, or for an
    /// online-only event its group's (kept in step when either moves).
    pub place_cell: Option<i64>,
    pub place_lat: Option<f64>,
    pub place_lng: Option<f64>,
    /// None: no limit. A CHECK keeps `going_count <= capacity`.
    pub capacity: Option<i32>,
    pub status: EventStatus,
    pub cancel_reason: Option<String>,
    pub going_count: i32,
    pub waitlist_count: i32,
    /// The last waitlist ticket handed out; RSVPs keep theirs, so the queue has an order.
    pub waitlist_seq: i64,
    /// Raised on every change (iCalendar SEQUENCE).
    pub sequence: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The event's photo (`images.id`), if any.
    pub photo_image_id: Option<Uuid>,
    /// After it, new YES answers are refused; at or before `starts_at`.
    pub rsvp_closes_at: Option<DateTimeUtc>,
    /// How many guests each member's answer may bring (0: none).
    pub guest_limit: i32,
}

/// Whether an event takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EventStatus {
    /// It takes place as described.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// It was called off; nothing about it was deleted.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::group::Entity",
        from = "Column::GroupId",
        to = "super::group::Column::Id"
    )]
    Group,
}

impl Related<super::group::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Group.def()
    }
}

/// The event's hosts, through `event_hosts`.
impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        super::event_host::Relation::User.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::event_host::Relation::Event.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
