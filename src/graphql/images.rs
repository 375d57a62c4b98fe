//! Photos: the `Image` type, and setting avatars and group and event photos from uploads
//! (the GraphQL multipart request specification; see `http::graphql`).

use async_graphql::{Context, Enum, ID, InputObject, Object, Upload};
use chrono::Utc;
use entity::image;
use uuid::Uuid;

use crate::domain::images::{self, Replaced};
use crate::error::AppError;
use crate::graphql::context::{deliver, loaders, member_id, state};
use crate::graphql::events::Event;
use crate::graphql::groups::Group;
use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{AttestationsOf, ImageById};
use crate::graphql::users::User;
use crate::media::Stored;
use crate::media::process::Size;
use crate::state::AppState;

/// An image row, as the API shows it.
pub struct Image(pub image::Model);

/// The sizes an image is served at; each fits within a square, keeping its proportions,
/// and is never larger than the upload.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ImageSize {
    /// Fits 160 × 160 pixels: lists, map pins.
    Small,
    /// Fits 640 × 640 pixels: cards, profiles.
    Medium,
    /// Fits 1,600 × 1,600 pixels: full screen.
    Large,
}

impl From<ImageSize> for Size {
    fn from(size: ImageSize) -> Self {
        match size {
            ImageSize::Small => Size::Small,
            ImageSize::Medium => Size::Medium,
            ImageSize::Large => Size::Large,
        }
    }
}

/// A picture, stored at three sizes. Every upload is decoded, turned upright and encoded
/// anew: no EXIF, GPS position or other metadata of the original is kept or served.
#[Object]
impl Image {
    /// Opaque, stable ID. A new upload is a new image with a new ID.
    async fn id(&self) -> ID {
        ids::encode(Kind::Image, self.0.id)
    }

    /// Where the JPEG of this size is served. The file at a URL never changes (its name
    /// is derived from its content), so it may be cached forever.
    async fn url(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ImageSize::Medium")] size: ImageSize,
    ) -> String {
        let name = match Size::from(size) {
            Size::Small => &self.0.small_name,
            Size::Medium => &self.0.medium_name,
            Size::Large => &self.0.large_name,
        };
        state(ctx).media.url(name)
    }

    /// Width in pixels of the upright picture at LARGE (other sizes keep its proportions).
    async fn width(&self) -> i32 {
        self.0.width
    }

    /// Height in pixels of the upright picture at LARGE.
    async fn height(&self) -> i32 {
        self.0.height
    }

    /// A BlurHash (blurha.sh) of the picture, 4 × 3 components: a placeholder to show
    /// while the image loads.
    async fn blurhash(&self) -> &str {
        &self.0.blurhash
    }

    /// How many members have met this image's owner in person and attested that this exact
    /// picture is them (`attestAvatar` on `confirmMeeting` or `respondToMeeting`): distinct
    /// people whose meeting is CONFIRMED and not withdrawn, banned members left out. Each
    /// counts once however often they met. Attestations belong to the image: a new avatar
    /// starts again from 0. Always 0 for group and event photos.
    async fn in_person_attestations(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let n = loaders(ctx)
            .load_one(AttestationsOf(self.0.id))
            .await?
            .unwrap_or(0);
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

/// The image `id` names, if it still exists.
pub async fn image_of(ctx: &Context<'_>, id: Option<Uuid>) -> async_graphql::Result<Option<Image>> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(loaders(ctx).load_one(ImageById(id)).await?.map(Image))
}

/// A new avatar.
#[derive(InputObject)]
pub struct SetAvatarInput {
    /// A JPEG, PNG or WebP picture of up to 15 MiB and 40 megapixels, sent as a file of a
    /// multipart request.
    pub file: Upload,
}

/// A new photo for a group.
#[derive(InputObject)]
pub struct SetGroupPhotoInput {
    /// The group.
    pub group_id: ID,
    /// A JPEG, PNG or WebP picture of up to 15 MiB and 40 megapixels, sent as a file of a
    /// multipart request.
    pub file: Upload,
}

/// A new photo for an event.
#[derive(InputObject)]
pub struct SetEventPhotoInput {
    /// The event.
    pub event_id: ID,
    /// A JPEG, PNG or WebP picture of up to 15 MiB and 40 megapixels, sent as a file of a
    /// multipart request.
    pub file: Upload,
}

/// Counts the upload against the member's hourly limit, then processes and stores it;
/// BAD_USER_INPUT on `input.file` when it is not an image we take.
async fn store_upload(ctx: &Context<'_>, file: &Upload) -> async_graphql::Result<Stored> {
    images::count_upload(&state(ctx).db, member_id(ctx)?, Utc::now()).await?;
    let upload = file
        .value(ctx)
        .map_err(|_| AppError::bad_input("input.file", "send the file in the request"))?;
    Ok(state(ctx)
        .media
        .store_upload(upload.content, "input.file")
        .await?)
}

/// After the commit (or its failure): deletes the files nothing names any more.
async fn settle<T>(
    state: &AppState,
    stored: &Stored,
    outcome: Result<Replaced<T>, AppError>,
) -> async_graphql::Result<T> {
    match outcome {
        Ok(replaced) => {
            images::delete_unnamed_files(&state.db, &state.media, &replaced.dropped_files).await;
            Ok(replaced.value)
        }
        Err(err) => {
            // The upload's own files, unless another image is the same picture.
            let files = [
                stored.small.clone(),
                stored.medium.clone(),
                stored.large.clone(),
            ];
            images::delete_unnamed_files(&state.db, &state.media, &files).await;
            Err(err.into())
        }
    }
}

#[derive(Default)]
pub struct ImageMutation;

#[Object]
impl ImageMutation {
    /// Sets the viewer's avatar (`User.avatar`) from an uploaded JPEG, PNG or WebP of up to
    /// 15 MiB and 40 megapixels, told by its bytes. It is decoded, turned upright by its
    /// EXIF orientation and stored anew at three sizes: no EXIF, GPS position or other
    /// metadata is kept. Anything else, a broken image or one too large is BAD_USER_INPUT
    /// on `input.file`. The previous avatar's files are deleted unless another image uses
    /// them.
    async fn set_avatar(
        &self,
        ctx: &Context<'_>,
        input: SetAvatarInput,
    ) -> async_graphql::Result<User> {
        let viewer = member_id(ctx)?;
        let stored = store_upload(ctx, &input.file).await?;
        let state = state(ctx);
        let outcome = images::set_avatar(&state.db, viewer, &stored, Utc::now()).await;
        settle(state, &stored, outcome).await.map(User)
    }

    /// Removes the viewer's avatar and deletes its files (unless another image uses them).
    /// Without an avatar, changes nothing.
    async fn remove_avatar(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let viewer = member_id(ctx)?;
        let state = state(ctx);
        let removed = images::remove_avatar(&state.db, viewer, Utc::now()).await?;
        images::delete_unnamed_files(&state.db, &state.media, &removed.dropped_files).await;
        Ok(User(removed.value))
    }

    /// Sets a group's photo (`Group.photo`), as `setAvatar` takes a picture; ORGANIZER or
    /// CO_ORGANIZER (FORBIDDEN otherwise), of an open group (CONFLICT once closed).
    async fn set_group_photo(
        &self,
        ctx: &Context<'_>,
        input: SetGroupPhotoInput,
    ) -> async_graphql::Result<Group> {
        let viewer = member_id(ctx)?;
        let group_id = ids::decode(Kind::Group, "input.groupId", &input.group_id)?;
        let state = state(ctx);
        // Who may not is told before the picture is processed.
        images::check_group_photo(&state.db, viewer, group_id).await?;
        let stored = store_upload(ctx, &input.file).await?;
        let outcome =
            images::set_group_photo(&state.db, viewer, group_id, &stored, Utc::now()).await;
        settle(state, &stored, outcome).await.map(Group)
    }

    /// Sets an event's photo (`Event.photo`), as `setAvatar` takes a picture; the event's
    /// hosts and its group's ORGANIZER and CO_ORGANIZERs (FORBIDDEN otherwise), while it is
    /// not cancelled (CONFLICT). Subscribers of the event hear it (`eventChanged`).
    async fn set_event_photo(
        &self,
        ctx: &Context<'_>,
        input: SetEventPhotoInput,
    ) -> async_graphql::Result<Event> {
        let viewer = member_id(ctx)?;
        let event_id = ids::decode(Kind::Event, "input.eventId", &input.event_id)?;
        let state = state(ctx);
        images::check_event_photo(&state.db, viewer, event_id).await?;
        let stored = store_upload(ctx, &input.file).await?;
        let outcome = images::set_event_photo(&state.db, viewer, event_id, &stored, Utc::now())
            .await
            .map(|committed| deliver(ctx, committed));
        settle(state, &stored, outcome).await.map(Event)
    }
}
