-- What a team serving the Kith schema with PostGraphile would add to the database: PostGIS
-- and the two functions PostGraphile turns into GraphQL fields. Run by benches/versus_postgraphile.sh after Kith's migrations and seed;
-- every statement may run again (CREATE OR REPLACE, IF [NOT] EXISTS).
--
-- They live in `public`, beside Kith's tables, because PostGraphile 4 only makes a function a
-- computed column of a table (`Group.upcomingEvents`) when both are in the same schema.

CREATE EXTENSION IF NOT EXISTS postgis;

-- A geography index, the first thing one would write, is no help to the home screen: a
-- search by place reads every event within the radius (5,324 within 25 km of Berlin) and sorts
-- them to keep the first 20 (20-30 ms a search). Walking events in start order (idx_events_starts)
-- and keeping those within the radius reads about 350 (3-5 ms), so that is the search below.
-- Earlier versions of this file made these indexes; they would only cost writes.
DROP INDEX IF EXISTS versus_events_venue_geog;
DROP INDEX IF EXISTS versus_groups_geog;
DROP INDEX IF EXISTS versus_events_online_group_starts;

-- Kith's `searchEvents` (src/domain/events.rs, `search`): scheduled events starting now or
-- later whose venue is within `radius_km` of (lat, lng), or, for an online-only event, whose
-- group meets within it (closed groups are never found); soonest first, ties by id.
-- Distances are great-circle on a sphere (use_spheroid = false), as Kith's haversine is.
-- Parameters are written qualified: `groups` has columns named lat and lng too, and in a SQL
-- function a column wins over a parameter of the same name.
-- `page_size` rather than `first`: PostGraphile adds its own `first` argument to the field.
CREATE OR REPLACE FUNCTION search_events_near(
    lat double precision,
    lng double precision,
    radius_km double precision,
    page_size integer
) RETURNS SETOF events
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT e.*
    FROM events e
    LEFT JOIN groups g ON e.venue_lat IS NULL AND g.id = e.group_id
    WHERE e.status = 'SCHEDULED' AND e.starts_at >= now()
      AND CASE WHEN e.venue_lat IS NOT NULL
               THEN ST_DWithin(ST_MakePoint(e.venue_lng, e.venue_lat)::geography,
                               ST_MakePoint(search_events_near.lng, search_events_near.lat)::geography,
                               search_events_near.radius_km * 1000, false)
               ELSE g.closed_at IS NULL
                    AND ST_DWithin(ST_MakePoint(g.lng, g.lat)::geography,
                                   ST_MakePoint(search_events_near.lng, search_events_near.lat)::geography,
                                   search_events_near.radius_km * 1000, false)
          END
    ORDER BY e.starts_at, e.id
    LIMIT search_events_near.page_size
$$;

-- Kith's `Group.upcomingEvents` (`upcoming_in_group`): the group's events that have not ended,
-- cancelled ones included, soonest first, ties by id. A computed column in PostGraphile.
CREATE OR REPLACE FUNCTION groups_upcoming_events(g groups)
RETURNS SETOF events
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT e.* FROM events e
    WHERE e.group_id = g.id AND e.ends_at > now()
    ORDER BY e.starts_at, e.id
$$;
