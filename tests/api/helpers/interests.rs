//! The interest taxonomy and members' interests.

use serde_json::{Value, json};

use super::*;

impl TestApp {
    /// Every interest of the taxonomy, paged through 50 at a time.
    pub async fn all_interests(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            assert!(all.len() < 10_000, "paging through interests does not end");
            let body = self
                .graphql(
                    None,
                    "query($after: String) { interests(first: 50, after: $after) { nodes { id slug name category } pageInfo { hasNextPage endCursor } } }",
                    json!({ "after": after }),
                )
                .await;
            let page = &body["data"]["interests"];
            let nodes = page["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
            all.extend(nodes.iter().cloned());
            if page["pageInfo"]["hasNextPage"] != true {
                return all;
            }
            after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
        }
    }

    /// The IDs of the interests with these exact names.
    pub async fn interest_ids(&self, names: &[&str]) -> Vec<String> {
        let mut ids = Vec::new();
        for name in names {
            let body = self
                .graphql(
                    None,
                    "query($q: String) { interests(query: $q, first: 100) { nodes { id name } } }",
                    json!({ "q": name }),
                )
                .await;
            let found = body["data"]["interests"]["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .find(|i| i["name"] == *name)
                .unwrap_or_else(|| panic!("no interest named {name}: {body}"));
            ids.push(found["id"].as_str().unwrap().to_owned());
        }
        ids
    }

    /// Replaces the member's interests (panics when refused).
    pub async fn set_interests(&self, member: &Member, ids: &[String]) {
        let body = self
            .graphql(
                Some(&member.access_token),
                "mutation($ids: [ID!]!) { setInterests(input: { interestIds: $ids }) { id } }",
                json!({ "ids": ids }),
            )
            .await;
        assert_eq!(
            body["data"]["setInterests"]["id"],
            member.id.as_str(),
            "{body}"
        );
    }
}

pub fn unknown_interest_id() -> String {
    unknown_id("Interest")
}
