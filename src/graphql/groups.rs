//! Groups and memberships: the types, lookups and the mutations that change them.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::Utc;
use entity::{group, membership};
use uuid::Uuid;

use crate::connection_name;
use crate::domain::accounts;
use crate::domain::events::{self, EndKey, StartKey};
use crate::domain::groups::{self, GroupUpdate, NewGroup};
use crate::domain::{memberships, visibility};
use crate::error::AppError;
use crate::graphql::context::{loaders, member_id, optional_member, state};
use crate::graphql::events::{EventConnection, event_page, feed_hosts, past_page};
use crate::graphql::geo::{GeoPoint, GeoPointInput};
use crate::graphql::ids::{self, Kind};
use crate::graphql::inputs::keep_or_set;
use crate::graphql::interests::Interest;
use crate::graphql::limits;
use crate::graphql::loaders::{
    GroupById, InterestsOfGroup, MembershipOf, OrganizersOf, UserById, VersionOf,
};
use crate::graphql::pagination::{Conn, PageRequest, connection};
use crate::graphql::scalars::Time;
use crate::graphql::users::User;

/// How people join a group.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::group::JoinPolicy")]
pub enum JoinPolicy {
    /// Anyone may join at once.
    Open,
    /// An organiser approves each request (`decideMembership`).
    Approval,
}

/// A member's role in a group.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::membership::Role")]
pub enum GroupRole {
    /// Runs the group: everything a co-organiser may do, and names roles.
    Organizer,
    /// Changes the group, approves members, creates and changes events.
    CoOrganizer,
    /// Creates events and changes the ones they host.
    EventHost,
    /// Takes part.
    Member,
}

/// Where a membership stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::membership::MembershipStatus")]
pub enum MembershipStatus {
    /// A member of the group.
    Active,
    /// Asked to join a group with APPROVAL policy; an organiser has not decided yet.
    Pending,
    /// Returned once by `decideMembership` when the request was declined. The request is
    /// removed and the person may ask again.
    Declined,
}

pub struct Group(pub group::Model);

/// An interest group: people who meet in person around shared interests.
#[Object]
impl Group {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Group, self.0.id)
    }

    /// Made from the name when the group was created; unique, and never changes.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// The group's share link, `KITH_PUBLIC_URL` + `/g/{slug}` with this `slug`: its page
    /// shows a preview in chat apps and opens the apps where they are installed, which pass
    /// the last path segment to `groupBySlug(slug:)`.
    async fn url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}{}",
            state(ctx).config.public_url,
            crate::links::group_path(&self.0.slug)
        )
    }

    /// 3–80 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Up to 5,000 characters.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Where the group meets; a public place.
    async fn location(&self) -> GeoPoint {
        GeoPoint {
            lat: self.0.lat,
            lng: self.0.lng,
        }
    }

    /// The city, as the organisers wrote it.
    async fn city(&self) -> &str {
        &self.0.city
    }

    /// The group's IANA time zone (`Europe/Berlin`).
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }

    /// What the group is about, by name.
    async fn interests(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Interest>> {
        Ok(loaders(ctx)
            .load_one(InterestsOfGroup(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Interest)
            .collect())
    }

    /// How people join.
    async fn join_policy(&self) -> JoinPolicy {
        self.0.join_policy.into()
    }

    /// ACTIVE members, organisers included.
    async fn member_count(&self) -> i32 {
        self.0.member_count
    }

    /// When the group closed, or null while it is open. A group closes when its only
    /// organiser deletes their account and it has no co-organiser to take over: searches no
    /// longer find it, its events still to start were cancelled, and joining it, changing it
    /// or creating events in it is CONFLICT. Its members and past events stay readable.
    async fn closed_at(&self) -> Option<Time> {
        self.0.closed_at.map(Time)
    }

    /// The members with role ORGANIZER, longest-standing first; a group has at most 10.
    #[graphql(complexity = "limits::bounded(memberships::MAX_ORGANIZERS, child_complexity)")]
    async fn organizers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        Ok(loaders(ctx)
            .load_one(OrganizersOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(User)
            .collect())
    }

    /// ACTIVE members, in the order they joined, without anyone blocked either way. Only
    /// ACTIVE members of the group may see this list: for anyone else it is null, with one
    /// error at its path (FORBIDDEN, or UNAUTHENTICATED when signed out), and the rest of the
    /// answer stands.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<MembershipConnection>> {
        let db = &state(ctx).db;
        let viewer = member_id(ctx)?;
        visibility::members(db, self.0.id, viewer).await?;
        let page = PageRequest::<Uuid>::parse(first, after)?;
        let rows =
            memberships::active_in_group(db, viewer, self.0.id, page.after, page.fetch_limit())
                .await?;
        Ok(Some(connection(
            &page,
            rows,
            |m| m.id,
            |m| (Membership(m), EmptyFields),
            EmptyFields,
        )))
    }

    /// The viewer's membership (ACTIVE or PENDING); null when signed out or not a member.
    async fn viewer_membership(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Membership>> {
        let Some(viewer) = optional_member(ctx)? else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .load_one(MembershipOf(self.0.id, viewer.sub))
            .await?
            .map(Membership))
    }

    /// The group's events that have not ended, soonest first. Cancelled ones stay listed,
    /// with status CANCELLED, until they would have ended.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn upcoming_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let page = PageRequest::<StartKey>::parse(first, after)?;
        let version = loaders(ctx)
            .load_one(VersionOf(self.0.id))
            .await?
            .unwrap_or_default();
        let state = state(ctx);
        let rows = state
            .kept_pages
            .upcoming_in_group(
                &state.db,
                (self.0.id, version),
                page.after,
                page.fetch_limit(),
                Utc::now(),
            )
            .await?;
        Ok(event_page(&page, feed_hosts(ctx, rows).await))
    }

    /// The group's events that have ended, most recently ended first (cancelled ones
    /// included, with status CANCELLED).
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn past_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let page = PageRequest::<EndKey>::parse(first, after)?;
        let rows = events::past_in_group(
            &state(ctx).db,
            self.0.id,
            page.after,
            page.fetch_limit(),
            Utc::now(),
        )
        .await?;
        Ok(past_page(&page, rows))
    }

    /// When the group was created.
    async fn created_at(&self) -> Time {
        Time(self.0.created_at)
    }

    /// The group's photo, set by its organisers (`setGroupPhoto`); null when none.
    async fn photo(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::graphql::images::Image>> {
        crate::graphql::images::image_of(ctx, self.0.photo_image_id).await
    }
}

pub struct Membership(pub membership::Model);

/// A member's place in a group.
#[Object]
impl Membership {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Membership, self.0.id)
    }

    /// The member.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let user = loaders(ctx)
            .load_one(UserById(self.0.user_id))
            .await?
            .ok_or(AppError::NotFound("user"))?;
        Ok(User(user))
    }

    /// The group.
    async fn group(&self, ctx: &Context<'_>) -> async_graphql::Result<Group> {
        let group = loaders(ctx)
            .load_one(GroupById(self.0.group_id))
            .await?
            .ok_or(AppError::NotFound("group"))?;
        Ok(Group(group))
    }

    /// What the member may do in the group.
    async fn role(&self) -> GroupRole {
        self.0.role.into()
    }

    /// ACTIVE or PENDING (DECLINED only in the answer to a declined request).
    async fn status(&self) -> MembershipStatus {
        self.0.status.into()
    }

    /// When the membership became ACTIVE; null while PENDING.
    async fn joined_at(&self) -> Option<Time> {
        self.0.joined_at.map(Time)
    }
}

connection_name!(
    MembershipConnectionName,
    "MembershipConnection",
    "MembershipEdge"
);
pub type MembershipConnection = Conn<Membership, MembershipConnectionName>;

/// A new group.
#[derive(InputObject)]
pub struct CreateGroupInput {
    /// 3–80 characters; the group's slug is made from it.
    pub name: String,
    /// Up to 5,000 characters.
    #[graphql(default)]
    pub description: String,
    /// Where the group meets (a public place).
    pub location: GeoPointInput,
    /// 1–100 characters.
    pub city: String,
    /// An IANA time zone, such as `Europe/Berlin`.
    pub time_zone: String,
    /// What the group is about (at most 30).
    #[graphql(default)]
    pub interest_ids: Vec<ID>,
    /// OPEN when absent.
    #[graphql(default_with = "JoinPolicy::Open")]
    pub join_policy: JoinPolicy,
}

/// Changes to a group; absent fields stay as they are. The slug never changes.
#[derive(InputObject)]
pub struct UpdateGroupInput {
    /// The group to change.
    pub group_id: ID,
    /// 3–80 characters.
    pub name: Option<String>,
    /// Up to 5,000 characters.
    pub description: Option<String>,
    /// Where the group meets.
    pub location: Option<GeoPointInput>,
    /// 1–100 characters.
    pub city: Option<String>,
    /// An IANA time zone.
    pub time_zone: Option<String>,
    /// Replaces the group's interests.
    pub interest_ids: Option<Vec<ID>>,
    /// How people join from now on (pending requests stay pending).
    pub join_policy: Option<JoinPolicy>,
}

/// The group to join or leave.
#[derive(InputObject)]
pub struct GroupIdInput {
    /// The group.
    pub group_id: ID,
}

/// An organiser's answer to a request to join.
#[derive(InputObject)]
pub struct DecideMembershipInput {
    /// The PENDING membership.
    pub membership_id: ID,
    /// True to make it ACTIVE, false to decline it.
    pub approve: bool,
}

/// A new role for a member.
#[derive(InputObject)]
pub struct SetMemberRoleInput {
    /// The group.
    pub group_id: ID,
    /// An ACTIVE member of the group.
    pub user_id: ID,
    /// The role to give.
    pub role: GroupRole,
}

#[derive(Default)]
pub struct GroupQuery;

#[Object]
impl GroupQuery {
    /// A group by ID; null when there is none.
    async fn group(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Group>> {
        let id = ids::decode(Kind::Group, "id", &id)?;
        let Some((group, version)) = groups::find_with_version(&state(ctx).db, id).await? else {
            return Ok(None);
        };
        loaders(ctx).feed_one(VersionOf(id), version).await;
        Ok(Some(Group(group)))
    }

    /// A group by slug; null when there is none.
    async fn group_by_slug(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> async_graphql::Result<Option<Group>> {
        Ok(groups::find_by_slug(&state(ctx).db, &slug)
            .await?
            .map(Group))
    }
}

#[derive(Default)]
pub struct GroupMutation;

#[Object]
impl GroupMutation {
    /// Creates a group; the viewer becomes its ORGANIZER. Needs a verified email (FORBIDDEN
    /// otherwise). Each broken rule is BAD_USER_INPUT naming the field.
    async fn create_group(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupInput,
    ) -> async_graphql::Result<Group> {
        let state = state(ctx);
        let viewer = accounts::get_viewer(&state.db, member_id(ctx)?).await?;
        let interest_ids =
            ids::decode_all(Kind::Interest, "input.interestIds", &input.interest_ids)?;
        let new = NewGroup {
            name: input.name,
            description: input.description,
            location: (input.location.lat, input.location.lng),
            city: input.city,
            time_zone: input.time_zone,
            interest_ids,
            join_policy: input.join_policy.into(),
        };
        let group = groups::create(&state.db, &viewer, new, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(Group(group))
    }

    /// Changes a group; ORGANIZER or CO_ORGANIZER.
    async fn update_group(
        &self,
        ctx: &Context<'_>,
        input: UpdateGroupInput,
    ) -> async_graphql::Result<Group> {
        let state = state(ctx);
        let viewer = member_id(ctx)?;
        let group_id = ids::decode(Kind::Group, "input.groupId", &input.group_id)?;
        let interest_ids = input
            .interest_ids
            .map(|ids| ids::decode_all(Kind::Interest, "input.interestIds", &ids))
            .transpose()?;
        let update = GroupUpdate {
            name: keep_or_set(input.name),
            description: keep_or_set(input.description),
            location: keep_or_set(input.location.map(|p| (p.lat, p.lng))),
            city: keep_or_set(input.city),
            time_zone: keep_or_set(input.time_zone),
            interest_ids: keep_or_set(interest_ids),
            join_policy: keep_or_set(input.join_policy.map(Into::into)),
        };
        let group = groups::update(&state.db, viewer, group_id, update, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(Group(group))
    }

    /// Joins a group: ACTIVE in an OPEN group, PENDING in an APPROVAL group. Joining again
    /// returns the membership as it is.
    async fn join_group(
        &self,
        ctx: &Context<'_>,
        input: GroupIdInput,
    ) -> async_graphql::Result<Membership> {
        let viewer = member_id(ctx)?;
        let group_id = ids::decode(Kind::Group, "input.groupId", &input.group_id)?;
        Ok(Membership(
            memberships::join(&state(ctx).db, group_id, viewer, Utc::now()).await?,
        ))
    }

    /// Leaves a group, or withdraws a request to join, and answers the group as it is now
    /// (its `memberCount`, and `viewerMembership` null). The last ORGANIZER cannot leave
    /// (CONFLICT) until another is named. Leaving a group one is not in changes nothing.
    async fn leave_group(
        &self,
        ctx: &Context<'_>,
        input: GroupIdInput,
    ) -> async_graphql::Result<Group> {
        let viewer = member_id(ctx)?;
        let group_id = ids::decode(Kind::Group, "input.groupId", &input.group_id)?;
        Ok(Group(
            memberships::leave(&state(ctx).db, group_id, viewer).await?,
        ))
    }

    /// Approves (ACTIVE) or declines (DECLINED, the request removed) a PENDING membership;
    /// ORGANIZER or CO_ORGANIZER. A membership not awaiting a decision is CONFLICT; one that
    /// no longer exists (withdrawn or declined) is NOT_FOUND.
    async fn decide_membership(
        &self,
        ctx: &Context<'_>,
        input: DecideMembershipInput,
    ) -> async_graphql::Result<Membership> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(Kind::Membership, "input.membershipId", &input.membership_id)?;
        Ok(Membership(
            memberships::decide(&state(ctx).db, viewer, id, input.approve, Utc::now()).await?,
        ))
    }

    /// Gives an ACTIVE member a role; ORGANIZER only. A group keeps at least one ORGANIZER
    /// (CONFLICT when the last would step down) and at most 10 (CONFLICT for an eleventh).
    /// Someone who is not an ACTIVE member is BAD_USER_INPUT (`input.userId`).
    async fn set_member_role(
        &self,
        ctx: &Context<'_>,
        input: SetMemberRoleInput,
    ) -> async_graphql::Result<Membership> {
        let viewer = member_id(ctx)?;
        let group_id = ids::decode(Kind::Group, "input.groupId", &input.group_id)?;
        let user_id = ids::decode(Kind::User, "input.userId", &input.user_id)?;
        let row =
            memberships::set_role(&state(ctx).db, viewer, group_id, user_id, input.role.into())
                .await
                .map_err(|e| e.under("input"))?;
        Ok(Membership(row))
    }
}
