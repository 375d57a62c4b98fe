//! Versioned migrations. They run at start-up (`kith serve`) and with `kith migrate`,
//! on SQLite and PostgreSQL alike: only portable column types and plain indexes.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_accounts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261126_000001_accounts::Migration)]
    }
}
