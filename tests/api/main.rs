//! Integration tests: the real app over HTTP on a random port, each test on its own
//! database (SQLite in a temporary folder, or a fresh PostgreSQL database when
//! `TEST_DATABASE_URL` is set).

mod accounts;
mod apps;
mod attacks;
mod background;
mod blocks;
mod comments;
mod complete;
mod contract;
mod deletion;
mod discovery;
mod durability;
mod email_verification;
mod events;
mod full_text;
mod fuzz;
mod groups;
mod guests;
mod hardening;
mod helpers;
mod http;
mod interests;
mod kept_pages;
mod life;
mod live;
mod meetings;
mod messages;
mod pages;
mod photos;
mod process;
mod push;
mod push_providers;
mod push_web;
mod recovery;
mod schema;
mod search;
mod sessions;
mod statements;
mod tokens;
mod trust;
