-- What a team serving the Kith schema with PostGraphile would add to the database: PostGIS,
-- a geography index for "events near a place", and the two functions PostGraphile turns into
-- GraphQL fields. Run by benches/versus_postgraphile.sh after Kith's migrations and seed;
-- every statement may run again (CREATE OR REPLACE, IF NOT EXISTS).
--
-- They live in `public`, beside Kith's tables, because PostGraphile 4 only makes a function a
-- computed column of a table (`Group.upcomingEvents`) when both are in the same schema.

CREATE EXTENSION IF NOT EXISTS postgis;

-- Where an in-person event takes place, as a point on the sphere. Indexed by the same
-- expression the search uses, or the planner cannot use the index.
CREATE INDEX IF NOT EXISTS versus_events_venue_geog
    ON events USING gist ((ST_MakePoint(venue_lng, venue_lat)::geography))
    WHERE venue_lat IS NOT NULL AND status = 'SCHEDULED';

-- Where a group meets: an online-only event is near when its group is.
CREATE INDEX IF NOT EXISTS versus_groups_geog
    ON groups USING gist ((ST_MakePoint(lng, lat)::geography))
    WHERE closed_at IS NULL;

-- Online-only events of a group, by start (the scan from a nearby group to its next events).
CREATE INDEX IF NOT EXISTS versus_events_online_group_starts
    ON events (group_id, starts_at, id)
    WHERE venue_lat IS NULL AND status = 'SCHEDULED';

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
    SELECT found.* FROM (
        SELECT e.*
        FROM events e
        WHERE e.venue_lat IS NOT NULL AND e.status = 'SCHEDULED' AND e.starts_at >= now()
          AND ST_DWithin(ST_MakePoint(e.venue_lng, e.venue_lat)::geography,
                         ST_MakePoint(search_events_near.lng, search_events_near.lat)::geography,
                         search_events_near.radius_km * 1000, false)
        UNION ALL
        SELECT e.*
        FROM groups g
        JOIN events e ON e.group_id = g.id
        WHERE g.closed_at IS NULL
          AND ST_DWithin(ST_MakePoint(g.lng, g.lat)::geography,
                         ST_MakePoint(search_events_near.lng, search_events_near.lat)::geography,
                         search_events_near.radius_km * 1000, false)
          AND e.venue_lat IS NULL AND e.status = 'SCHEDULED' AND e.starts_at >= now()
    ) AS found
    ORDER BY found.starts_at, found.id
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
