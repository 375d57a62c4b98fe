//! Pages of groups' upcoming events (with their hosts) kept in this process, so the group
//! page, the most read list after the home screen, costs one statement (the group with its
//! version) instead of two.
//!
//! A kept page is given out only while it is still the answer:
//! - **its group's version is the one read with it.** The database adds one to the version
//!   whenever a row the page shows changes (an event of the group, its hosts, a host's row:
//!   triggers of migration `m20261130_000024_group_versions`), in any process, by any write
//!   path. The version is read before the page, so a page is never kept under a version newer
//!   than what it shows.
//! - **none of its events has ended.** Time alone changes "upcoming": while every event on the
//!   page is still running or to come, no event can have left the list and none can have
//!   entered it (entering takes a write), so the page stands.
//!
//! Bounded by count (`ENTRIES`) and by an estimate of the memory the rows hold (`BYTES`).

use std::mem::size_of;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use entity::{event, user};
use lru::LruCache;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::events::{self, StartKey, WithHosts};
use crate::error::AppResult;

/// At most this many pages are kept.
pub const ENTRIES: usize = 4096;
/// And at most about this many bytes of rows (an event's description may be 80 KB).
pub const BYTES: usize = 32 * 1024 * 1024;

/// Which page: the group, where it starts, how many rows it reads.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Page {
    group: Uuid,
    after: Option<StartKey>,
    limit: u64,
}

struct Kept {
    version: i64,
    /// When the first of its events ends; None for an empty page.
    until: Option<DateTime<Utc>>,
    rows: Arc<Vec<WithHosts>>,
    bytes: usize,
}

struct Pages {
    pages: LruCache<Page, Kept>,
    bytes: usize,
}

/// The per-process store of pages of upcoming events.
pub struct KeptPages {
    inner: Mutex<Pages>,
}

impl Default for KeptPages {
    fn default() -> Self {
        KeptPages {
            inner: Mutex::new(Pages {
                pages: LruCache::new(NonZeroUsize::new(ENTRIES).expect("not zero")),
                bytes: 0,
            }),
        }
    }
}

impl KeptPages {
    /// A group's events that have not ended, soonest first, with their hosts, as
    /// `events::upcoming_in_group` reads them; from this process's store when the page kept
    /// there still holds at `version` (read with the group, before this call) and `now`.
    pub async fn upcoming_in_group(
        &self,
        db: &impl ConnectionTrait,
        (group, version): (Uuid, i64),
        after: Option<StartKey>,
        limit: u64,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<WithHosts>> {
        let page = Page {
            group,
            after,
            limit,
        };
        if let Some(rows) = self.get(&page, version, now) {
            return Ok(rows);
        }
        let rows = events::upcoming_in_group(db, group, after, limit, now).await?;
        self.keep(page, version, &rows);
        Ok(rows)
    }

    fn get(&self, page: &Page, version: i64, now: DateTime<Utc>) -> Option<Vec<WithHosts>> {
        let rows = {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            let kept = inner.pages.peek(page)?;
            if kept.version > version {
                // This request read the group before a change another one has seen.
                return None;
            }
            if kept.version < version || kept.until.is_some_and(|until| until <= now) {
                // It will not hold again: gone, rather than kept as recently used.
                inner.forget(page);
                return None;
            }
            let rows = kept.rows.clone();
            inner.pages.promote(page);
            rows
        };
        // Copied outside the lock.
        Some(Vec::clone(&rows))
    }

    fn keep(&self, page: Page, version: i64, rows: &[WithHosts]) {
        let bytes = rows.iter().map(bytes_of).sum::<usize>();
        if bytes > BYTES / 64 {
            // Too large to keep; an older page of the same place is of no use either.
            self.inner
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .forget(&page);
            return;
        }
        let kept = Kept {
            version,
            until: rows.iter().map(|(event, _)| event.ends_at).min(),
            rows: Arc::new(rows.to_vec()),
            bytes,
        };
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.pages.peek(&page).is_some_and(|k| k.version > version) {
            // Another request kept a newer page meanwhile.
            return;
        }
        inner.bytes += bytes;
        if let Some((_, evicted)) = inner.pages.push(page, kept) {
            inner.bytes -= evicted.bytes;
        }
        while inner.bytes > BYTES {
            match inner.pages.pop_lru() {
                Some((_, evicted)) => inner.bytes -= evicted.bytes,
                None => break,
            }
        }
    }

    /// How many pages are kept, and about how many bytes they hold.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (inner.pages.len(), inner.bytes)
    }
}

impl Pages {
    fn forget(&mut self, page: &Page) {
        if let Some(gone) = self.pages.pop(page) {
            self.bytes -= gone.bytes;
        }
    }
}

/// About what an event and its hosts hold in memory.
fn bytes_of((event, hosts): &WithHosts) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let event_bytes = size_of::<event::Model>()
        + event.title.len()
        + event.description.len()
        + event.time_zone.len()
        + text(&event.venue_name)
        + text(&event.venue_address)
        + text(&event.online_url)
        + text(&event.cancel_reason);
    let host_bytes = hosts
        .iter()
        .map(|h| {
            size_of::<user::Model>()
                + h.email.len()
                + h.password_hash.len()
                + h.display_name.len()
                + text(&h.bio)
                + text(&h.time_zone)
                + text(&h.calendar_token)
                + text(&h.locale)
        })
        .sum::<usize>();
    event_bytes + host_bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn event(ends_at: DateTime<Utc>, description: usize) -> WithHosts {
        (
            event::Model {
                id: Uuid::new_v4(),
                description: "x".repeat(description),
                ..events::example("Walk", ends_at - Duration::hours(2), ends_at)
            },
            Vec::new(),
        )
    }

    fn page(limit: u64) -> Page {
        Page {
            group: Uuid::nil(),
            after: None,
            limit,
        }
    }

    #[test]
    fn a_page_holds_at_its_version_until_its_first_event_ends() {
        let store = KeptPages::default();
        let now = Utc::now();
        let first_end = now + Duration::hours(1);
        let rows = vec![event(first_end, 0), event(now + Duration::hours(3), 0)];
        store.keep(page(21), 4, &rows);

        let got = store.get(&page(21), 4, now).expect("kept");
        assert_eq!(
            got.iter().map(|(e, _)| e.id).collect::<Vec<_>>(),
            rows.iter().map(|(e, _)| e.id).collect::<Vec<_>>()
        );
        assert!(store.get(&page(11), 4, now).is_none(), "another page");
        assert!(
            store
                .get(&page(21), 4, first_end - Duration::seconds(1))
                .is_some()
        );
        assert!(
            store.get(&page(21), 4, first_end).is_none(),
            "its first event has ended"
        );
        store.keep(page(21), 4, &rows);
        assert!(store.get(&page(21), 5, now).is_none(), "a newer version");
    }

    #[test]
    fn a_page_that_no_longer_holds_is_forgotten() {
        let store = KeptPages::default();
        let now = Utc::now();
        store.keep(page(21), 3, &[event(now + Duration::hours(1), 10)]);
        assert!(store.get(&page(21), 2, now).is_none(), "an older reader");
        assert_eq!(store.size().0, 1, "kept for readers at its version");
        assert!(store.get(&page(21), 4, now).is_none());
        assert_eq!(store.size(), (0, 0), "a newer version forgets it");
        store.keep(page(21), 4, &[event(now + Duration::hours(1), 10)]);
        assert!(store.get(&page(21), 4, now + Duration::hours(2)).is_none());
        assert_eq!(store.size(), (0, 0), "an ended event forgets it");
    }

    #[test]
    fn an_empty_page_holds_until_the_version_changes() {
        let store = KeptPages::default();
        store.keep(page(21), 0, &[]);
        let later = Utc::now() + Duration::days(365);
        assert_eq!(store.get(&page(21), 0, later).map(|r| r.len()), Some(0));
        assert!(store.get(&page(21), 1, later).is_none());
    }

    #[test]
    fn an_older_page_does_not_replace_a_newer_one() {
        let store = KeptPages::default();
        let now = Utc::now();
        let newer = vec![event(now + Duration::hours(1), 0)];
        store.keep(page(21), 7, &newer);
        store.keep(page(21), 6, &[event(now + Duration::hours(1), 0)]);
        assert_eq!(store.get(&page(21), 7, now).unwrap()[0].0.id, newer[0].0.id);
    }

    #[test]
    fn the_store_is_bounded_by_bytes() {
        let store = KeptPages::default();
        let end = Utc::now() + Duration::hours(1);
        // 21 events of 20 KB each: about 420 KB a page, so some 80 pages fill 32 MiB.
        let rows: Vec<WithHosts> = (0..21).map(|_| event(end, 20_000)).collect();
        for limit in 0..200 {
            store.keep(page(limit), 0, &rows);
        }
        let (pages, bytes) = store.size();
        assert!(bytes <= BYTES, "{bytes} bytes kept");
        assert!(pages < 200 && pages > 50, "{pages} pages kept");
        assert!(
            store.get(&page(199), 0, Utc::now()).is_some(),
            "the newest kept"
        );
        assert!(
            store.get(&page(0), 0, Utc::now()).is_none(),
            "the oldest evicted"
        );
        // A page larger than a 64th of the store is not kept at all.
        let huge: Vec<WithHosts> = (0..30).map(|_| event(end, 80_000)).collect();
        store.keep(page(1000), 0, &huge);
        assert!(store.get(&page(1000), 0, Utc::now()).is_none());
    }
}
