//! SQL text with its values, for the few statements written by hand (the event search, the
//! full-text ranking): placeholders numbered as the backend numbers them. And [`Shape`]: the
//! text of a hot statement built by sea-query once per process.

use std::sync::OnceLock;

use sea_orm::{DbBackend, Statement, Value};

pub struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DbBackend) -> Self {
        Sql {
            backend,
            text: String::with_capacity(1024),
            values: Vec::with_capacity(48),
        }
    }

    pub fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.values.len().to_string());
            }
            _ => self.text.push('?'),
        }
    }

    /// Appends `text` with each `?` in it replaced by a placeholder for the next of `values`.
    pub fn push_with(&mut self, text: &str, values: impl IntoIterator<Item = Value>) {
        let mut values = values.into_iter();
        let mut parts = text.split('?');
        if let Some(first) = parts.next() {
            self.push(first);
        }
        for part in parts {
            let value = values.next().expect("a value for every placeholder");
            self.bind(value);
            self.push(part);
        }
    }

    pub fn finish(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// A statement whose SQL text depends only on the database, built once per process and then
/// run with new values: sea-query's building of a select with joined, aliased columns (every
/// column named and prefixed, every name quoted) cost a tenth of the server's CPU for
/// `event(id:)`, as much as decoding its rows.
pub struct Shape {
    build: fn(DbBackend) -> Statement,
    postgres: OnceLock<(String, usize)>,
    sqlite: OnceLock<(String, usize)>,
}

impl Shape {
    /// `build` makes the statement with placeholder values, as many as each run binds.
    pub const fn new(build: fn(DbBackend) -> Statement) -> Self {
        Shape {
            build,
            postgres: OnceLock::new(),
            sqlite: OnceLock::new(),
        }
    }

    /// The statement with `values` in place of the placeholder values, in their order.
    pub fn with<const N: usize>(&self, backend: DbBackend, values: [Value; N]) -> Statement {
        let kept = match backend {
            DbBackend::Postgres => &self.postgres,
            _ => &self.sqlite,
        };
        let (text, count) = kept.get_or_init(|| {
            let built = (self.build)(backend);
            let count = built.values.map_or(0, |v| v.0.len());
            (built.sql, count)
        });
        assert_eq!(
            *count, N,
            "a shape is run with as many values as it was built with"
        );
        Statement::from_sql_and_values(backend, text.clone(), values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::{event, group, user};
    use sea_orm::{EntityTrait, QueryOrder, QueryTrait};
    use uuid::Uuid;

    fn event_with_group_and_hosts(id: Uuid, backend: DbBackend) -> Statement {
        event::Entity::find_by_id(id)
            .find_also_related(group::Entity)
            .find_also_related(user::Entity)
            .order_by_asc(user::Column::Id)
            .build(backend)
    }

    static SHAPE: Shape = Shape::new(|backend| event_with_group_and_hosts(Uuid::nil(), backend));

    #[test]
    fn a_shape_runs_as_the_statement_built_afresh_would() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for _ in 0..2 {
                let id = Uuid::new_v4();
                assert_eq!(
                    SHAPE.with(backend, [id.into()]),
                    event_with_group_and_hosts(id, backend)
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "as many values")]
    fn a_shape_refuses_a_wrong_count_of_values() {
        SHAPE.with::<0>(DbBackend::Sqlite, []);
    }
}
