//! Configuration from the environment, read and validated once at start-up.
//! A bad setting is reported as one line naming it, and the process exits non-zero.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

use crate::documents::TrustedDocuments;
use crate::notify::push::apns::ApnsSettings;
use crate::notify::push::fcm::FcmSettings;
use crate::notify::push::web::VapidSettings;

/// Whether the server is run by a developer or serves real members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

/// Where outgoing mail goes.
#[derive(Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// Written to the log (the default: nothing to set up).
    Log,
    /// One RFC 5322 `.eml` file per message in this folder.
    Dir(PathBuf),
    /// Sent over SMTP (`smtp://`, `smtps://`, with optional credentials in the URL).
    Smtp(String),
}

/// The settings, checked. Its `Debug` leaves secrets out (the JWT secret, passwords in URLs).
#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub mode: Mode,
    pub jwt_secret: Vec<u8>,
    /// True when no secret was configured and a random one was made (development only).
    pub jwt_secret_generated: bool,
    pub mail: MailTransport,
    /// The sender of outgoing mail (`KITH_MAIL_FROM`).
    pub mail_from: String,
    /// How long `/readyz` reports 503 before the server stops accepting connections, so a
    /// load balancer notices first (`KITH_SHUTDOWN_GRACE_SECONDS`; 0 in development, 5 in
    /// production).
    pub shutdown_grace: Duration,
    /// The address apps and calendar programs reach this server at, for absolute URLs
    /// (`KITH_PUBLIC_URL`; `http://` + the listen address when absent).
    pub public_url: String,
    /// How far from the venue a member's phone may be to check in by location
    /// (`KITH_CHECKIN_RADIUS_METERS`, 300 unless set; 10 to 5,000).
    pub check_in_radius_meters: f64,
    /// Accounts one client address may make in an hour (`KITH_SIGN_UPS_PER_HOUR`, 50 unless
    /// set; 1 to 100,000).
    pub sign_ups_per_hour: i32,
    /// How long a client may take to send a request's head, counted from when the
    /// connection opens or its previous response ends; an idle kept-alive connection is
    /// closed after it too (`KITH_HEADER_TIMEOUT_SECONDS`, 30 unless set).
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body once its head has arrived
    /// (`KITH_BODY_TIMEOUT_SECONDS`, 30 unless set); later, the answer is 408.
    pub body_timeout: Duration,
    /// How many connections the API port keeps open at once, WebSockets included; more
    /// wait to be accepted (`KITH_MAX_CONNECTIONS`; by default the open-file limit less
    /// [`RESERVED_FILES`], see [`connection_ceiling`]).
    pub max_connections: usize,
    /// Where `/metrics` is served, on a listener of its own (`KITH_METRICS_LISTEN`). When
    /// absent, development serves it on the API port and production nowhere.
    pub metrics_listen: Option<SocketAddr>,
    /// The only operations that run, when set (`KITH_TRUSTED_DOCUMENTS`: an Apollo persisted
    /// query manifest, read at start-up).
    pub trusted_documents: Option<TrustedDocuments>,
    /// Proxies whose `X-Forwarded-For` is believed (`KITH_TRUSTED_PROXIES`: comma-separated
    /// CIDRs, a bare address being one host; none unless set).
    pub trusted_proxies: Vec<IpNet>,
    /// Push credentials, each platform's optional (see `notify::push`).
    pub push: PushSettings,
    /// Where photos' files are stored (`KITH_MEDIA_DIR`; by default a `media` folder beside
    /// the SQLite database, or in the working directory).
    pub media_dir: PathBuf,
    /// The absolute URL prefix stored photos are reached at, without a trailing slash
    /// (`KITH_MEDIA_PUBLIC_URL`, for a CDN; `KITH_PUBLIC_URL` + `/media` when absent).
    pub media_public_url: String,
    /// An S3-compatible object store for photos' files instead of `media_dir`
    /// (`KITH_S3_URL` and the standard AWS settings; see [`S3Settings`]).
    pub s3: Option<S3Settings>,
    /// Whether this process runs the background loops (`KITH_BACKGROUND_JOBS`, `on` unless
    /// `off`): recurring series, reminders, retries of mail and pushes, TRUSTED, sweeps. Every
    /// loop is safe in several processes at once; `off` is for processes that only serve, and
    /// at least one process must keep them on.
    pub background_jobs: bool,
    /// Which apps open the share links (`/e/…`, `/g/…`, `/u/…`) instead of the browser:
    /// `/.well-known/apple-app-site-association` and `/.well-known/assetlinks.json`.
    pub app_links: AppLinks,
}

/// The apps the share links open, from `KITH_IOS_APP_IDS`, `KITH_ANDROID_PACKAGE` and
/// `KITH_ANDROID_CERT_SHA256`; each platform's file is 404 while its settings are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppLinks {
    /// iOS apps as `TEAMID.bundle.id` (a 10-character Apple team ID, a dot, the bundle ID).
    pub ios_app_ids: Vec<String>,
    /// The Android app, when set.
    pub android: Option<AndroidApp>,
}

/// An Android app allowed to open the share links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AndroidApp {
    /// Its application ID (`org.kith.app`).
    pub package: String,
    /// SHA-256 fingerprints of its signing certificates, as `AB:CD:…` (32 upper-case
    /// hex bytes joined by colons, as `keytool -list` prints them and Android compares them).
    pub cert_sha256: Vec<String>,
}

/// Where photos go when `KITH_S3_URL` is set: an S3-compatible bucket (AWS, MinIO, Garage,
/// Cloudflare R2, ...), shared by every process. Its `Debug` leaves the secret key out.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// From `KITH_S3_URL`, `s3://bucket` or `s3://bucket/prefix`.
    pub bucket: String,
    /// The folder inside the bucket, without slashes at either end; empty for the root.
    pub prefix: String,
    /// `KITH_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`: the store's
    /// URL for anything but AWS itself (`http://127.0.0.1:9000`); requests then use path
    /// style (`endpoint/bucket/key`). None: AWS, by region.
    pub endpoint: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1` (what most S3-compatible
    /// stores accept).
    pub region: String,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, both or neither (then the
    /// instance's role, on AWS); `AWS_SESSION_TOKEN` with temporary keys.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `KITH_S3_URL` and the AWS settings beside it; None without `KITH_S3_URL`.
fn s3_settings(get: &impl Fn(&str) -> Option<String>) -> Result<Option<S3Settings>, ConfigError> {
    let Some(text) = get("KITH_S3_URL") else {
        return Ok(None);
    };
    let invalid = || bad("KITH_S3_URL", "must be s3://bucket or s3://bucket/prefix");
    let rest = text.strip_prefix("s3://").ok_or_else(invalid)?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !bucket_ok {
        return Err(invalid());
    }
    let prefix = prefix.trim_matches('/');
    if !prefix.is_empty()
        && prefix
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(invalid());
    }
    let endpoint = match get("KITH_S3_ENDPOINT")
        .or_else(|| get("AWS_ENDPOINT_URL_S3"))
        .or_else(|| get("AWS_ENDPOINT_URL"))
    {
        None => None,
        Some(text) => Some(
            url::Url::parse(&text)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .map(|u| u.as_str().trim_end_matches('/').to_owned())
                .ok_or_else(|| {
                    bad(
                        "KITH_S3_ENDPOINT",
                        "must be an http(s) URL such as http://127.0.0.1:9000",
                    )
                })?,
        ),
    };
    let (access_key_id, secret_access_key) =
        match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => (Some(id), Some(secret)),
            (None, None) => (None, None),
            _ => {
                return Err(bad(
                    "AWS_SECRET_ACCESS_KEY",
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together",
                ));
            }
        };
    Ok(Some(S3Settings {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        endpoint,
        region: get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into()),
        access_key_id,
        secret_access_key,
        session_token: get("AWS_SESSION_TOKEN"),
    }))
}

/// The push providers' settings; a platform without them cannot register devices.
#[derive(Clone, Debug, Default)]
pub struct PushSettings {
    /// `KITH_APNS_KEY_FILE`, `KITH_APNS_KEY_ID`, `KITH_APNS_TEAM_ID`, `KITH_APNS_TOPIC`,
    /// `KITH_APNS_URL`.
    pub apns: Option<ApnsSettings>,
    /// `KITH_FCM_SERVICE_ACCOUNT`, `KITH_FCM_URL`.
    pub fcm: Option<FcmSettings>,
    /// `KITH_VAPID_PRIVATE_KEY`, `KITH_VAPID_SUBJECT`.
    pub vapid: Option<VapidSettings>,
}

/// A setting that cannot be used, named as the operator wrote it.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

fn bad(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://kith.db?mode=rwc";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_MAIL_FROM: &str = "Kith <no-reply@kith.invalid>";
/// Shorter secrets make HS256 tokens guessable offline.
const MIN_SECRET_BYTES: usize = 32;
/// How long `/readyz` says 503 before a production server stops accepting connections.
const PRODUCTION_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
const MAX_SHUTDOWN_GRACE_SECONDS: u64 = 300;
pub const DEFAULT_CHECK_IN_RADIUS_METERS: f64 = 300.0;
pub const DEFAULT_SIGN_UPS_PER_HOUR: i32 = 50;
const CHECK_IN_RADIUS_METERS: RangeInclusive<f64> = 10.0..=5000.0;
/// hyper's own default for the header read timeout: long enough for a phone on a poor
/// network, short enough that half-sent requests do not pile up.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// A GraphQL body is at most 1 MiB: 30 s is 35 KB/s, slower than any network an app
/// should be sending from.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
const TIMEOUT_SECONDS: RangeInclusive<u64> = 1..=600;
/// File descriptors kept back from client connections for everything else the process
/// opens: the database pool (16 PostgreSQL connections, or 8 SQLite ones with 3 files
/// each), the change-bus listener, SMTP connections or mail files, the listeners and the
/// metrics listener's connections, logs. Generous, because running out stops all of them.
pub const RESERVED_FILES: u64 = 512;
/// An unlimited open-file limit counts as this many, so the default stays a number.
const MAX_COUNTED_FILES: u64 = 1 << 20;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `get`, so tests can supply their own.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mode = mode(get("KITH_ENV"))?;
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        validate_database_url(&database_url)?;
        let listen_text = get("KITH_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = address("KITH_LISTEN", &listen_text)?;
        let (jwt_secret, jwt_secret_generated) = jwt_secret(get("KITH_JWT_SECRET"), mode)?;
        let public = public_url(get("KITH_PUBLIC_URL"), listen)?;
        let media_public_url = match get("KITH_MEDIA_PUBLIC_URL") {
            None => format!("{public}/media"),
            Some(text) => url::Url::parse(&text)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .map(|u| u.as_str().trim_end_matches('/').to_owned())
                .ok_or_else(|| {
                    bad(
                        "KITH_MEDIA_PUBLIC_URL",
                        "must be an http(s) URL such as https://cdn.kith.example/media",
                    )
                })?,
        };
        let media_dir = match get("KITH_MEDIA_DIR") {
            Some(dir) if !dir.trim().is_empty() => PathBuf::from(dir),
            _ => default_media_dir(&database_url),
        };
        Ok(Config {
            s3: s3_settings(&get)?,
            media_dir,
            media_public_url,
            public_url: public,
            database_url,
            listen,
            mode,
            jwt_secret,
            jwt_secret_generated,
            mail: mail_transport(get("KITH_MAIL_DIR"), get("KITH_SMTP_URL"))?,
            mail_from: get("KITH_MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into()),
            shutdown_grace: match get("KITH_SHUTDOWN_GRACE_SECONDS") {
                None if mode == Mode::Production => PRODUCTION_SHUTDOWN_GRACE,
                None => Duration::ZERO,
                Some(text) => text
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s <= MAX_SHUTDOWN_GRACE_SECONDS)
                    .map(Duration::from_secs)
                    .ok_or_else(|| {
                        bad(
                            "KITH_SHUTDOWN_GRACE_SECONDS",
                            format!(
                                "must be a whole number of seconds, 0 to {MAX_SHUTDOWN_GRACE_SECONDS}"
                            ),
                        )
                    })?,
            },
            sign_ups_per_hour: match get("KITH_SIGN_UPS_PER_HOUR") {
                None => DEFAULT_SIGN_UPS_PER_HOUR,
                Some(text) => text
                    .parse::<i32>()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| bad("KITH_SIGN_UPS_PER_HOUR", "must be a whole number, 1 to 100000"))?,
            },
            check_in_radius_meters: match get("KITH_CHECKIN_RADIUS_METERS") {
                None => DEFAULT_CHECK_IN_RADIUS_METERS,
                Some(text) => text
                    .parse::<f64>()
                    .ok()
                    .filter(|m| CHECK_IN_RADIUS_METERS.contains(m))
                    .ok_or_else(|| {
                        bad(
                            "KITH_CHECKIN_RADIUS_METERS",
                            format!(
                                "must be a number of metres, {} to {}",
                                CHECK_IN_RADIUS_METERS.start(),
                                CHECK_IN_RADIUS_METERS.end()
                            ),
                        )
                    })?,
            },
            header_timeout: seconds(
                "KITH_HEADER_TIMEOUT_SECONDS",
                get("KITH_HEADER_TIMEOUT_SECONDS"),
                DEFAULT_HEADER_TIMEOUT,
            )?,
            body_timeout: seconds(
                "KITH_BODY_TIMEOUT_SECONDS",
                get("KITH_BODY_TIMEOUT_SECONDS"),
                DEFAULT_BODY_TIMEOUT,
            )?,
            max_connections: max_connections(get("KITH_MAX_CONNECTIONS"), open_file_limit())?,
            metrics_listen: get("KITH_METRICS_LISTEN")
                .map(|text| address("KITH_METRICS_LISTEN", &text))
                .transpose()?,
            trusted_documents: get("KITH_TRUSTED_DOCUMENTS")
                .map(|path| {
                    TrustedDocuments::load(std::path::Path::new(&path))
                        .map_err(|message| bad("KITH_TRUSTED_DOCUMENTS", message))
                })
                .transpose()?,
            trusted_proxies: trusted_proxies(get("KITH_TRUSTED_PROXIES"))?,
            background_jobs: match get("KITH_BACKGROUND_JOBS").as_deref() {
                None | Some("on") => true,
                Some("off") => false,
                Some(_) => return Err(bad("KITH_BACKGROUND_JOBS", "must be on or off")),
            },
            app_links: AppLinks {
                ios_app_ids: ios_app_ids(get("KITH_IOS_APP_IDS"))?,
                android: android_app(get("KITH_ANDROID_PACKAGE"), get("KITH_ANDROID_CERT_SHA256"))?,
            },
            push: PushSettings {
                apns: ApnsSettings::from_lookup(&get)?,
                fcm: FcmSettings::from_lookup(&get)?,
                vapid: VapidSettings::from_lookup(&get)?,
            },
        })
    }

    pub fn is_production(&self) -> bool {
        self.mode == Mode::Production
    }
}

fn mode(value: Option<String>) -> Result<Mode, ConfigError> {
    match value.as_deref() {
        None | Some("development") => Ok(Mode::Development),
        Some("production") => Ok(Mode::Production),
        Some(other) => Err(bad(
            "KITH_ENV",
            format!("must be `development` or `production`, not `{other}`"),
        )),
    }
}

/// Comma-separated parts of a setting, trimmed, empty ones skipped.
fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
}

/// `KITH_IOS_APP_IDS`: `TEAMID.bundle.id`, comma-separated. Apple team IDs are 10
/// upper-case letters and digits; a bundle ID is letters, digits, `-` and `.`.
fn ios_app_ids(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(text) = value else {
        return Ok(Vec::new());
    };
    list(&text)
        .map(|part| {
            let fits = part.split_once('.').is_some_and(|(team, bundle)| {
                team.len() == 10
                    && team
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    && !bundle.is_empty()
                    && bundle.split('.').all(|label| {
                        !label.is_empty()
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
            });
            if fits {
                Ok(part.to_owned())
            } else {
                Err(bad(
                    "KITH_IOS_APP_IDS",
                    format!("`{part}` is not TEAMID.bundle.id, such as ABCDE12345.org.kith.app"),
                ))
            }
        })
        .collect()
}

/// `KITH_ANDROID_PACKAGE` with `KITH_ANDROID_CERT_SHA256`: both or neither. Fingerprints
/// are taken with or without colons, in either case, and kept as Android writes them.
fn android_app(
    package: Option<String>,
    fingerprints: Option<String>,
) -> Result<Option<AndroidApp>, ConfigError> {
    let (package, fingerprints) = match (package, fingerprints) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(bad(
                "KITH_ANDROID_CERT_SHA256",
                "is required with KITH_ANDROID_PACKAGE",
            ));
        }
        (None, Some(_)) => {
            return Err(bad(
                "KITH_ANDROID_PACKAGE",
                "is required with KITH_ANDROID_CERT_SHA256",
            ));
        }
        (Some(package), Some(fingerprints)) => (package.trim().to_owned(), fingerprints),
    };
    // Java package rules, as Android applies them to application IDs: two or more
    // segments, each starting with a letter, then letters, digits and `_`.
    let segments: Vec<&str> = package.split('.').collect();
    let package_fits = segments.len() >= 2
        && segments.iter().all(|s| {
            s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if !package_fits {
        return Err(bad(
            "KITH_ANDROID_PACKAGE",
            format!("`{package}` is not an application ID such as org.kith.app"),
        ));
    }
    let cert_sha256 = list(&fingerprints)
        .map(|part| {
            let hex: String = part.chars().filter(|c| *c != ':').collect();
            if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let upper = hex.to_ascii_uppercase();
                Ok(upper
                    .as_bytes()
                    .chunks(2)
                    .map(|pair| std::str::from_utf8(pair).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(":"))
            } else {
                Err(bad(
                    "KITH_ANDROID_CERT_SHA256",
                    format!("`{part}` is not a SHA-256 fingerprint (32 hex bytes, as AB:CD:…)"),
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if cert_sha256.is_empty() {
        return Err(bad(
            "KITH_ANDROID_CERT_SHA256",
            "needs at least one fingerprint",
        ));
    }
    Ok(Some(AndroidApp {
        package,
        cert_sha256,
    }))
}

/// `KITH_TRUSTED_PROXIES`: CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or bare addresses.
fn trusted_proxies(value: Option<String>) -> Result<Vec<IpNet>, ConfigError> {
    let Some(text) = value else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    bad(
                        "KITH_TRUSTED_PROXIES",
                        format!(
                            "`{part}` is not an address or CIDR such as 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32"
                        ),
                    )
                })
        })
        .collect()
}

fn address(setting: &'static str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse().map_err(|_| {
        bad(
            setting,
            format!("`{text}` is not an address and port such as 127.0.0.1:8080"),
        )
    })
}

/// A whole number of seconds in `TIMEOUT_SECONDS`, or `default` when unset.
fn seconds(
    setting: &'static str,
    value: Option<String>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    text.parse::<u64>()
        .ok()
        .filter(|s| TIMEOUT_SECONDS.contains(s))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            bad(
                setting,
                format!(
                    "must be a whole number of seconds, {} to {}",
                    TIMEOUT_SECONDS.start(),
                    TIMEOUT_SECONDS.end()
                ),
            )
        })
}

/// The most client connections an open-file limit of `open_files` leaves room for: all
/// but [`RESERVED_FILES`] descriptors, or half of a limit too small to spare that many.
pub fn connection_ceiling(open_files: u64) -> usize {
    let open_files = open_files.min(MAX_COUNTED_FILES);
    let ceiling = if open_files > 2 * RESERVED_FILES {
        open_files - RESERVED_FILES
    } else {
        open_files / 2
    };
    usize::try_from(ceiling.max(1)).unwrap_or(usize::MAX)
}

/// `KITH_MAX_CONNECTIONS`, at most (and by default) what the open-file limit leaves room
/// for: more, and a flood of connections could take the descriptors the database needs.
fn max_connections(value: Option<String>, open_files: u64) -> Result<usize, ConfigError> {
    let ceiling = connection_ceiling(open_files);
    let Some(text) = value else {
        return Ok(ceiling);
    };
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=ceiling).contains(n))
        .ok_or_else(|| {
            bad(
                "KITH_MAX_CONNECTIONS",
                format!(
                    "must be a whole number from 1 to {ceiling}: the open-file limit \
                     (ulimit -n, {open_files}) less {RESERVED_FILES} kept for the database, \
                     mail and logs"
                ),
            )
        })
}

/// This process's soft limit on open files (`ulimit -n`).
#[cfg(unix)]
fn open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into the struct it is given, which outlives the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
        let current = limit.rlim_cur as u64;
        current
    } else {
        FALLBACK_OPEN_FILES
    }
}

/// Without a limit to read, a figure most systems allow.
#[cfg(not(unix))]
fn open_file_limit() -> u64 {
    FALLBACK_OPEN_FILES
}

const FALLBACK_OPEN_FILES: u64 = 4096;

/// The configured secret, or (in development only) a random one: `(secret, generated)`.
fn jwt_secret(value: Option<String>, mode: Mode) -> Result<(Vec<u8>, bool), ConfigError> {
    match value {
        Some(secret) if secret.len() >= MIN_SECRET_BYTES => Ok((secret.into_bytes(), false)),
        Some(_) => Err(bad(
            "KITH_JWT_SECRET",
            format!("must be at least {MIN_SECRET_BYTES} characters long"),
        )),
        None if mode == Mode::Production => Err(bad(
            "KITH_JWT_SECRET",
            "is required when KITH_ENV=production",
        )),
        None => Ok((rand::random::<[u8; 32]>().to_vec(), true)),
    }
}

fn mail_transport(dir: Option<String>, smtp: Option<String>) -> Result<MailTransport, ConfigError> {
    match (dir, smtp) {
        (Some(_), Some(_)) => Err(bad(
            "KITH_SMTP_URL",
            "set either KITH_MAIL_DIR or KITH_SMTP_URL, not both",
        )),
        (Some(dir), None) => Ok(MailTransport::Dir(PathBuf::from(dir))),
        (None, Some(smtp)) => {
            let parsed = url::Url::parse(&smtp)
                .map_err(|e| bad("KITH_SMTP_URL", format!("not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host().is_none() {
                return Err(bad(
                    "KITH_SMTP_URL",
                    "must look like smtp://host:port or smtps://user:pass@host",
                ));
            }
            Ok(MailTransport::Smtp(smtp))
        }
        (None, None) => Ok(MailTransport::Log),
    }
}

/// A `media` folder beside the SQLite database file; in the working directory for
/// PostgreSQL or an in-memory database.
fn default_media_dir(database_url: &str) -> PathBuf {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(""))
        .filter(|path| !path.is_empty() && !path.starts_with(":memory:"));
    match file.and_then(|path| Path::new(path).parent()) {
        Some(parent) => parent.join("media"),
        None => PathBuf::from("media"),
    }
}

fn public_url(value: Option<String>, listen: SocketAddr) -> Result<String, ConfigError> {
    let Some(text) = value else {
        return Ok(format!("http://{listen}"));
    };
    let parsed = url::Url::parse(&text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            bad(
                "KITH_PUBLIC_URL",
                "must be an http(s) URL such as https://kith.example",
            )
        })?;
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// A URL with its password (if any) replaced, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl std::fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailTransport::Log => f.write_str("Log"),
            MailTransport::Dir(dir) => f.debug_tuple("Dir").field(dir).finish(),
            MailTransport::Smtp(url) => f.debug_tuple("Smtp").field(&redact_url(url)).finish(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("mode", &self.mode)
            .field("jwt_secret", &"***")
            .field("jwt_secret_generated", &self.jwt_secret_generated)
            .field("mail", &self.mail)
            .field("mail_from", &self.mail_from)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("public_url", &self.public_url)
            .field("media_dir", &self.media_dir)
            .field("media_public_url", &self.media_public_url)
            .field("s3", &self.s3)
            .field("check_in_radius_meters", &self.check_in_radius_meters)
            .field("sign_ups_per_hour", &self.sign_ups_per_hour)
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_connections", &self.max_connections)
            .field("metrics_listen", &self.metrics_listen)
            .field("trusted_documents", &self.trusted_documents)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("push", &self.push)
            .field("background_jobs", &self.background_jobs)
            .field("app_links", &self.app_links)
            .finish()
    }
}

fn validate_database_url(url: &str) -> Result<(), ConfigError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| bad("DATABASE_URL", format!("`{url}` is not a URL: {e}")))?;
    match parsed.scheme() {
        "sqlite" => Ok(()),
        "postgres" | "postgresql" if parsed.host().is_some() => Ok(()),
        "postgres" | "postgresql" => Err(bad("DATABASE_URL", "a PostgreSQL URL needs a host")),
        other => Err(bad(
            "DATABASE_URL",
            format!("unsupported scheme `{other}`: use sqlite://... or postgres://..."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn media_goes_beside_the_sqlite_database_unless_told() {
        let c = config(&[("DATABASE_URL", "sqlite:///var/lib/kith/kith.db?mode=rwc")]).unwrap();
        assert_eq!(c.media_dir, PathBuf::from("/var/lib/kith/media"));
        assert_eq!(c.media_public_url, format!("http://{DEFAULT_LISTEN}/media"));
        let c = config(&[("DATABASE_URL", "postgres://kith@db/kith")]).unwrap();
        assert_eq!(c.media_dir, PathBuf::from("media"));
        let c = config(&[
            ("KITH_MEDIA_DIR", "/srv/media"),
            ("KITH_PUBLIC_URL", "https://kith.example/"),
        ])
        .unwrap();
        assert_eq!(c.media_dir, PathBuf::from("/srv/media"));
        assert_eq!(c.media_public_url, "https://kith.example/media");
        let c = config(&[("KITH_MEDIA_PUBLIC_URL", "https://cdn.example/k/")]).unwrap();
        assert_eq!(c.media_public_url, "https://cdn.example/k");
        assert!(config(&[("KITH_MEDIA_PUBLIC_URL", "cdn")]).is_err());
    }

    #[test]
    fn s3_takes_a_bucket_an_optional_prefix_and_the_standard_aws_settings() {
        assert_eq!(config(&[]).unwrap().s3, None);
        let c = config(&[
            ("KITH_S3_URL", "s3://kith-photos/prod/"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
            ("AWS_DEFAULT_REGION", "eu-central-1"),
        ])
        .unwrap();
        let s3 = c.s3.clone().unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.prefix.as_str()),
            ("kith-photos", "prod")
        );
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.region, "eu-central-1");
        assert!(!format!("{c:?}").contains("wJalrXUtnFEMI"));
        let s3 = config(&[("KITH_S3_URL", "s3://kith")]).unwrap().s3.unwrap();
        assert_eq!((s3.prefix.as_str(), s3.region.as_str()), ("", "us-east-1"));
        assert_eq!(s3.endpoint, None);
        for url in [
            "kith",
            "s3://",
            "s3://UPPER",
            "s3://kith/a//b",
            "s3://kith/../x",
        ] {
            assert!(config(&[("KITH_S3_URL", url)]).is_err(), "{url}");
        }
        let half = config(&[("KITH_S3_URL", "s3://kith"), ("AWS_ACCESS_KEY_ID", "AKID")]);
        assert!(half.is_err());
        let endpoint = config(&[("KITH_S3_URL", "s3://kith"), ("KITH_S3_ENDPOINT", "minio")]);
        assert!(endpoint.is_err());
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.mode, Mode::Development);
        assert!(c.jwt_secret_generated);
        assert_eq!(c.mail, MailTransport::Log);
        assert_eq!(c.header_timeout, DEFAULT_HEADER_TIMEOUT);
        assert_eq!(c.body_timeout, DEFAULT_BODY_TIMEOUT);
        assert_eq!(c.max_connections, connection_ceiling(open_file_limit()));
        assert_eq!(c.metrics_listen, None);
        assert!(c.trusted_documents.is_none());
        assert!(c.trusted_proxies.is_empty());
        assert!(c.background_jobs);
        assert!(
            !config(&[("KITH_BACKGROUND_JOBS", "off")])
                .unwrap()
                .background_jobs
        );
    }

    #[test]
    fn trusted_proxies_are_networks() {
        let c = config(&[("KITH_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,2001:db8::1")]).unwrap();
        let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::1/128"]);
    }

    #[test]
    fn connections_leave_descriptors_for_the_rest() {
        assert_eq!(connection_ceiling(20_000), 19_488);
        assert_eq!(connection_ceiling(1024), 512);
        assert_eq!(connection_ceiling(256), 128);
        assert_eq!(connection_ceiling(1), 1);
        assert_eq!(connection_ceiling(u64::MAX), (1 << 20) - 512);
        assert_eq!(max_connections(Some("100".into()), 20_000).unwrap(), 100);
        assert!(max_connections(Some("19489".into()), 20_000).is_err());
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[("DATABASE_URL", "not a url")], "DATABASE_URL"),
            (&[("KITH_BACKGROUND_JOBS", "no")], "KITH_BACKGROUND_JOBS"),
            (&[("KITH_LISTEN", "localhost")], "KITH_LISTEN"),
            (&[("KITH_ENV", "staging")], "KITH_ENV"),
            (&[("KITH_ENV", "production")], "KITH_JWT_SECRET"),
            (&[("KITH_JWT_SECRET", "short")], "KITH_JWT_SECRET"),
            (&[("KITH_SMTP_URL", "http://x")], "KITH_SMTP_URL"),
            (
                &[("KITH_HEADER_TIMEOUT_SECONDS", "0")],
                "KITH_HEADER_TIMEOUT_SECONDS",
            ),
            (
                &[("KITH_BODY_TIMEOUT_SECONDS", "soon")],
                "KITH_BODY_TIMEOUT_SECONDS",
            ),
            (&[("KITH_MAX_CONNECTIONS", "0")], "KITH_MAX_CONNECTIONS"),
            (
                &[("KITH_MAX_CONNECTIONS", "100000000000")],
                "KITH_MAX_CONNECTIONS",
            ),
            (&[("KITH_METRICS_LISTEN", "9090")], "KITH_METRICS_LISTEN"),
            (
                &[("KITH_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")],
                "KITH_TRUSTED_PROXIES",
            ),
            (
                &[("KITH_TRUSTED_PROXIES", "10.0.0.0/33")],
                "KITH_TRUSTED_PROXIES",
            ),
            (
                &[("KITH_TRUSTED_DOCUMENTS", "/nonexistent/manifest.json")],
                "KITH_TRUSTED_DOCUMENTS",
            ),
            (
                &[("KITH_SMTP_URL", "smtp://x"), ("KITH_MAIL_DIR", "/tmp")],
                "KITH_SMTP_URL",
            ),
            (&[("KITH_IOS_APP_IDS", "org.kith.app")], "KITH_IOS_APP_IDS"),
            (
                &[("KITH_IOS_APP_IDS", "ABCDE12345.org.kith.app, abcde12345.x")],
                "KITH_IOS_APP_IDS",
            ),
            (
                &[("KITH_IOS_APP_IDS", "ABCDE12345.org..app")],
                "KITH_IOS_APP_IDS",
            ),
            (
                &[("KITH_ANDROID_PACKAGE", "org.kith.app")],
                "KITH_ANDROID_CERT_SHA256",
            ),
            (
                &[("KITH_ANDROID_CERT_SHA256", FINGERPRINT)],
                "KITH_ANDROID_PACKAGE",
            ),
            (
                &[
                    ("KITH_ANDROID_PACKAGE", "kith"),
                    ("KITH_ANDROID_CERT_SHA256", FINGERPRINT),
                ],
                "KITH_ANDROID_PACKAGE",
            ),
            (
                &[
                    ("KITH_ANDROID_PACKAGE", "org.kith.app"),
                    ("KITH_ANDROID_CERT_SHA256", "AB:CD"),
                ],
                "KITH_ANDROID_CERT_SHA256",
            ),
        ];
        for (pairs, setting) in cases {
            let err = config(pairs).unwrap_err();
            assert_eq!(err.setting, *setting, "{pairs:?}");
        }
    }

    const FINGERPRINT: &str = "14:6d:e9:83:c5:73:06:50:d8:ee:b9:95:2f:34:fc:64:16:a0:83:42:e6:1d:be:a8:8a:04:96:b2:3f:cf:44:e5";

    #[test]
    fn app_links_are_read_and_fingerprints_written_as_android_does() {
        assert_eq!(config(&[]).unwrap().app_links, AppLinks::default());
        let bare = FINGERPRINT.replace(':', "");
        let c = config(&[
            (
                "KITH_IOS_APP_IDS",
                "ABCDE12345.org.kith.app , 9Z8Y7X6W5V.org.kith.app-beta",
            ),
            ("KITH_ANDROID_PACKAGE", "org.kith.app"),
            ("KITH_ANDROID_CERT_SHA256", &format!("{FINGERPRINT},{bare}")),
        ])
        .unwrap();
        assert_eq!(
            c.app_links.ios_app_ids,
            ["ABCDE12345.org.kith.app", "9Z8Y7X6W5V.org.kith.app-beta"]
        );
        let android = c.app_links.android.unwrap();
        assert_eq!(android.package, "org.kith.app");
        let upper = FINGERPRINT.to_ascii_uppercase();
        assert_eq!(android.cert_sha256, [upper.clone(), upper]);
    }

    #[test]
    fn debug_output_keeps_secrets_out() {
        let secret = "s3cret-".repeat(8);
        let c = config(&[
            ("KITH_JWT_SECRET", &secret),
            ("DATABASE_URL", "postgres://kith:hunter2@db.internal/kith"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.internal"), "{shown}");
        let smtp = MailTransport::Smtp("smtps://user:pa55word@mail.example".into());
        assert!(!format!("{smtp:?}").contains("pa55word"));
    }

    #[test]
    fn production_with_a_secret_starts() {
        let secret = "x".repeat(40);
        let c = config(&[("KITH_ENV", "production"), ("KITH_JWT_SECRET", &secret)]).unwrap();
        assert!(c.is_production());
        assert_eq!(c.jwt_secret, secret.as_bytes());
    }
}
