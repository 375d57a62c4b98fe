//! SQL text with its values, for the few statements written by hand (the event search, the
//! full-text ranking): placeholders numbered as the backend numbers them.

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
