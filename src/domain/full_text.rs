//! Full-text search of groups and events: the words of a search text, each matching the
//! start of a word of the name (or title) or description, in any order, accents and case
//! ignored, so `cafe` finds "Repair Cafés" and `walk berl` finds "Berlin Walkers". Best
//! match first: a word in the name weighs more than one in the description.
//!
//! The index is the database's own, kept in step with the rows in their transaction (see
//! migration `m20261130_000021_full_text`): PostgreSQL's `search_vector` (GIN, `unaccent`),
//! SQLite's FTS5 tables (`unicode61 remove_diacritics 2`).

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, Value};
use uuid::Uuid;

use crate::db::sql::Sql;
use crate::error::AppResult;

/// Words of a search text past these are ignored.
pub const MAX_WORDS: usize = 8;

/// The searched kind of row.
#[derive(Clone, Copy, Debug)]
pub enum Searched {
    Groups,
    Events,
}

impl Searched {
    fn table(self) -> &'static str {
        match self {
            Searched::Groups => "groups",
            Searched::Events => "events",
        }
    }

    /// The FTS5 table, and its key table joined to the row's id (SQLite).
    fn fts(self) -> &'static str {
        match self {
            Searched::Groups => {
                "groups_fts JOIN group_search_keys k ON k.key = groups_fts.rowid \
                 WHERE groups_fts MATCH ?"
            }
            Searched::Events => {
                "events_fts JOIN event_search_keys k ON k.key = events_fts.rowid \
                 WHERE events_fts MATCH ?"
            }
        }
    }

    fn fts_id(self) -> &'static str {
        match self {
            Searched::Groups => "k.group_id",
            Searched::Events => "k.event_id",
        }
    }

    fn keys(self) -> &'static str {
        match self {
            Searched::Groups => "group_search_keys",
            Searched::Events => "event_search_keys",
        }
    }

    fn bm25(self) -> &'static str {
        // The name or title weighs ten times the description; bm25 is lower for better.
        match self {
            Searched::Groups => "-bm25(groups_fts, 10.0, 1.0)",
            Searched::Events => "-bm25(events_fts, 10.0, 1.0)",
        }
    }
}

/// The PostgreSQL query of the words (one `?`: the words, space-separated): each, with its
/// accents taken off as the index's were, a prefix (`'cafe':*`), all of them required.
const TSQUERY: &str = "(SELECT to_tsquery('simple', string_agg(quote_literal(w) || ':*', ' & ')) \
     FROM unnest(string_to_array(kith_unaccent(?), ' ')) AS w WHERE w <> '')";

/// A search text's words: runs of letters and digits, lower-cased, at most [`MAX_WORDS`].
#[derive(Clone, Debug, PartialEq)]
pub struct Words(Vec<String>);

impl Words {
    /// None when the text has no letter or digit (it then filters nothing).
    pub fn parse(text: &str) -> Option<Words> {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .take(MAX_WORDS)
            .collect();
        (!words.is_empty()).then_some(Words(words))
    }

    /// The words as the backend's query takes them: space-separated for PostgreSQL (see
    /// [`TSQUERY`]); an FTS5 expression of quoted prefixes (`"cafe"* "repair"*`) for SQLite,
    /// safe since a word holds nothing but letters and digits.
    fn value(&self, backend: DbBackend) -> Value {
        match backend {
            DbBackend::Postgres => self.0.join(" ").into(),
            _ => self
                .0
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" ")
                .into(),
        }
    }
}

/// A condition on the searched table's rows (named by the table, unaliased): they match the
/// words. SQL with one `?`, and its value.
pub fn condition(backend: DbBackend, searched: Searched, words: &Words) -> (String, Value) {
    let table = searched.table();
    let sql = match backend {
        DbBackend::Postgres => format!("{table}.search_vector @@ {TSQUERY}"),
        // The `+` keeps SQLite from driving the search by this list (every match, looked up
        // one by one): the caller's index (cells, start times) drives it, and the list, made
        // once per statement, only checks. Near Berlin at 1,000,000 groups this took the
        // search for "chess" from 211 ms to 53 ms (p50, `benches/full_text.sh`).
        _ => format!(
            "+{table}.id IN (SELECT {} FROM {})",
            searched.fts_id(),
            searched.fts()
        ),
    };
    (sql, words.value(backend))
}

/// [`condition`] as a sea-query expression (whose placeholders PostgreSQL writes `$1`).
pub fn condition_expr(backend: DbBackend, searched: Searched, words: &Words) -> SimpleExpr {
    let (sql, value) = condition(backend, searched, words);
    let sql = match backend {
        DbBackend::Postgres => sql.replace('?', "$1"),
        _ => sql,
    };
    Expr::cust_with_values(sql, [value])
}

/// The most matches a best-match list ranks: a word that begins a word of nearly every row
/// ("and") would otherwise score and sort them all (350 ms on PostgreSQL, 635 ms on SQLite at
/// 1,000,000 groups) for one anonymous request. Past it, the list is the best of the first
/// matches found.
pub const MAX_RANKED: i64 = 2_000;

/// Appends a subquery of at most [`MAX_RANKED`] matching rows with their score, higher for a
/// better match: `(SELECT id, score ...)`. `scope` appends the list's own conditions
/// (` AND ...`, on the searched table aliased `t`), so the cap is spent only on rows the list
/// can show.
pub fn push_ranked(
    sql: &mut Sql,
    backend: DbBackend,
    searched: Searched,
    words: &Words,
    scope: impl FnOnce(&mut Sql),
) {
    let value = words.value(backend);
    let table = searched.table();
    match backend {
        DbBackend::Postgres => sql.push_with(
            &format!(
                "(SELECT t.id, ts_rank(t.search_vector, {TSQUERY})::float8 AS score \
                 FROM {table} t WHERE t.search_vector @@ {TSQUERY}"
            ),
            [value.clone(), value],
        ),
        _ => {
            let fts = format!("{table}_fts");
            sql.push_with(
                &format!(
                    "(SELECT t.id AS id, {} AS score FROM {fts} \
                     JOIN {} k ON k.key = {fts}.rowid JOIN {table} t ON t.id = {} \
                     WHERE {fts} MATCH ?",
                    searched.bm25(),
                    searched.keys(),
                    searched.fts_id(),
                ),
                [value],
            );
        }
    }
    scope(sql);
    sql.push(" LIMIT ");
    sql.bind(MAX_RANKED);
    sql.push(")");
}

/// The keyset of best-match lists: by score, highest first, ties by id.
pub type MatchKey = (f64, Uuid);

/// Appends ` AND (score, id) after the cursor`, for rows of `ranked` aliased `m`.
pub fn push_after(sql: &mut Sql, after: Option<MatchKey>) {
    if let Some((score, id)) = after {
        sql.push(" AND (m.score < ");
        sql.bind(score);
        sql.push(" OR (m.score = ");
        sql.bind(score);
        sql.push(" AND m.id > ");
        sql.bind(id);
        sql.push("))");
    }
}

/// Runs a statement selecting `(id, score)` (see [`push_ranked`]).
pub async fn ranked_ids(db: &impl ConnectionTrait, sql: Sql) -> AppResult<Vec<MatchKey>> {
    let rows = db.query_all_raw(sql.finish()).await?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.try_get_by_index(0)?;
        let score: f64 = row.try_get_by_index(1)?;
        hits.push((score, id));
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_letters_and_digits() {
        assert_eq!(
            Words::parse("  \"; DROP --"),
            Some(Words(vec!["drop".into()]))
        );
        assert_eq!(Words::parse("!!! ..."), None);
        assert_eq!(
            Words::parse("Repair-Café 2000"),
            Some(Words(vec!["repair".into(), "café".into(), "2000".into()]))
        );
        assert_eq!(Words::parse(&"a ".repeat(20)).unwrap().0.len(), MAX_WORDS);
        assert_eq!(
            Words::parse("NOT or").unwrap().value(DbBackend::Sqlite),
            Value::from("\"not\"* \"or\"*")
        );
    }
}
