//! Groups and memberships.

use serde_json::{Value, json};

use super::*;

pub const CREATE_GROUP: &str = "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id slug name description city timeZone joinPolicy memberCount location { lat lng } interests { id name } organizers { id } viewerMembership { id role status } } }";

pub const JOIN_GROUP: &str = "mutation($id: ID!) { joinGroup(input: { groupId: $id }) { id role status joinedAt user { id } group { id memberCount } } }";

pub const LEAVE_GROUP: &str = "mutation($id: ID!) { leaveGroup(input: { groupId: $id }) }";

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
    /// Creates a group (panics when refused) and returns the fields `CREATE_GROUP` asks for.
    pub async fn create_group(&self, organizer: &Member, input: Value) -> Value {
        let body = self
            .graphql(
                Some(&organizer.access_token),
                CREATE_GROUP,
                json!({ "input": input }),
            )
            .await;
        let group = body["data"]["createGroup"].clone();
        assert!(group["id"].is_string(), "createGroup failed: {body}");
        group
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
}
