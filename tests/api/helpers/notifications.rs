//! What members are told.

use serde::Deserialize;
use serde_json::json;

use super::*;

pub const NOTIFICATIONS: &str = "query($unread: Boolean) { viewer { notifications(first: 50, unreadOnly: $unread) { nodes { id kind message createdAt readAt event { id } group { id } } } } }";

pub const MARK_READ: &str = "mutation($ids: [ID!]!) { markNotificationsRead(input: { ids: $ids }) { id unreadNotificationCount } }";

/// A notification as the member reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub message: String,
    pub event: Option<Ref>,
    pub group: Option<Ref>,
}

impl TestApp {
    /// The member's notifications, newest first; with `unread_only`, those not read yet.
    pub async fn notifications(&self, member: &Member, unread_only: bool) -> Vec<Notification> {
        let body = self
            .graphql(
                Some(&member.access_token),
                NOTIFICATIONS,
                json!({ "unread": unread_only }),
            )
            .await;
        serde_json::from_value(body["data"]["viewer"]["notifications"]["nodes"].clone())
            .unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    /// The kinds of the member's notifications, newest first.
    pub async fn notification_kinds(&self, member: &Member) -> Vec<String> {
        self.notifications(member, false)
            .await
            .into_iter()
            .map(|n| n.kind)
            .collect()
    }
}
