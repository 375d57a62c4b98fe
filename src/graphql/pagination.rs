//! The one pagination helper: Relay connections over keyset cursors.
//!
//! A cursor is the sort key of the last row seen (for example `(distance, id)`), serialised
//! and base64-encoded. The next page is the rows strictly after it in the same order, so a
//! page never skips or repeats rows when others are inserted, however deep the client goes,
//! and the database reads from an index instead of counting past an offset.

use async_graphql::connection::{Connection, CursorType, Edge, EdgeNameType};
use async_graphql::{ObjectType, OutputType, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE_SIZE: i32 = 20;
pub const MAX_PAGE_SIZE: i32 = 100;

/// A validated `first` and decoded `after`.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub first: u64,
    pub after: Option<K>,
}

impl<K: DeserializeOwned> PageRequest<K> {
    /// `first` is 1–100 (20 when absent); `after` must be a cursor this server gave out.
    pub fn parse(first: Option<i32>, after: Option<String>) -> AppResult<Self> {
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&first) {
            return Err(AppError::bad_input(
                "first",
                format!("first must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        let after = after.map(|cursor| decode_cursor(&cursor)).transpose()?;
        Ok(PageRequest {
            first: first as u64,
            after,
        })
    }

    /// How many rows to fetch: one more than asked, to learn whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.first + 1
    }
}

/// An opaque cursor for a sort key.
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("sort keys serialise"))
}

pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> AppResult<K> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        // A key with a NUL could never have come from this server (nor be stored).
        .filter(|bytes| !bytes.windows(6).any(|w| w == b"\\u0000"))
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input("after", "not a cursor from this list"))
}

/// A cursor as async-graphql carries it: already encoded.
#[derive(Debug, Clone)]
pub struct Cursor(pub String);

impl CursorType for Cursor {
    type Error = std::convert::Infallible;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        Ok(Cursor(s.to_owned()))
    }

    fn encode_cursor(&self) -> String {
        self.0.clone()
    }
}

/// Names a connection type and its edge type (`GroupSearchConnection`, `GroupSearchEdge`).
#[macro_export]
macro_rules! connection_name {
    ($name:ident, $connection:literal, $edge:literal) => {
        pub struct $name;
        impl async_graphql::connection::ConnectionNameType for $name {
            fn type_name<T: async_graphql::OutputType>() -> String {
                $connection.into()
            }
        }
        impl async_graphql::connection::EdgeNameType for $name {
            fn type_name<T: async_graphql::OutputType>() -> String {
                $edge.into()
            }
        }
    };
}

/// A Relay connection of this API: keyset cursors, named by `Name`.
pub type Conn<
    N,
    Name,
    C = async_graphql::connection::EmptyFields,
    E = async_graphql::connection::EmptyFields,
> = Connection<Cursor, N, C, E, Name, Name>;

/// `totalCount`, for lists where counting is cheap.
#[derive(SimpleObject)]
pub struct TotalCount {
    /// How many items the whole list holds, across all pages.
    pub total_count: u64,
}

/// Builds a connection from rows fetched with `fetch_limit()` in keyset order.
/// `key` gives each row's sort key; `edge` shapes the row and any per-edge fields.
pub fn connection<R, K, N, E, C, Name>(
    request: &PageRequest<K>,
    mut rows: Vec<R>,
    key: impl Fn(&R) -> K,
    mut edge: impl FnMut(R) -> (N, E),
    extra: C,
) -> Conn<N, Name, C, E>
where
    K: Serialize,
    N: OutputType,
    E: ObjectType,
    C: ObjectType,
    Name: async_graphql::connection::ConnectionNameType + EdgeNameType,
{
    let has_next = rows.len() as u64 > request.first;
    rows.truncate(request.first as usize);
    let mut connection =
        Connection::with_additional_fields(request.after.is_some(), has_next, extra);
    connection.edges.extend(rows.into_iter().map(|row| {
        let cursor = Cursor(encode_cursor(&key(&row)));
        let (node, fields) = edge(row);
        Edge::with_additional_fields(cursor, node, fields)
    }));
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_bounded() {
        for bad in [0, -1, 101] {
            let err = PageRequest::<i64>::parse(Some(bad), None).unwrap_err();
            assert!(matches!(err, AppError::BadInput { field, .. } if field == "first"));
        }
        assert_eq!(PageRequest::<i64>::parse(None, None).unwrap().first, 20);
        assert_eq!(
            PageRequest::<i64>::parse(Some(100), None)
                .unwrap()
                .fetch_limit(),
            101
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let key = (12.5_f64, "0193".to_owned());
        let cursor = encode_cursor(&key);
        let page = PageRequest::<(f64, String)>::parse(Some(5), Some(cursor)).unwrap();
        assert_eq!(page.after, Some(key));
        let err = PageRequest::<(f64, String)>::parse(None, Some("bogus".into())).unwrap_err();
        assert!(matches!(err, AppError::BadInput { field, .. } if field == "after"));
    }
}
