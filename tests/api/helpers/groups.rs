//! Groups and memberships.

use serde::Deserialize;
use serde_json::{Value, json};

use super::*;

/// A group as `createGroup` answers (`CREATE_GROUP`): the fields the tests read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub city: String,
    pub time_zone: String,
    pub join_policy: String,
    pub member_count: i64,
    pub location: Point,
    pub interests: Vec<Named>,
    pub organizers: Vec<Ref>,
    pub viewer_membership: Option<MembershipOfViewer>,
}

/// The viewer's own membership of a group.
#[derive(Debug, Clone, Deserialize)]
pub struct MembershipOfViewer {
    pub id: String,
    pub role: String,
    pub status: String,
}

/// A point as the API gives it, `{ lat lng }`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Point {
    pub lat: f64,
    pub lng: f64,
}

/// Something the answer names by its ID alone, `{ id }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ref {
    pub id: String,
}

/// Something the answer names by its name, `{ name }` (an interest, a venue).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Named {
    pub name: String,
}

/// The IDs of a list of `{ id }` objects, in order.
pub fn ids(refs: &[Ref]) -> Vec<&str> {
    refs.iter().map(|r| r.id.as_str()).collect()
}

pub const CREATE_GROUP: &str = "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id slug name description city timeZone joinPolicy memberCount location { lat lng } interests { id name } organizers { id } viewerMembership { id role status } } }";

pub const JOIN_GROUP: &str = "mutation($id: ID!) { joinGroup(input: { groupId: $id }) { id role status joinedAt user { id } group { id memberCount } } }";

pub const SET_ROLE: &str = "mutation($group: ID!, $user: ID!, $role: GroupRole!) { setMemberRole(input: { groupId: $group, userId: $user, role: $role }) { id role status user { id } } }";

pub const LEAVE_GROUP: &str = "mutation($id: ID!) { leaveGroup(input: { groupId: $id }) { id memberCount viewerMembership { id } } }";

/// A valid `CreateGroupInput` for a group called `name` meeting at `(lat, lng)`.
pub fn group_input(name: &str, lat: f64, lng: f64) -> Value {
    json!({
        "name": name,
        "description": format!("{name}: we meet every week."),
        "location": { "lat": lat, "lng": lng },
        "city": "Berlin",
        "timeZone": "Europe/Berlin",
    })
}

/// `group_input` with the given fields replaced.
pub fn group_input_with(name: &str, lat: f64, lng: f64, changes: Value) -> Value {
    let mut input = group_input(name, lat, lng);
    for (key, value) in changes.as_object().expect("an object of changes") {
        input[key] = value.clone();
    }
    input
}

impl TestApp {
    /// Creates a group (panics when refused).
    pub async fn create_group(&self, organizer: &Member, input: Value) -> Group {
        let body = self
            .graphql(
                Some(&organizer.access_token),
                CREATE_GROUP,
                json!({ "input": input }),
            )
            .await;
        serde_json::from_value(body["data"]["createGroup"].clone())
            .unwrap_or_else(|e| panic!("createGroup failed: {e}: {body}"))
    }

    /// Joins a group and returns the whole answer.
    pub async fn join_group(&self, member: &Member, group_id: &str) -> Value {
        self.graphql(
            Some(&member.access_token),
            JOIN_GROUP,
            json!({ "id": group_id }),
        )
        .await
    }

    /// `actor` gives `user` a role in the group: the whole answer.
    pub async fn set_role(
        &self,
        actor: &Member,
        group_id: &str,
        user: &Member,
        role: &str,
    ) -> Value {
        self.graphql(
            Some(&actor.access_token),
            SET_ROLE,
            json!({ "group": group_id, "user": user.id, "role": role }),
        )
        .await
    }

    /// The organiser gives the member a role in the group (panics when refused).
    pub async fn give_role(&self, organiser: &Member, group_id: &str, member: &Member, role: &str) {
        let body = self.set_role(organiser, group_id, member, role).await;
        assert_eq!(body["data"]["setMemberRole"]["role"], role, "{body}");
    }

    /// Joins an open group: the membership is ACTIVE at once (panics when not).
    pub async fn joins_open_group(&self, member: &Member, group_id: &str) {
        let body = self.join_group(member, group_id).await;
        assert_eq!(body["data"]["joinGroup"]["status"], "ACTIVE", "{body}");
    }

    /// A new member called `name`, ACTIVE in the (open) group.
    pub async fn new_member_of(
        &self,
        group_id: &str,
        email: &str,
        name: &str,
        address: Address,
    ) -> Member {
        let member = match address {
            Address::Verified => self.verified_member(email, name).await,
            Address::Unverified => self.sign_up(email, name).await,
        };
        self.joins_open_group(&member, group_id).await;
        member
    }

    /// A new member called Someone, their address not verified, ACTIVE in the group.
    pub async fn member_of(&self, group_id: &str, email: &str) -> Member {
        self.new_member_of(group_id, email, "Someone", Address::Unverified)
            .await
    }
}

/// Whether a new member has verified their email address.
pub enum Address {
    Verified,
    Unverified,
}
