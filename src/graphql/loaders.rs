//! Data loaders: within one request, every lookup of the same kind waiting at the same
//! moment becomes one query (`WHERE id IN (...)`), so a list of 100 events costs as many
//! statements as a list of 20.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{event, group, image, interest, membership, message, rsvp, user};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::domain::{
    accounts, attestations, events, groups, images, interests, memberships, rsvps, saved_events,
    verification,
};
use crate::error::AppError;

/// Loads rows of the request's database, by the key types below.
pub struct Db(pub DatabaseConnection);

pub type Loaders = DataLoader<Db, HashMapCache>;

/// A request's loaders; whether they keep what they load is the caller's choice
/// (`enable_all_cache`, see `graphql::context::prepare`).
pub fn loaders(db: DatabaseConnection) -> Loaders {
    DataLoader::with_cache(Db(db), tokio::spawn, HashMapCache::default())
}

fn gql(err: AppError) -> async_graphql::Error {
    err.into()
}

/// A member by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserById(pub Uuid);
/// A group by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupById(pub Uuid);
/// An event by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventById(pub Uuid);
/// An image by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImageById(pub Uuid);
/// How many members attested an image in person (`Image.inPersonAttestations`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttestationsOf(pub Uuid);
/// A group's interests.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterestsOfGroup(pub Uuid);
/// A member's interests.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterestsOfUser(pub Uuid);
/// A group's organisers.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrganizersOf(pub Uuid);
/// An event's hosts.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostsOf(pub Uuid);
/// A group's version (`groups::versions`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionOf(pub Uuid);
/// A member's RSVP to an event: (event, member).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RsvpOf(pub Uuid, pub Uuid);
/// Whether a member saved an event: (event, member); present when saved.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SavedBy(pub Uuid, pub Uuid);
/// A member's verification (email, in-person meetings, trust).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerificationOf(pub Uuid);
/// How many replies to a comment a viewer sees: (comment, viewer).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyCountOf(pub Uuid, pub Uuid);
/// A private message by id (`Conversation.lastMessage`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageById(pub Uuid);
/// A member's membership of a group: (group, member).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MembershipOf(pub Uuid, pub Uuid);

impl Loader<UserById> for Db {
    type Value = user::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[UserById]) -> Result<HashMap<UserById, user::Model>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(accounts::find_many(&self.0, &ids)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|u| (UserById(u.id), u))
            .collect())
    }
}

impl Loader<MessageById> for Db {
    type Value = message::Model;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[MessageById],
    ) -> Result<HashMap<MessageById, message::Model>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(crate::domain::messages::find_many(&self.0, &ids)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|m| (MessageById(m.id), m))
            .collect())
    }
}

impl Loader<ReplyCountOf> for Db {
    type Value = u64;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ReplyCountOf]) -> Result<HashMap<ReplyCountOf, u64>, Self::Error> {
        let mut by_viewer: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for key in keys {
            by_viewer.entry(key.1).or_default().push(key.0);
        }
        let mut found = HashMap::with_capacity(keys.len());
        for (viewer, parents) in by_viewer {
            let counts = crate::domain::comments::reply_counts(&self.0, viewer, &parents)
                .await
                .map_err(gql)?;
            found.extend(
                counts
                    .into_iter()
                    .map(|(parent, n)| (ReplyCountOf(parent, viewer), n)),
            );
        }
        Ok(found)
    }
}

impl Loader<VerificationOf> for Db {
    type Value = verification::Verification;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[VerificationOf],
    ) -> Result<HashMap<VerificationOf, verification::Verification>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let users = accounts::find_many(&self.0, &ids).await.map_err(gql)?;
        Ok(verification::of_many(&self.0, &users)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|(id, v)| (VerificationOf(id), v))
            .collect())
    }
}

impl Loader<GroupById> for Db {
    type Value = group::Model;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[GroupById],
    ) -> Result<HashMap<GroupById, group::Model>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(groups::find_many(&self.0, &ids)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|g| (GroupById(g.id), g))
            .collect())
    }
}

impl Loader<EventById> for Db {
    type Value = event::Model;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[EventById],
    ) -> Result<HashMap<EventById, event::Model>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(events::find_many(&self.0, &ids)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|e| (EventById(e.id), e))
            .collect())
    }
}

impl Loader<ImageById> for Db {
    type Value = image::Model;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ImageById],
    ) -> Result<HashMap<ImageById, image::Model>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(images::find_many(&self.0, &ids)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|i| (ImageById(i.id), i))
            .collect())
    }
}

impl Loader<AttestationsOf> for Db {
    type Value = i64;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AttestationsOf],
    ) -> Result<HashMap<AttestationsOf, i64>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let found = attestations::counts(&self.0, &ids).await.map_err(gql)?;
        // Every key answered, so an image attested by no one is 0, not missing.
        Ok(keys
            .iter()
            .map(|k| (*k, found.get(&k.0).copied().unwrap_or(0)))
            .collect())
    }
}

impl Loader<InterestsOfGroup> for Db {
    type Value = Vec<interest::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[InterestsOfGroup],
    ) -> Result<HashMap<InterestsOfGroup, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut found = interests::of_groups(&self.0, &ids).await.map_err(gql)?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl Loader<InterestsOfUser> for Db {
    type Value = Vec<interest::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[InterestsOfUser],
    ) -> Result<HashMap<InterestsOfUser, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut found = interests::of_users(&self.0, &ids).await.map_err(gql)?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl Loader<OrganizersOf> for Db {
    type Value = Vec<user::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[OrganizersOf],
    ) -> Result<HashMap<OrganizersOf, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut found = memberships::organizers_of(&self.0, &ids)
            .await
            .map_err(gql)?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl Loader<HostsOf> for Db {
    type Value = Vec<user::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[HostsOf]) -> Result<HashMap<HostsOf, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut found = events::hosts_of(&self.0, &ids).await.map_err(gql)?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl Loader<VersionOf> for Db {
    type Value = i64;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[VersionOf]) -> Result<HashMap<VersionOf, i64>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let found = groups::versions(&self.0, &ids).await.map_err(gql)?;
        Ok(found
            .into_iter()
            .map(|(id, v)| (VersionOf(id), v))
            .collect())
    }
}

impl Loader<RsvpOf> for Db {
    type Value = rsvp::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[RsvpOf]) -> Result<HashMap<RsvpOf, rsvp::Model>, Self::Error> {
        let pairs: Vec<(Uuid, Uuid)> = keys.iter().map(|k| (k.0, k.1)).collect();
        Ok(rsvps::of_pairs(&self.0, &pairs)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|r| (RsvpOf(r.event_id, r.user_id), r))
            .collect())
    }
}

impl Loader<SavedBy> for Db {
    type Value = ();
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[SavedBy]) -> Result<HashMap<SavedBy, ()>, Self::Error> {
        let mut by_user: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for key in keys {
            by_user.entry(key.1).or_default().push(key.0);
        }
        let mut found = HashMap::new();
        for (user, events) in by_user {
            for event in saved_events::saved_among(&self.0, user, &events)
                .await
                .map_err(gql)?
            {
                found.insert(SavedBy(event, user), ());
            }
        }
        Ok(found)
    }
}

impl Loader<MembershipOf> for Db {
    type Value = membership::Model;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[MembershipOf],
    ) -> Result<HashMap<MembershipOf, membership::Model>, Self::Error> {
        let pairs: Vec<(Uuid, Uuid)> = keys.iter().map(|k| (k.0, k.1)).collect();
        Ok(memberships::of_pairs(&self.0, &pairs)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|m| (MembershipOf(m.group_id, m.user_id), m))
            .collect())
    }
}
