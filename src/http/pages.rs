//! The share links' pages, `/e/{id}`, `/g/{slug}` and `/u/{id}`, and the files that let
//! the apps open those links, `/.well-known/apple-app-site-association` and
//! `/.well-known/assetlinks.json`.
//!
//! A page is what a chat app shows as a link's preview and what a browser without the app
//! shows: title, time, place and photo, with Open Graph and Twitter card tags. It shows
//! only what anyone signed out reads through the API (never an email, a home location, a
//! member list or who is going), and a banned member has no page. Each page costs two
//! statements (the row, with its group for an event, then its photo); templates escape
//! everything they are given.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::{accounts, events, groups, images, visibility};
use crate::error::AppError;
use crate::graphql::ids::{self, Kind};
use crate::http::Http;
use crate::links;

/// Pages change when their event, group or member does: a chat app or CDN may keep one
/// for five minutes, no longer.
pub const PAGE_CACHE: &str = "public, max-age=300";
/// A missing page may appear (or a link be fixed) soon.
const NOT_FOUND_CACHE: &str = "public, max-age=60";
/// The app-link files change with a release of the apps at most.
const APP_LINKS_CACHE: &str = "public, max-age=3600";
/// Nothing but the page's own inline style and its photo: should anything slip past the
/// escaping, no script runs, nothing loads, no form posts and no one frames the page.
const PAGE_CSP: &str = "default-src 'none'; img-src http: https:; style-src 'unsafe-inline'; \
                        base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// Previews show this much of a description.
const PREVIEW_CHARS: usize = 200;
/// The paths the apps open, in both files.
const APP_PATHS: [&str; 3] = ["/e/*", "/g/*", "/u/*"];

/// What every page carries in its head.
struct Meta {
    title: String,
    description: String,
    /// The page's own link, as the `url` field gives it.
    url: String,
    /// `website`, or `profile` for a member.
    og_type: &'static str,
    image: Option<PageImage>,
    /// Members' pages are for the people they were shared with, not for search engines.
    noindex: bool,
}

/// A photo at LARGE, which fits the 1.91:1 and square cards chat apps draw.
struct PageImage {
    url: String,
    width: i32,
    height: i32,
}

struct GroupLink {
    name: String,
    url: String,
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    meta: Meta,
    /// When it starts, as RFC 3339 in its own zone.
    starts_at: String,
    when: String,
    place: String,
    group: Option<GroupLink>,
    notice: Option<String>,
    description: String,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    meta: Meta,
    city: String,
    member_count: i32,
    closed: bool,
    description: String,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    meta: Meta,
    since: String,
    bio: Option<String>,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage;

/// `GET /e/{id}`: `{id}` is the event's GraphQL ID.
pub async fn event(State(http): State<Http>, Path(id): Path<String>) -> Response {
    let Some((Kind::Event, uuid)) = ids::decode_any(&id) else {
        return not_found();
    };
    let (event, group) = match events::find_with_group(&http.state.db, uuid).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(err) => return internal(err),
    };
    let image = match photo(&http, event.photo_image_id).await {
        Ok(image) => image,
        Err(err) => return internal(err),
    };
    let zone: Tz = event.time_zone.parse().unwrap_or(Tz::UTC);
    let when = time_span(event.starts_at, event.ends_at, zone);
    let city = group.as_ref().map(|g| g.city.as_str());
    let place = place(
        event.venue_name.as_deref(),
        city,
        event.online_url.is_some(),
    );
    let notice = (event.status == entity::event::EventStatus::Cancelled).then(|| {
        match event.cancel_reason.as_deref().map(str::trim) {
            Some(reason) if !reason.is_empty() => format!("Cancelled: {reason}"),
            _ => "Cancelled".to_owned(),
        }
    });
    let mut description = format!("{when} · {place}");
    if notice.is_some() {
        description = format!("Cancelled · {description}");
    }
    let page = EventPage {
        meta: Meta {
            title: event.title.clone(),
            description,
            url: format!(
                "{}{}",
                http.state.config.public_url,
                links::event_path(event.id)
            ),
            og_type: "website",
            image,
            noindex: false,
        },
        starts_at: event.starts_at.with_timezone(&zone).to_rfc3339(),
        when,
        place,
        group: group.map(|g| GroupLink {
            url: format!(
                "{}{}",
                http.state.config.public_url,
                links::group_path(&g.slug)
            ),
            name: g.name,
        }),
        notice,
        description: event.description,
    };
    html(StatusCode::OK, &page, PAGE_CACHE)
}

/// `GET /g/{slug}`.
pub async fn group(State(http): State<Http>, Path(slug): Path<String>) -> Response {
    let group = match groups::find_by_slug(&http.state.db, &slug).await {
        Ok(Some(group)) => group,
        Ok(None) => return not_found(),
        Err(err) => return internal(err),
    };
    let image = match photo(&http, group.photo_image_id).await {
        Ok(image) => image,
        Err(err) => return internal(err),
    };
    let description = if group.description.trim().is_empty() {
        format!("A group in {} on Kith", group.city)
    } else {
        preview(&group.description)
    };
    let page = GroupPage {
        meta: Meta {
            title: group.name,
            description,
            url: format!(
                "{}{}",
                http.state.config.public_url,
                links::group_path(&group.slug)
            ),
            og_type: "website",
            image,
            noindex: false,
        },
        city: group.city,
        member_count: group.member_count,
        closed: group.closed_at.is_some(),
        description: group.description,
    };
    html(StatusCode::OK, &page, PAGE_CACHE)
}

/// `GET /u/{id}`: `{id}` is the member's GraphQL ID; 404 for a banned member.
pub async fn user(State(http): State<Http>, Path(id): Path<String>) -> Response {
    let Some((Kind::User, uuid)) = ids::decode_any(&id) else {
        return not_found();
    };
    let user = match accounts::find(&http.state.db, uuid).await {
        Ok(Some(user)) if visibility::user_page(&user) => user,
        Ok(_) => return not_found(),
        Err(err) => return internal(err),
    };
    let image = match photo(&http, user.avatar_image_id).await {
        Ok(image) => image,
        Err(err) => return internal(err),
    };
    let since = format!("On Kith since {}", user.created_at.format("%B %Y"));
    let bio = user.bio.filter(|b| !b.trim().is_empty());
    let page = UserPage {
        meta: Meta {
            description: bio.as_deref().map(preview).unwrap_or_else(|| since.clone()),
            title: user.display_name,
            url: format!(
                "{}{}",
                http.state.config.public_url,
                links::user_path(user.id)
            ),
            og_type: "profile",
            image,
            noindex: true,
        },
        since,
        bio,
    };
    html(StatusCode::OK, &page, PAGE_CACHE)
}

/// `GET /.well-known/apple-app-site-association`: one entry per `KITH_IOS_APP_IDS` app,
/// in the iOS 13+ form (`appIDs`, `components`) and the older one (`appID`, `paths`).
pub async fn apple_app_site_association(State(http): State<Http>) -> Response {
    let apps = &http.state.config.app_links.ios_app_ids;
    if apps.is_empty() {
        return not_found();
    }
    let components: Vec<Value> = APP_PATHS.iter().map(|p| json!({ "/": p })).collect();
    let details: Vec<Value> = apps
        .iter()
        .map(|app| {
            json!({
                "appIDs": [app],
                "components": components,
                "appID": app,
                "paths": APP_PATHS,
            })
        })
        .collect();
    app_links(json!({ "applinks": { "apps": [], "details": details } }))
}

/// `GET /.well-known/assetlinks.json`: the Digital Asset Links statement that lets the
/// Android app handle every link of this host.
pub async fn assetlinks(State(http): State<Http>) -> Response {
    let Some(app) = &http.state.config.app_links.android else {
        return not_found();
    };
    app_links(json!([{
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {
            "namespace": "android_app",
            "package_name": app.package,
            "sha256_cert_fingerprints": app.cert_sha256,
        },
    }]))
}

fn app_links(body: Value) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static(APP_LINKS_CACHE),
        )],
        Json(body),
    )
        .into_response()
}

/// The photo at LARGE, when there is one.
async fn photo(http: &Http, id: Option<Uuid>) -> Result<Option<PageImage>, AppError> {
    let Some(id) = id else {
        return Ok(None);
    };
    let found = images::find_many(&http.state.db, &[id]).await?;
    Ok(found.into_iter().next().map(|image| PageImage {
        url: http.state.media.url(&image.large_name),
        width: image.width,
        height: image.height,
    }))
}

/// "Thursday 14 January 2027, 19:00–22:00 CET", in the event's own zone; an event that
/// ends on another day names both.
fn time_span(starts: DateTime<Utc>, ends: DateTime<Utc>, zone: Tz) -> String {
    let (starts, ends) = (starts.with_timezone(&zone), ends.with_timezone(&zone));
    let day = "%A %-d %B %Y";
    if starts.date_naive() == ends.date_naive() {
        format!(
            "{}, {}–{} {}",
            starts.format(day),
            starts.format("%H:%M"),
            ends.format("%H:%M"),
            ends.format("%Z")
        )
    } else {
        format!(
            "{}, {} {} – {}, {} {}",
            starts.format(day),
            starts.format("%H:%M"),
            starts.format("%Z"),
            ends.format(day),
            ends.format("%H:%M"),
            ends.format("%Z")
        )
    }
}

/// The venue's name and the group's city; never an address or coordinates.
fn place(venue: Option<&str>, city: Option<&str>, online: bool) -> String {
    let mut parts: Vec<&str> = venue.into_iter().chain(city).collect();
    parts.dedup();
    match (parts.is_empty(), venue.is_some(), online) {
        (_, false, true) => "Online".to_owned(),
        (false, true, true) => format!("{} · and online", parts.join(", ")),
        _ => parts.join(", "),
    }
}

/// The first [`PREVIEW_CHARS`] characters of `text` on one line, with an ellipsis when cut.
fn preview(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", flat[..cut].trim_end()),
        None => flat,
    }
}

fn html(status: StatusCode, page: &impl Template, cache: &'static str) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(PAGE_CSP),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            body,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "rendering a page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn not_found() -> Response {
    html(StatusCode::NOT_FOUND, &NotFoundPage, NOT_FOUND_CACHE)
}

fn internal(err: AppError) -> Response {
    tracing::error!(error = ?err, "page");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_told_in_the_events_zone() {
        let starts = Utc.with_ymd_and_hms(2027, 1, 14, 18, 0, 0).unwrap();
        let ends = starts + chrono::Duration::hours(3);
        assert_eq!(
            time_span(starts, ends, chrono_tz::Europe::Berlin),
            "Thursday 14 January 2027, 19:00–22:00 CET"
        );
        assert_eq!(
            time_span(starts, ends, chrono_tz::Asia::Tokyo),
            "Friday 15 January 2027, 03:00–06:00 JST"
        );
        let late = starts + chrono::Duration::hours(4);
        assert_eq!(
            time_span(
                late,
                late + chrono::Duration::hours(3),
                chrono_tz::Europe::Berlin
            ),
            "Thursday 14 January 2027, 23:00 CET – Friday 15 January 2027, 02:00 CET"
        );
    }

    #[test]
    fn places_name_the_venue_and_city_only() {
        assert_eq!(
            place(Some("c-base"), Some("Berlin"), false),
            "c-base, Berlin"
        );
        assert_eq!(place(None, Some("Berlin"), true), "Online");
        assert_eq!(
            place(Some("c-base"), Some("Berlin"), true),
            "c-base, Berlin · and online"
        );
    }

    #[test]
    fn previews_are_cut_at_a_character() {
        assert_eq!(preview("a\n\n b"), "a b");
        let long = "é".repeat(300);
        assert_eq!(preview(&long).chars().count(), PREVIEW_CHARS + 1);
    }
}
