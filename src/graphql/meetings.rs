//! In-person verification: check-in, meeting tokens and confirmations, reports, and the
//! people to meet at an event.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::Utc;
use entity::meeting_confirmation;

use crate::connection_name;
use crate::domain::checkins::{self, Who};
use crate::domain::geo::GeoPoint;
use crate::domain::meetings::{self, Presented};
use crate::domain::{people, reports};
use crate::error::AppError;
use crate::graphql::context::{deliver, loaders, member_id, state};
use crate::graphql::events::{Event, Rsvp};
use crate::graphql::geo::GeoPointInput;
use crate::graphql::ids::{self, Kind};
use crate::graphql::interests::Interest;
use crate::graphql::loaders::{EventById, UserById};
use crate::graphql::pagination::{Conn, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TotalCount};
use crate::graphql::scalars::Time;
use crate::graphql::users::User;

/// What the member's phone shows to someone they meet: as a QR code (`token`) or to type
/// (`code`). It lives under a minute and confirms one meeting.
#[derive(SimpleObject)]
pub struct MeetingToken {
    /// A signed token (a JWT of type `meet+jwt`) to show as a QR code.
    pub token: String,
    /// The same token as 8 characters (Crockford base 32) to read out and type; case,
    /// spaces and dashes do not matter, and O reads as 0, I and L as 1.
    pub code: String,
    /// When the token stops working.
    pub expires_at: Time,
}

/// Where a meeting confirmation stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::meeting_confirmation::MeetingStatus")]
pub enum MeetingStatus {
    /// Scanned; waiting for the person who showed the token to answer.
    Pending,
    /// Both people confirmed it: it counts for both.
    Confirmed,
    /// The person who showed the token declined it; it counts for no one.
    Declined,
    /// One of the two took it back; it counts for no one.
    Withdrawn,
}

pub struct MeetingConfirmation(pub meeting_confirmation::Model);

/// One member (the scanner) saying they met another (the subject, who showed the token) at
/// an event. Only those two people can see it; everyone else sees only each profile's
/// `verification`.
#[Object]
impl MeetingConfirmation {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::MeetingConfirmation, self.0.id)
    }

    /// Where they met.
    async fn event(&self, ctx: &Context<'_>) -> async_graphql::Result<Event> {
        let event = loaders(ctx)
            .load_one(EventById(self.0.event_id))
            .await?
            .ok_or(AppError::NotFound("event"))?;
        Ok(Event(event))
    }

    /// Who scanned the token.
    async fn scanner(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        user(ctx, self.0.scanner_id).await
    }

    /// Who showed the token.
    async fn subject(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        user(ctx, self.0.subject_id).await
    }

    /// Where it stands. A scanner whose confirmation was declined sees DECLINED, no reason.
    async fn status(&self) -> MeetingStatus {
        self.0.status.into()
    }

    /// When the token was scanned.
    async fn created_at(&self) -> Time {
        Time(self.0.created_at)
    }
}

async fn user(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<User> {
    let user = loaders(ctx)
        .load_one(UserById(id))
        .await?
        .ok_or(AppError::NotFound("user"))?;
    Ok(User(user))
}

connection_name!(
    MeetingConfirmationConnectionName,
    "MeetingConfirmationConnection",
    "MeetingConfirmationEdge"
);
pub type MeetingConfirmationConnection =
    Conn<MeetingConfirmation, MeetingConfirmationConnectionName, TotalCount>;

/// Someone at the same event, with the interests they share with the viewer.
#[derive(SimpleObject)]
pub struct PersonToMeet {
    /// The attendee.
    pub user: User,
    /// The interests both have, by name.
    pub shared_interests: Vec<Interest>,
}

/// The people to meet at an event, as `Event.peopleToMeet` gives them.
pub async fn people_to_meet(
    ctx: &Context<'_>,
    event_id: uuid::Uuid,
    first: Option<i32>,
) -> async_graphql::Result<Vec<PersonToMeet>> {
    let viewer = member_id(ctx)?;
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            format!("first must be between 1 and {MAX_PAGE_SIZE}"),
        )
        .into());
    }
    Ok(
        people::to_meet(&state(ctx).db, viewer, event_id, first as usize)
            .await?
            .into_iter()
            .map(|s| PersonToMeet {
                user: User(s.user),
                shared_interests: s.shared.into_iter().map(Interest).collect(),
            })
            .collect(),
    )
}

/// Checking in at an event.
#[derive(InputObject)]
pub struct CheckInInput {
    /// The event.
    pub event_id: ID,
    /// A host checks in this attendee. Absent: the viewer checks in themselves.
    pub user_id: Option<ID>,
    /// Where the viewer's phone is, when checking in themselves: it must be near the venue.
    /// Used for the decision, then forgotten: never stored or shown.
    pub location: Option<GeoPointInput>,
}

/// Asking for a meeting token.
#[derive(InputObject)]
pub struct CreateMeetingTokenInput {
    /// The event the viewer is checked in at.
    pub event_id: ID,
}

/// A scanned token, or its typed code: exactly one of them.
#[derive(InputObject)]
pub struct ConfirmMeetingInput {
    /// The token from the QR code.
    pub token: Option<String>,
    /// The 8-character code, typed.
    pub code: Option<String>,
    /// True: the scanner also attests that the subject's current avatar is the person in
    /// front of them (`Image.inPersonAttestations`), counted once the subject accepts. When
    /// the subject has no avatar this is ignored: nothing is attested, and the meeting is
    /// confirmed all the same. Absent: false.
    pub attest_avatar: Option<bool>,
}

/// An answer to a meeting confirmation.
#[derive(InputObject)]
pub struct RespondToMeetingInput {
    /// The confirmation awaiting the viewer's answer.
    pub confirmation_id: ID,
    /// True: yes, we met (CONFIRMED). False: decline (DECLINED); the scanner is not told why.
    pub accept: bool,
    /// True, with `accept: true`: the viewer also attests that the scanner's current avatar
    /// is the person they met (`Image.inPersonAttestations`); it counts at once, since the
    /// meeting is then CONFIRMED. Ignored when declining, when the scanner has no avatar
    /// (nothing is attested; the answer stands), and when answering again. Absent: false.
    pub attest_avatar: Option<bool>,
}

/// Taking back meetings with someone.
#[derive(InputObject)]
pub struct WithdrawMeetingInput {
    /// The other person.
    pub user_id: ID,
}

/// A report to the moderators.
#[derive(InputObject)]
pub struct ReportUserInput {
    /// Whom to report.
    pub user_id: ID,
    /// What happened, 1 to 2,000 characters.
    pub reason: String,
    /// The event it happened at, if any.
    pub event_id: Option<ID>,
}

#[derive(Default)]
pub struct MeetingMutation;

#[Object]
impl MeetingMutation {
    /// Checks an attendee in. With `userId`, a host of the event (or an ORGANIZER or
    /// CO_ORGANIZER of its group) checks in that GOING attendee: the strong kind, from 30
    /// minutes before the start until 2 hours after the end. Without it, the viewer checks
    /// in themselves with `location`, which must be within the venue's radius (300 m unless
    /// the server says otherwise), from 30 minutes before the start until the end: the weaker
    /// kind. The location is not stored. FORBIDDEN for a non-host (a host who left the group
    /// or is no longer an EVENT_HOST is not one), for a host checking in themselves this way,
    /// for a member not GOING, or a phone away from the venue; CONFLICT outside the times or
    /// for a cancelled event.
    /// Checking in again changes nothing (a host's check-in replaces one's own).
    async fn check_in(
        &self,
        ctx: &Context<'_>,
        input: CheckInInput,
    ) -> async_graphql::Result<Rsvp> {
        let viewer = member_id(ctx)?;
        let event_id = ids::decode(Kind::Event, "input.eventId", &input.event_id)?;
        let who = match (input.user_id, input.location) {
            (Some(user_id), _) => Who::Attendee(ids::decode(Kind::User, "input.userId", &user_id)?),
            (None, Some(at)) => {
                Who::Myself(GeoPoint::new(at.lat, at.lng).map_err(|e| e.under("input.location"))?)
            }
            (None, None) => {
                return Err(AppError::bad_input(
                    "input.location",
                    "give your location to check in yourself, or a userId to check someone in",
                )
                .into());
            }
        };
        let checked_in = checkins::check_in(
            &state(ctx).db,
            viewer,
            event_id,
            who,
            state(ctx).config.check_in_radius_meters,
            Utc::now(),
        )
        .await?;
        Ok(Rsvp(deliver(ctx, checked_in)))
    }

    /// A meeting token for the viewer, who must be checked in at the event (FORBIDDEN),
    /// between 30 minutes before its start and 2 hours after its end (CONFLICT). It lives
    /// under a minute and confirms one meeting.
    async fn create_meeting_token(
        &self,
        ctx: &Context<'_>,
        input: CreateMeetingTokenInput,
    ) -> async_graphql::Result<MeetingToken> {
        let viewer = member_id(ctx)?;
        let event_id = ids::decode(Kind::Event, "input.eventId", &input.event_id)?;
        let issued = meetings::create_token(
            &state(ctx).db,
            &state(ctx).meeting_tokens,
            viewer,
            event_id,
            Utc::now(),
        )
        .await?;
        Ok(MeetingToken {
            token: issued.token,
            code: issued.code,
            expires_at: Time(issued.expires_at),
        })
    }

    /// The scanner confirms meeting the person whose token (or code) they have. Both must be
    /// checked in at that event (FORBIDDEN), the scanner is not that person (FORBIDDEN), and
    /// it is between 30 minutes before the start and 2 hours after the end (CONFLICT). A bad
    /// or expired token is BAD_USER_INPUT on `input.token`, a wrong code on `input.code`;
    /// after 5 wrong codes in 15 minutes the scanner is RATE_LIMITED. Each token confirms
    /// once, and two people once per event (CONFLICT). The result is PENDING, and the other
    /// person is notified to answer. With `attestAvatar: true` the scanner also attests the
    /// other person's current avatar; it counts once they accept.
    async fn confirm_meeting(
        &self,
        ctx: &Context<'_>,
        input: ConfirmMeetingInput,
    ) -> async_graphql::Result<MeetingConfirmation> {
        let viewer = member_id(ctx)?;
        let presented = match (input.token, input.code) {
            (Some(token), None) => Presented::Token(token),
            (None, Some(code)) => Presented::Code(code),
            _ => {
                return Err(AppError::bad_input(
                    "input.token",
                    "give either the token or its code",
                )
                .into());
            }
        };
        let confirmed = meetings::confirm(
            &state(ctx).db,
            &state(ctx).meeting_tokens,
            viewer,
            presented,
            input.attest_avatar.unwrap_or(false),
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("input"))?;
        Ok(MeetingConfirmation(deliver(ctx, confirmed)))
    }

    /// The person who showed the token answers: accepting makes the meeting CONFIRMED and it
    /// counts for both; declining makes it DECLINED. Only they may answer (FORBIDDEN for the
    /// scanner); answering again the same way changes nothing, the other way is CONFLICT.
    /// Accepting with `attestAvatar: true` also attests the scanner's current avatar.
    async fn respond_to_meeting(
        &self,
        ctx: &Context<'_>,
        input: RespondToMeetingInput,
    ) -> async_graphql::Result<MeetingConfirmation> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(
            Kind::MeetingConfirmation,
            "input.confirmationId",
            &input.confirmation_id,
        )?;
        let row = meetings::respond(
            &state(ctx).db,
            viewer,
            id,
            input.accept,
            input.attest_avatar.unwrap_or(false),
            Utc::now(),
        )
        .await?;
        Ok(MeetingConfirmation(row))
    }

    /// Takes back every pending or confirmed meeting between the viewer and that person, at
    /// every event (WITHDRAWN): both people's counts drop at once. Answers the confirmations
    /// withdrawn (none when there were none).
    async fn withdraw_meeting(
        &self,
        ctx: &Context<'_>,
        input: WithdrawMeetingInput,
    ) -> async_graphql::Result<Vec<MeetingConfirmation>> {
        let viewer = member_id(ctx)?;
        let other = ids::decode(Kind::User, "input.userId", &input.user_id)?;
        let withdrawn = meetings::withdraw(&state(ctx).db, viewer, other, Utc::now()).await?;
        Ok(withdrawn.into_iter().map(MeetingConfirmation).collect())
    }

    /// Reports a member to the moderators. The two are never suggested to each other in
    /// `Event.peopleToMeet` afterwards. The reported member is not told. True.
    async fn report_user(
        &self,
        ctx: &Context<'_>,
        input: ReportUserInput,
    ) -> async_graphql::Result<bool> {
        let viewer = member_id(ctx)?;
        let reported = ids::decode(Kind::User, "input.userId", &input.user_id)?;
        let event_id = input
            .event_id
            .map(|id| ids::decode(Kind::Event, "input.eventId", &id))
            .transpose()?;
        reports::report(
            &state(ctx).db,
            viewer,
            reported,
            &input.reason,
            event_id,
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("input"))?;
        Ok(true)
    }
}
