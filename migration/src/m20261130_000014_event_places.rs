//! Where each event is for search: its venue, or for an online-only event the place its
//! group meets. One cell per event lets a search read, from one covering index in start
//! order, only the events near the place asked about (before, online-only events needed a
//! second look through their groups).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    PlaceCell,
    PlaceLat,
    PlaceLng,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            big_integer_null(Events::PlaceCell),
            double_null(Events::PlaceLat),
            double_null(Events::PlaceLng),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Events::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE events SET place_cell = venue_cell, place_lat = venue_lat, place_lng = venue_lng \
             WHERE venue_cell IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE events SET \
               place_cell = (SELECT g.cell FROM groups g WHERE g.id = events.group_id), \
               place_lat = (SELECT g.lat FROM groups g WHERE g.id = events.group_id), \
               place_lng = (SELECT g.lng FROM groups g WHERE g.id = events.group_id) \
             WHERE venue_cell IS NULL",
        )
        .await?;
        // Scheduled events in start order, with what a search filters on: read without
        // touching the table (an index-only scan) until the page is found.
        db.execute_unprepared(
            "CREATE INDEX idx_events_search ON events \
             (starts_at, id, place_cell, place_lat, place_lng) WHERE status = 'SCHEDULED'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_events_search")
            .await?;
        for column in [Events::PlaceLng, Events::PlaceLat, Events::PlaceCell] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Events::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
