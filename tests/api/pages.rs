//! Share links: the `url` fields, the public pages they lead to (read as a chat app reads
//! a link's preview: by its Open Graph and Twitter card tags), and the files that let the
//! apps open them.

use std::io::Cursor;
use std::time::Duration;

use chrono::Utc;
use image::{ImageFormat, RgbImage};
use reqwest::multipart::{Form, Part};
use scraper::{Html, Selector};
use serde_json::{Value, json};

use crate::helpers::*;

const PUBLIC_URL: &str = "https://kith.example";
/// A title that would run, break an attribute or an entity if anything were not escaped.
const NASTY: &str = r#"<script>alert(1)</script> & "quotes" 'too'"#;
/// A venue's name in markup.
const VENUE: &str = r#"<b>Café</b> & "Bar""#;
/// Thursday 14 January 2027, 19:00 in Berlin, for three hours.
const STARTS: &str = "2027-01-14T18:00:00Z";
const ENDS: &str = "2027-01-14T21:00:00Z";
const WHEN: &str = "Thursday 14 January 2027, 19:00–22:00 CET";

const EVENT_URL: &str = "query($id: ID!) { event(id: $id) { id url } }";
const GROUP_URL: &str = "query($id: ID!) { group(id: $id) { id slug url } }";
const USER_URL: &str = "query($id: ID!) { user(id: $id) { id url } }";

/// A page as a client fetched it.
struct Page {
    status: u16,
    content_type: String,
    cache_control: String,
    body: String,
    html: Html,
}

impl Page {
    /// The `content` of `<meta property=name>` or `<meta name=name>`, exactly one.
    fn meta(&self, name: &str) -> Option<String> {
        let selector =
            Selector::parse(&format!(r#"meta[property="{name}"], meta[name="{name}"]"#)).unwrap();
        let found: Vec<_> = self.html.select(&selector).collect();
        assert!(found.len() <= 1, "{name} is given {} times", found.len());
        found
            .first()
            .map(|m| m.value().attr("content").unwrap_or_default().to_owned())
    }

    /// The text of every element `css` selects.
    fn texts(&self, css: &str) -> Vec<String> {
        let selector = Selector::parse(css).unwrap();
        self.html
            .select(&selector)
            .map(|e| e.text().collect::<String>())
            .collect()
    }
}

impl TestApp {
    /// GET of a share link, by its path on this server (its host is `KITH_PUBLIC_URL`'s).
    async fn page(&self, link: &str) -> Page {
        let path = link
            .strip_prefix(PUBLIC_URL)
            .unwrap_or_else(|| panic!("{link} is not under {PUBLIC_URL}"));
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let (status, content_type, cache_control) = (
            response.status().as_u16(),
            header("content-type"),
            header("cache-control"),
        );
        let body = response.text().await.unwrap();
        Page {
            status,
            content_type,
            cache_control,
            html: Html::parse_document(&body),
            body,
        }
    }

    async fn url_of(&self, query: &str, field: &str, id: &str) -> String {
        let body = self.graphql(None, query, json!({ "id": id })).await;
        body["data"][field]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{field}.url: {body}"))
            .to_owned()
    }

    /// Sets an event's photo from a 1200 × 630 JPEG; the photo's LARGE URL and size.
    async fn event_photo(&self, host: &Member, event_id: &str) -> (String, i64, i64) {
        let picture = RgbImage::from_fn(1200, 630, |x, _| image::Rgb([(x % 256) as u8, 90, 200]));
        let mut jpeg = Cursor::new(Vec::new());
        picture.write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
        let query = "mutation($input: SetEventPhotoInput!) { setEventPhoto(input: $input) { photo { url(size: LARGE) width height } } }";
        let operations = json!({ "query": query, "variables": { "input": { "eventId": event_id, "file": null } } });
        let form = Form::new()
            .text("operations", operations.to_string())
            .text("map", r#"{"0":["variables.input.file"]}"#)
            .part(
                "0",
                Part::bytes(jpeg.into_inner())
                    .file_name("photo.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        let body: Value = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(&host.access_token)
            .header("apollo-require-preflight", "true")
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let photo = &body["data"]["setEventPhoto"]["photo"];
        (
            photo["url"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned(),
            photo["width"].as_i64().unwrap(),
            photo["height"].as_i64().unwrap(),
        )
    }
}

async fn app() -> TestApp {
    spawn_app_with(&[("KITH_PUBLIC_URL", PUBLIC_URL)]).await
}

/// The last segment of a link's path.
fn last_segment(link: &str) -> &str {
    link.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn share_links_open_pages_with_previews_and_map_back_to_the_api() {
    let app = app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let event = app
        .create_event(
            &ann,
            event_input(&group.id, json!({ "startsAt": STARTS, "endsAt": ENDS })),
        )
        .await;

    // The event: its link is its ID under /e/, and that segment is the ID the API takes.
    let link = app.url_of(EVENT_URL, "event", &event.id).await;
    assert_eq!(link, format!("{PUBLIC_URL}/e/{}", event.id));
    let node = app
        .graphql(
            None,
            "query($id: ID!) { node(id: $id) { ... on Event { title } } }",
            json!({ "id": last_segment(&link) }),
        )
        .await;
    assert_eq!(
        node["data"]["node"]["title"], "Thursday Hack Night",
        "{node}"
    );
    let page = app.page(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert_eq!(page.cache_control, "public, max-age=300");
    assert_eq!(page.texts("h1"), ["Thursday Hack Night"]);
    assert_eq!(
        page.meta("og:title").as_deref(),
        Some("Thursday Hack Night")
    );
    assert_eq!(page.meta("og:url").as_deref(), Some(link.as_str()));
    assert_eq!(page.meta("og:type").as_deref(), Some("website"));
    assert_eq!(
        page.meta("og:description").as_deref(),
        Some(format!("{WHEN} · c-base, Berlin").as_str())
    );
    assert_eq!(page.meta("og:image"), None);
    assert_eq!(page.meta("twitter:card").as_deref(), Some("summary"));
    assert_eq!(
        page.meta("twitter:title").as_deref(),
        Some("Thursday Hack Night")
    );
    assert_eq!(page.texts("time"), [WHEN]);
    assert_eq!(page.texts(".place"), ["c-base, Berlin"]);
    let group_link = format!("{PUBLIC_URL}/g/{}", group.slug);
    assert_eq!(
        page.texts(&format!(r#"a[href="{group_link}"]"#)),
        ["Hack Nights"]
    );

    // The group: its slug, for groupBySlug.
    let link = app.url_of(GROUP_URL, "group", &group.id).await;
    assert_eq!(link, group_link);
    let found = app
        .graphql(
            None,
            "query($slug: String!) { groupBySlug(slug: $slug) { id } }",
            json!({ "slug": last_segment(&link) }),
        )
        .await;
    assert_eq!(
        found["data"]["groupBySlug"]["id"],
        group.id.as_str(),
        "{found}"
    );
    let page = app.page(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.texts("h1"), ["Hack Nights"]);
    assert_eq!(page.meta("og:title").as_deref(), Some("Hack Nights"));
    assert_eq!(page.meta("og:url").as_deref(), Some(link.as_str()));
    assert_eq!(
        page.meta("og:description").as_deref(),
        Some("Hack Nights: we meet every week.")
    );
    assert_eq!(page.meta("twitter:card").as_deref(), Some("summary"));

    // A member: their ID, for user(id:) and node(id:).
    let link = app.url_of(USER_URL, "user", &ann.id).await;
    assert_eq!(link, format!("{PUBLIC_URL}/u/{}", ann.id));
    let found = app
        .graphql(None, USER_URL, json!({ "id": last_segment(&link) }))
        .await;
    assert_eq!(found["data"]["user"]["id"], ann.id.as_str(), "{found}");
    let page = app.page(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.texts("h1"), ["Ann"]);
    assert_eq!(page.meta("og:type").as_deref(), Some("profile"));
    assert_eq!(page.meta("og:url").as_deref(), Some(link.as_str()));
    assert_eq!(page.meta("robots").as_deref(), Some("noindex"));
}

#[tokio::test]
async fn whatever_members_write_is_shown_as_text_never_as_markup() {
    let app = app().await;
    let ann = app.verified_member("ann@example.com", NASTY).await;
    let group = app
        .create_group(
            &ann,
            group_input_with(
                NASTY,
                52.52,
                13.405,
                json!({ "description": NASTY, "city": NASTY }),
            ),
        )
        .await;
    let event = app
        .create_event(
            &ann,
            event_input(
                &group.id,
                json!({ "title": NASTY, "description": NASTY, "venue": { "name": VENUE, "address": "Rungestraße 20", "location": { "lat": 52.5129, "lng": 13.4201 } } }),
            ),
        )
        .await;
    app.graphql(
        Some(&ann.access_token),
        "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }",
        json!({ "input": { "bio": NASTY } }),
    )
    .await;

    for (query, field, id) in [
        (EVENT_URL, "event", &event.id),
        (GROUP_URL, "group", &group.id),
        (USER_URL, "user", &ann.id),
    ] {
        let page = app.page(&app.url_of(query, field, id).await).await;
        assert_eq!(page.status, 200, "{field}: {}", page.body);
        // Read back, every piece is the text as written; none became an element.
        assert!(!page.body.contains("<script>"), "{field}: {}", page.body);
        assert_eq!(page.texts("script"), Vec::<String>::new(), "{field}");
        assert_eq!(page.texts("h1"), [NASTY], "{field}");
        assert_eq!(page.meta("og:title").as_deref(), Some(NASTY), "{field}");
        assert_eq!(
            page.meta("twitter:title").as_deref(),
            Some(NASTY),
            "{field}"
        );
        assert!(page.texts("title")[0].starts_with(NASTY), "{field}");
        assert!(page.texts(".text, p").iter().any(|t| t == NASTY), "{field}");
    }
    let page = app
        .page(&app.url_of(EVENT_URL, "event", &event.id).await)
        .await;
    assert_eq!(page.texts(".place"), [format!("{VENUE}, {NASTY}")]);
    assert_eq!(
        page.meta("og:description"),
        Some(format!("{} · {VENUE}, {NASTY}", page.texts("time")[0]))
    );
}

#[tokio::test]
async fn pages_show_nothing_private_and_no_one_banned_or_gone() {
    let app = app().await;
    let ann = app.verified_member("ann.private@example.com", "Ann").await;
    app.graphql(
        Some(&ann.access_token),
        "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }",
        json!({ "input": { "bio": "Climbs on Sundays.", "homeLocation": { "lat": 52.4711111, "lng": 13.3422222 }, "timeZone": "Europe/Berlin" } }),
    )
    .await;
    let group = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let event = app
        .create_event(&ann, event_input(&group.id, json!({})))
        .await;
    let bob = app
        .new_member_of(
            &group.id,
            "bob.private@example.com",
            "Bob Quux",
            Address::Verified,
        )
        .await;
    app.going(&bob, &event.id).await;

    let pages = [
        app.page(&app.url_of(EVENT_URL, "event", &event.id).await)
            .await,
        app.page(&app.url_of(GROUP_URL, "group", &group.id).await)
            .await,
        app.page(&app.url_of(USER_URL, "user", &ann.id).await).await,
        app.page(&app.url_of(USER_URL, "user", &bob.id).await).await,
    ];
    for page in &pages {
        assert_eq!(page.status, 200, "{}", page.body);
        for private in [
            "ann.private",
            "bob.private",
            "example.com",
            // Ann's home, in any rounding; the venue's exact place and street.
            "52.47",
            "13.34",
            "52.5129",
            "13.4201",
            "Rungestraße",
            "Europe/Berlin",
        ] {
            assert!(!page.body.contains(private), "{private} in {}", page.body);
        }
    }
    // Who belongs and who goes is for members: Bob, a member going, is named on his own
    // page alone.
    let naming_bob: Vec<bool> = pages.iter().map(|p| p.body.contains("Bob Quux")).collect();
    assert_eq!(naming_bob, [false, false, false, true]);
    assert_eq!(
        pages[2].meta("og:description").as_deref(),
        Some("Climbs on Sundays.")
    );

    // A banned member has no page; nor has a deleted account.
    let bob_link = app.url_of(USER_URL, "user", &bob.id).await;
    let ban = kith::domain::reports::ban(&app.state.db, uuid_of(&bob.id), Utc::now())
        .await
        .unwrap();
    app.state.outlets.deliver_now(ban).await;
    let page = app.page(&bob_link).await;
    assert_eq!(page.status, 404, "{}", page.body);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert_eq!(page.meta("og:title"), None);
    let cara = app.verified_member("cara@example.com", "Cara").await;
    let cara_link = app.url_of(USER_URL, "user", &cara.id).await;
    assert_eq!(app.page(&cara_link).await.status, 200);
    let deleted = app
        .graphql(
            Some(&cara.access_token),
            "mutation($p: String!) { deleteAccount(input: { password: $p }) }",
            json!({ "p": PASSWORD }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteAccount"], true, "{deleted}");
    assert_eq!(app.page(&cara_link).await.status, 404);
}

/// `kith_sql_statements_total`, from `/metrics`.
async fn statements(app: &TestApp) -> u64 {
    app.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix("kith_sql_statements_total "))
        .expect("the statement counter is exported")
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_events_photo_is_its_preview_image_for_two_statements() {
    // Without the background loops, whose statements the counter would count too.
    let app = spawn_app_with(&[
        ("KITH_PUBLIC_URL", PUBLIC_URL),
        ("KITH_BACKGROUND_JOBS", "off"),
    ])
    .await;
    let (ann, _, event) = app.organiser_with_event(json!({})).await;
    let (photo, width, height) = app.event_photo(&ann, &event.id).await;
    let page = app
        .page(&app.url_of(EVENT_URL, "event", &event.id).await)
        .await;
    assert_eq!(page.meta("og:image").as_deref(), Some(photo.as_str()));
    assert_eq!(page.meta("og:image:width"), Some(width.to_string()));
    assert_eq!(page.meta("og:image:height"), Some(height.to_string()));
    assert_eq!(
        page.meta("twitter:card").as_deref(),
        Some("summary_large_image")
    );
    assert_eq!(page.meta("twitter:image").as_deref(), Some(photo.as_str()));
    let selector = Selector::parse("img").unwrap();
    let shown: Vec<_> = page
        .html
        .select(&selector)
        .map(|img| img.value().attr("src").unwrap().to_owned())
        .collect();
    assert_eq!(shown, [photo.as_str()]);
    // The preview image is served, as a chat app will fetch it.
    let path = &photo[photo.find("/media/").unwrap()..];
    let served = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/jpeg");

    // The event with its group, then its photo: two statements, however often it is shared.
    let link = app.url_of(EVENT_URL, "event", &event.id).await;
    let before = statements(&app).await;
    assert_eq!(app.page(&link).await.status, 200);
    assert_eq!(statements(&app).await - before, 2);
}

#[tokio::test]
async fn links_to_nothing_are_404_pages() {
    let app = app().await;
    let (ann, _, event) = app.organiser_with_event(json!({})).await;
    for path in [
        format!("/e/{}", unknown_id("Event")),
        format!("/e/{}", ann.id),
        "/e/not-an-id".to_owned(),
        format!("/u/{}", event.id),
        format!("/u/{}", unknown_id("User")),
        "/g/no-such-group".to_owned(),
        format!("/g/{}", "x".repeat(2000)),
        "/g/%00".to_owned(),
    ] {
        let page = app.page(&format!("{PUBLIC_URL}{path}")).await;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(page.content_type, "text/html; charset=utf-8", "{path}");
        assert_eq!(page.texts("h1"), ["Not found"], "{path}");
    }
}

#[tokio::test]
async fn app_link_files_say_which_apps_open_the_links() {
    let app = app().await;
    for path in [
        "/.well-known/apple-app-site-association",
        "/.well-known/assetlinks.json",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path} without settings");
    }

    let fingerprint = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";
    let app = spawn_app_with(&[
        ("KITH_PUBLIC_URL", PUBLIC_URL),
        (
            "KITH_IOS_APP_IDS",
            "ABCDE12345.org.kith.app,VWXYZ67890.org.kith.beta",
        ),
        ("KITH_ANDROID_PACKAGE", "org.kith.app"),
        (
            "KITH_ANDROID_CERT_SHA256",
            &fingerprint.to_ascii_lowercase(),
        ),
    ])
    .await;
    let get = |path: &'static str| {
        let app = &app;
        async move {
            let response = app.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(
                response.headers()["content-type"],
                "application/json",
                "{path}"
            );
            response.json::<Value>().await.unwrap()
        }
    };
    let apple = get("/.well-known/apple-app-site-association").await;
    let details = apple["applinks"]["details"].as_array().unwrap();
    let paths = json!(["/e/*", "/g/*", "/u/*"]);
    let components = json!([{ "/": "/e/*" }, { "/": "/g/*" }, { "/": "/u/*" }]);
    assert_eq!(details.len(), 2, "{apple}");
    for (detail, app_id) in details
        .iter()
        .zip(["ABCDE12345.org.kith.app", "VWXYZ67890.org.kith.beta"])
    {
        assert_eq!(detail["appIDs"], json!([app_id]), "{apple}");
        assert_eq!(detail["components"], components, "{apple}");
        assert_eq!(detail["appID"], app_id, "{apple}");
        assert_eq!(detail["paths"], paths, "{apple}");
    }
    let android = get("/.well-known/assetlinks.json").await;
    assert_eq!(
        android,
        json!([{
            "relation": ["delegate_permission/common.handle_all_urls"],
            "target": {
                "namespace": "android_app",
                "package_name": "org.kith.app",
                "sha256_cert_fingerprints": [fingerprint],
            },
        }])
    );
}

/// A real browser renders the event page: what a visitor without the app sees, with no
/// script of a member's run. Skipped (with a note) where Chromium is not installed.
#[tokio::test]
async fn a_headless_browser_shows_the_event_page_and_runs_nothing_in_it() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
        })
    else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let app = app().await;
    let title = r#"<img src=x onerror="document.body.dataset.pwned=1"> & "quotes""#;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let group = app
        .create_group(&ann, group_input("Hack Nights", 52.52, 13.405))
        .await;
    let event = app
        .create_event(
            &ann,
            event_input(
                &group.id,
                json!({ "title": title, "startsAt": STARTS, "endsAt": ENDS }),
            ),
        )
        .await;
    let link = app.url_of(EVENT_URL, "event", &event.id).await;
    let local = app.url(link.strip_prefix(PUBLIC_URL).unwrap());
    let profile = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=2000",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            &local,
        ])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("chromium finishes")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = Html::parse_document(&String::from_utf8(out.stdout).unwrap());
    let text = |css: &str| -> Vec<String> {
        dom.select(&Selector::parse(css).unwrap())
            .map(|e| e.text().collect::<String>())
            .collect()
    };
    assert_eq!(text("h1"), [title]);
    assert_eq!(text("time"), [WHEN]);
    assert_eq!(text(".place"), ["c-base, Berlin"]);
    assert_eq!(text("title"), [format!("{title} · Kith")]);
    let body = dom
        .select(&Selector::parse("body").unwrap())
        .next()
        .unwrap();
    assert_eq!(
        body.value().attr("data-pwned"),
        None,
        "a member's markup ran"
    );
    assert_eq!(dom.select(&Selector::parse("main img").unwrap()).count(), 0);
}

#[tokio::test]
async fn a_closed_groups_page_and_its_cancelled_events_say_so() {
    let app = app().await;
    let (ann, group_id, event) = app
        .organiser_with_event(json!({ "startsAt": STARTS, "endsAt": ENDS }))
        .await;
    let group_link = app.url_of(GROUP_URL, "group", &group_id).await;
    let event_link = app.url_of(EVENT_URL, "event", &event.id).await;
    assert_eq!(
        app.page(&group_link).await.texts(".notice"),
        Vec::<String>::new()
    );
    assert_eq!(
        app.page(&event_link).await.texts(".notice"),
        Vec::<String>::new()
    );

    // Its only organiser leaves Kith: the group closes and its coming events are cancelled.
    let deleted = app
        .graphql(
            Some(&ann.access_token),
            "mutation($p: String!) { deleteAccount(input: { password: $p }) }",
            json!({ "p": PASSWORD }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteAccount"], true, "{deleted}");
    let group = app.page(&group_link).await;
    assert_eq!(group.status, 200);
    assert_eq!(group.texts(".notice"), ["This group has closed."]);
    let event = app.page(&event_link).await;
    assert_eq!(event.status, 200);
    let notice = event.texts(".notice");
    assert!(
        notice.len() == 1 && notice[0].starts_with("Cancelled"),
        "{notice:?}"
    );
    assert_eq!(
        event.meta("og:description"),
        Some(format!("Cancelled · {WHEN} · c-base, Berlin"))
    );
}
