//! Blocking another member.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;

use crate::domain::blocks;
use crate::graphql::context::{member_id, state};
use crate::graphql::ids::{self, Kind};
use crate::graphql::users::User;

/// Whom to block or unblock.
#[derive(InputObject)]
pub struct BlockInput {
    /// The other member.
    pub user_id: ID,
}

#[derive(Default)]
pub struct BlockMutation;

#[Object]
impl BlockMutation {
    /// Blocks a member, silently (they are not told). From then on, two members of whom
    /// either blocked the other do not see each other in `Event.attendees`, `Group.members`
    /// or `Event.peopleToMeet`, and `confirmMeeting` between them is FORBIDDEN. Blocking
    /// again changes nothing; blocking oneself is BAD_USER_INPUT. Answers the member blocked.
    async fn block_user(
        &self,
        ctx: &Context<'_>,
        input: BlockInput,
    ) -> async_graphql::Result<User> {
        let viewer = member_id(ctx)?;
        let other = ids::decode(Kind::User, "input.userId", &input.user_id)?;
        let blocked = blocks::block(&state(ctx).db, viewer, other, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(User(blocked))
    }

    /// Lifts the viewer's block of a member (a block the other made stays). Answers the
    /// member; NOT_FOUND for no such member.
    async fn unblock_user(
        &self,
        ctx: &Context<'_>,
        input: BlockInput,
    ) -> async_graphql::Result<User> {
        let viewer = member_id(ctx)?;
        let other = ids::decode(Kind::User, "input.userId", &input.user_id)?;
        let unblocked = blocks::unblock(&state(ctx).db, viewer, other).await?;
        Ok(User(unblocked))
    }
}
