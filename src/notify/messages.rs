//! What Kith tells members, in their language: each [`Message`] is written from the
//! Fluent files in `notify/locales` (English, German, Spanish; any other language falls
//! back to English) into a title and a sentence, for the stored notification, its push and
//! its mail alike.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use entity::event;
use entity::notification::NotificationKind;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use crate::notify::Mail;

/// The languages Kith writes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    De,
    Es,
}

impl Lang {
    /// The language of a member's locale (a canonical BCP 47 tag); English for none and
    /// for languages Kith does not write.
    pub fn of(locale: Option<&str>) -> Lang {
        let language = locale
            .and_then(|tag| tag.parse::<LanguageIdentifier>().ok())
            .map(|id| id.language.as_str().to_owned());
        match language.as_deref() {
            Some("de") => Lang::De,
            Some("es") => Lang::Es,
            _ => Lang::En,
        }
    }

    fn chrono_locale(self) -> chrono::Locale {
        match self {
            Lang::En => chrono::Locale::en_US,
            Lang::De => chrono::Locale::de_DE,
            Lang::Es => chrono::Locale::es_ES,
        }
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        &BUNDLES[self as usize]
    }
}

/// The longest locale tag accepted (RFC 5646 recommends supporting at least 35 characters).
const MAX_TAG_CHARS: usize = 35;

/// A BCP 47 language tag in its canonical form (`de-at` → `de-AT`), or why it is not one.
pub fn canonical_tag(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_TAG_CHARS {
        return Err(format!(
            "a BCP 47 language tag of 1 to {MAX_TAG_CHARS} characters, such as en, de-AT or es-419"
        ));
    }
    let id: LanguageIdentifier = text.parse().map_err(|_| {
        format!("“{text}” is not a BCP 47 language tag (such as en, de-AT or es-419)")
    })?;
    if id.language.is_empty() {
        return Err("the tag must name a language".into());
    }
    Ok(id.to_string())
}

static BUNDLES: LazyLock<[FluentBundle<FluentResource>; 3]> = LazyLock::new(|| {
    [
        bundle("en", include_str!("locales/en.ftl")),
        bundle("de", include_str!("locales/de.ftl")),
        bundle("es", include_str!("locales/es.ftl")),
    ]
});

fn bundle(tag: &str, source: &str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("locales/{tag}.ftl does not parse: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![tag.parse().expect("a language tag")]);
    // Plain text for mail and push: no Unicode isolation marks around arguments.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("locales/{tag}.ftl: {errors:?}"));
    bundle
}

/// One message of `lang`'s file, English when that file lacks it.
fn text(lang: Lang, id: &str, args: &FluentArgs) -> String {
    for lang in [lang, Lang::En] {
        let bundle = lang.bundle();
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(args), &mut errors);
            if !errors.is_empty() {
                tracing::error!(?errors, id, ?lang, "a message did not format");
            }
            return text.into_owned();
        }
    }
    tracing::error!(id, "no such message");
    id.to_owned()
}

/// What one notification says.
#[derive(Debug, Clone)]
pub enum Message {
    WaitlistPromoted {
        event: String,
    },
    EventChanged {
        event: event::Model,
    },
    EventCancelled {
        event: String,
        reason: Option<String>,
    },
    MeetingRequested {
        name: String,
        event: String,
    },
    GroupHandedOver {
        group: String,
    },
    /// `hours` before the start: 24 or 2.
    EventReminder {
        event: event::Model,
        hours: i64,
    },
    /// `name` replied to the member's comment under `event`.
    CommentReply {
        name: String,
        event: String,
    },
    /// `name` commented on `event`, which the member hosts.
    EventComment {
        name: String,
        event: String,
    },
    /// `name` announced `message` to the members of `group`.
    Announcement {
        name: String,
        group: String,
        message: String,
    },
    /// `name` sent the member a private message (its text stays out of the notification:
    /// a push shows on a locked screen).
    PrivateMessage {
        name: String,
    },
}

/// A message written in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// A few words: the push's title.
    pub title: String,
    /// A sentence: the notification's message and the push's body.
    pub body: String,
}

impl Message {
    pub fn kind(&self) -> NotificationKind {
        match self {
            Message::WaitlistPromoted { .. } => NotificationKind::WaitlistPromoted,
            Message::EventChanged { .. } => NotificationKind::EventChanged,
            Message::EventCancelled { .. } => NotificationKind::EventCancelled,
            Message::MeetingRequested { .. } => NotificationKind::MeetingRequested,
            Message::GroupHandedOver { .. } => NotificationKind::GroupHandedOver,
            Message::EventReminder { .. } => NotificationKind::EventReminder,
            Message::CommentReply { .. } => NotificationKind::CommentReply,
            Message::EventComment { .. } => NotificationKind::EventComment,
            Message::Announcement { .. } => NotificationKind::Announcement,
            Message::PrivateMessage { .. } => NotificationKind::Message,
        }
    }

    /// Past this a push of it is not worth delivering: the start of the event it reminds
    /// of, a day for everything else.
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Message::EventReminder { event, .. } => event.starts_at,
            _ => now + chrono::Duration::days(1),
        }
    }

    /// The message in `lang`.
    pub fn render(&self, lang: Lang) -> Text {
        let mut args = FluentArgs::new();
        let id = match self {
            Message::WaitlistPromoted { event } => {
                args.set("event", event.as_str());
                "waitlist-promoted"
            }
            Message::EventChanged { event } => {
                args.set("event", event.title.as_str());
                args.set("when", when_and_where(event, lang));
                "event-changed"
            }
            Message::EventCancelled { event, reason } => {
                args.set("event", event.as_str());
                match reason {
                    Some(reason) => {
                        args.set("reason", reason.as_str());
                        "event-cancelled-because"
                    }
                    None => "event-cancelled",
                }
            }
            Message::MeetingRequested { name, event } => {
                args.set("name", name.as_str());
                args.set("event", event.as_str());
                "meeting-requested"
            }
            Message::GroupHandedOver { group } => {
                args.set("group", group.as_str());
                "group-handed-over"
            }
            Message::EventReminder { event, hours } => {
                args.set("event", event.title.as_str());
                args.set("hours", FluentValue::from(*hours));
                args.set("when", when_and_where(event, lang));
                "event-reminder"
            }
            Message::CommentReply { name, event } => {
                args.set("name", name.as_str());
                args.set("event", event.as_str());
                "comment-reply"
            }
            Message::EventComment { name, event } => {
                args.set("name", name.as_str());
                args.set("event", event.as_str());
                "event-comment"
            }
            Message::Announcement {
                name,
                group,
                message,
            } => {
                args.set("name", name.as_str());
                args.set("group", group.as_str());
                args.set("message", message.as_str());
                "announcement"
            }
            Message::PrivateMessage { name } => {
                args.set("name", name.as_str());
                "private-message"
            }
        };
        let title_id = match id {
            "event-cancelled-because" => "event-cancelled-title".to_owned(),
            id => format!("{id}-title"),
        };
        Text {
            title: text(lang, &title_id, &args),
            body: text(lang, id, &args),
        }
    }
}

/// "Thu 3 Dec 2026, 19:00 CET at c-base": the start in the event's own zone, and the place,
/// in `lang`.
pub fn when_and_where(event: &event::Model, lang: Lang) -> String {
    let mut args = FluentArgs::new();
    let pattern = text(lang, "date-format", &args);
    let start = match event.time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => event
            .starts_at
            .with_timezone(&tz)
            .format_localized(&pattern, lang.chrono_locale())
            .to_string(),
        Err(_) => event
            .starts_at
            .format_localized(&pattern, lang.chrono_locale())
            .to_string(),
    };
    args.set("start", start.clone());
    match (&event.venue_name, &event.online_url) {
        (Some(venue), _) => {
            args.set("venue", venue.as_str());
            text(lang, "at-venue", &args)
        }
        (None, Some(url)) => {
            args.set("url", url.as_str());
            text(lang, "online", &args)
        }
        (None, None) => start,
    }
}

/// The mail that carries a notification to a member, in their language.
pub fn mail(lang: Lang, to: &str, name: &str, text_of: &Text) -> Mail {
    let mut args = FluentArgs::new();
    args.set("message", text_of.body.as_str());
    args.set("name", name);
    Mail {
        to: to.to_owned(),
        subject: text(lang, "mail-subject", &args),
        body: format!(
            "{}\n\n{}\n",
            text(lang, "mail-greeting", &args),
            text_of.body
        ),
    }
}

/// A mail about the account itself, in the member's language.
#[derive(Debug, Clone, Copy)]
pub enum AccountMail<'a> {
    /// The code that verifies an address.
    VerificationCode { code: &'a str },
    /// The code that chooses a new password.
    ResetCode { code: &'a str },
    /// The word to the old address that the account moved to `new`.
    EmailChanged { new: &'a str },
}

impl AccountMail<'_> {
    /// The mail to `to`, greeting `name`, in `lang`.
    pub fn to(self, lang: Lang, to: &str, name: &str) -> Mail {
        let mut args = FluentArgs::new();
        args.set("name", name);
        let (id, shown) = match self {
            AccountMail::VerificationCode { code } => {
                args.set("code", code);
                ("verification-code", Some(code))
            }
            AccountMail::ResetCode { code } => {
                args.set("code", code);
                ("reset-code", Some(code))
            }
            AccountMail::EmailChanged { new } => {
                args.set("new", new);
                ("email-changed", None)
            }
        };
        let mut body = format!(
            "{}\n\n{}\n\n",
            text(lang, "mail-greeting", &args),
            text(lang, &format!("{id}-intro"), &args)
        );
        if let Some(code) = shown {
            body.push_str(&format!("    {code}\n\n"));
        }
        body.push_str(&text(lang, &format!("{id}-end"), &args));
        body.push('\n');
        Mail {
            to: to.to_owned(),
            subject: text(lang, &format!("{id}-subject"), &args),
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> event::Model {
        let at = DateTime::parse_from_rfc3339("2026-12-03T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        event::Model {
            venue_name: Some("c-base".into()),
            ..crate::domain::events::example("Repair Café", at, at)
        }
    }

    #[test]
    fn every_language_writes_every_message() {
        let messages = [
            Message::WaitlistPromoted { event: "E".into() },
            Message::EventChanged { event: event() },
            Message::EventCancelled {
                event: "E".into(),
                reason: Some("rain".into()),
            },
            Message::EventCancelled {
                event: "E".into(),
                reason: None,
            },
            Message::MeetingRequested {
                name: "Ada".into(),
                event: "E".into(),
            },
            Message::GroupHandedOver { group: "G".into() },
            Message::EventReminder {
                event: event(),
                hours: 24,
            },
            Message::CommentReply {
                name: "Ada".into(),
                event: "E".into(),
            },
            Message::EventComment {
                name: "Ada".into(),
                event: "E".into(),
            },
            Message::Announcement {
                name: "Ada".into(),
                group: "G".into(),
                message: "Bring snacks".into(),
            },
            Message::PrivateMessage { name: "Ada".into() },
        ];
        for lang in [Lang::En, Lang::De, Lang::Es] {
            for message in &messages {
                let text = message.render(lang);
                assert!(!text.title.is_empty() && !text.body.is_empty());
                assert!(!text.body.contains('{'), "{lang:?}: {}", text.body);
                assert!(!text.body.contains('\u{2068}'), "no isolation marks");
            }
        }
    }

    #[test]
    fn english_german_and_spanish_differ() {
        let changed = Message::EventChanged { event: event() };
        assert_eq!(
            changed.render(Lang::En).body,
            "“Repair Café” has changed: Thu 3 Dec 2026, 19:00 CET at c-base."
        );
        assert_eq!(
            changed.render(Lang::De).body,
            "„Repair Café“ wurde geändert: Do, 3. Dez 2026, 19:00 CET, c-base."
        );
        assert!(
            changed
                .render(Lang::Es)
                .body
                .starts_with("«Repair Café» ha cambiado: jue")
        );
        let reminder = Message::EventReminder {
            event: event(),
            hours: 2,
        };
        assert_eq!(reminder.render(Lang::En).title, "Soon: Repair Café");
    }

    #[test]
    fn account_mail_is_written_in_each_language() {
        let code = AccountMail::VerificationCode { code: "123456" };
        let en = code.to(Lang::En, "a@example.com", "Ada");
        assert_eq!(en.subject, "Your Kith code: 123456");
        assert_eq!(
            en.body,
            "Hello Ada,\n\nyour code to verify this address on Kith is:\n\n    123456\n\n\
             It is valid for 15 minutes. If you did not ask for it, ignore this mail.\n"
        );
        let de = AccountMail::ResetCode { code: "654321" }.to(Lang::De, "a@example.com", "Ada");
        assert!(de.subject.ends_with("654321") && de.body.starts_with("Hallo Ada,"));
        let es = AccountMail::EmailChanged {
            new: "b@example.com",
        }
        .to(Lang::Es, "a@x", "Ada");
        assert!(es.body.contains("b@example.com") && es.subject.starts_with("Tu dirección"));
    }

    #[test]
    fn locales_resolve_to_a_language() {
        assert_eq!(Lang::of(Some("de-AT")), Lang::De);
        assert_eq!(Lang::of(Some("es-419")), Lang::Es);
        assert_eq!(Lang::of(Some("fr")), Lang::En);
        assert_eq!(Lang::of(None), Lang::En);
        assert_eq!(canonical_tag("de-at").unwrap(), "de-AT");
        assert_eq!(canonical_tag(" es-419 ").unwrap(), "es-419");
        assert!(canonical_tag("not a tag").is_err());
        assert!(canonical_tag("").is_err());
    }
}
