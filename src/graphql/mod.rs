//! The GraphQL API: thin resolvers and the contract's types, one module per area.

pub(crate) mod accounts;
pub(crate) mod blocks;
pub(crate) mod comments;
pub(crate) mod completion;
pub(crate) mod context;
pub(crate) mod discovery;
pub(crate) mod events;
pub(crate) mod geo;
pub(crate) mod groups;
pub mod ids;
pub(crate) mod images;
pub(crate) mod inputs;
pub(crate) mod interests;
pub(crate) mod limits;
pub(crate) mod loaders;
pub(crate) mod meetings;
pub(crate) mod messages;
pub(crate) mod node;
pub(crate) mod notifications;
pub(crate) mod own_data;
pub(crate) mod pagination;
pub(crate) mod push;
pub(crate) mod recovery;
pub(crate) mod scalars;
pub(crate) mod search;
pub(crate) mod server_info;
pub(crate) mod sessions;
pub(crate) mod subscriptions;
pub(crate) mod users;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use crate::graphql::subscriptions::Subscription;
use crate::state::AppState;

/// What can be read.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    node::NodeQuery,
    users::UserQuery,
    interests::InterestQuery,
    groups::GroupQuery,
    search::SearchQuery,
    discovery::DiscoveryQuery,
    events::EventQuery,
    own_data::OwnDataQuery,
    server_info::ServerInfoQuery,
);

/// What can be changed. Each mutation takes one argument, `input`, and returns what it changed.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    accounts::AccountMutation,
    recovery::RecoveryMutation,
    interests::InterestMutation,
    groups::GroupMutation,
    events::EventMutation,
    meetings::MeetingMutation,
    sessions::SessionMutation,
    blocks::BlockMutation,
    notifications::NotificationMutation,
    push::PushMutation,
    comments::CommentMutation,
    messages::MessageMutation,
    own_data::OwnDataMutation,
    images::ImageMutation,
);

pub type KithSchema = Schema<limits::Limited<Query>, Mutation, Subscription>;

fn builder() -> SchemaBuilder<limits::Limited<Query>, Mutation, Subscription> {
    Schema::build(
        limits::Limited(Query::default()),
        Mutation::default(),
        Subscription,
    )
    .register_output_type::<node::Node>()
    .override_output_type_description::<interests::InterestConnection>("A page of interests.")
    .override_output_type_description::<groups::MembershipConnection>("A page of memberships.")
    .override_output_type_description::<events::RsvpConnection>("A page of RSVPs.")
    .override_output_type_description::<comments::CommentConnection>(
        "A page of comments, oldest first.",
    )
    .override_output_type_description::<messages::ConversationConnection>(
        "A page of conversations, latest activity first.",
    )
    .override_output_type_description::<messages::MessageConnection>(
        "A page of private messages, newest first.",
    )
    .override_output_type_description::<meetings::MeetingConfirmationConnection>(
        "A page of meeting confirmations.",
    )
    .override_output_type_description::<notifications::NotificationConnection>(
        "A page of notifications, newest first.",
    )
    .override_output_type_description::<events::EventConnection>("A page of events, soonest first.")
    .override_output_type_description::<events::EventSearchConnection>(
        "A page of events near a place, soonest first.",
    )
    .override_output_type_description::<search::GroupSearchConnection>(
        "A page of nearby groups, nearest first.",
    )
    .override_output_type_description::<search::GroupRecommendationConnection>(
        "A page of recommended groups, best first.",
    )
    .override_output_type_description::<discovery::EventRecommendationConnection>(
        "A page of recommended events, best first.",
    )
}

/// The schema that serves requests, with its limits. In production, introspection and
/// "did you mean" suggestions are off.
pub fn schema(state: AppState) -> KithSchema {
    let production = state.config.is_production();
    let mut builder = builder()
        .limit_depth(limits::MAX_DEPTH)
        .limit_complexity(limits::MAX_COMPLEXITY)
        .data(state);
    if production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The contract as SDL, what `kith print-schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    let options = async_graphql::SDLExportOptions::new().include_specified_by();
    builder().finish().sdl_with_options(options)
}
