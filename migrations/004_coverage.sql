-- Coverage (issue 5): per-grid caches of what the coverage report would otherwise have to
-- join a million households and links for — households and linked households per grid and
-- household unit, households per linking member and grid, and the links longer than the
-- policy's distance. They are refreshed by refresh_grid_stats (the one function every trigger
-- and bulk loader already calls for the grids an edit touched), in the same transaction as
-- the edit, so a report never reads a stale cache. Households without a grid, and members
-- whose home has no grid, are not cached: the report reads them live.
--
-- NOTE for later migrations: refresh_grid_stats is now a wrapper. Redefine
-- refresh_grid_stats_tiles to change the grid_stats part; replacing refresh_grid_stats itself
-- must keep its call of refresh_coverage.

-- Households of a grid, per household unit (a grid reaching into a neighbour holds some of
-- the neighbour's households): how many, their residents, how many have a linked member.
CREATE TABLE coverage_grid_units (
    grid_id    bigint NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    unit_code  text NOT NULL,
    households integer NOT NULL,
    residents  integer NOT NULL,
    linked     integer NOT NULL,
    PRIMARY KEY (grid_id, unit_code)
);
CREATE INDEX coverage_grid_units_unit_idx ON coverage_grid_units (unit_code);

-- Linked households per (grid of the household, member), and how many of those links are
-- longer than the policy allows. home_grid_id is the grid of the member's home when the row
-- was written: when that grid is refreshed these rows are refreshed too (the member may have
-- moved). long_links is 0 when the home has no grid (those links are measured live).
CREATE TABLE coverage_grid_members (
    grid_id      bigint NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    member_id    bigint NOT NULL,
    home_grid_id bigint,
    households   integer NOT NULL,
    long_links   integer NOT NULL,
    PRIMARY KEY (grid_id, member_id)
);
CREATE INDEX coverage_grid_members_member_idx ON coverage_grid_members (member_id);
CREATE INDEX coverage_grid_members_home_idx ON coverage_grid_members (home_grid_id);

-- Links longer than link_distance_m of the policy of the household's grid's unit, measured on
-- the spheroid from the member's home to the household.
CREATE TABLE coverage_long_links (
    household_id bigint PRIMARY KEY,
    grid_id      bigint NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    member_id    bigint NOT NULL,
    distance_m   double precision NOT NULL,
    limit_m      double precision NOT NULL
);
CREATE INDEX coverage_long_links_grid_idx ON coverage_long_links (grid_id);
CREATE INDEX coverage_long_links_member_idx ON coverage_long_links (member_id);

-- refresh_coverage rewrites the caches of the grids ids, and of the grids holding households
-- linked to members who live (or lived, at the last refresh) in those grids. Grids are
-- refreshed one transaction at a time (advisory locks on 4,096 buckets, taken in order), so
-- two edits of one grid cannot interleave their rewrites.
CREATE FUNCTION refresh_coverage(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    todo bigint[];
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    IF cardinality(ids) >= (SELECT count(*) FROM grids WHERE valid_to IS NULL) THEN
        todo := ids; -- every grid: nothing to add
    ELSE
        SELECT array_agg(DISTINCT x) INTO todo FROM (
            SELECT unnest(ids)
            UNION ALL
            SELECT m.grid_id FROM coverage_grid_members m WHERE m.home_grid_id = ANY (ids)
            UNION ALL
            SELECT h.grid_id
            FROM households home
            JOIN people p ON p.household_id = home.id AND p.party_member
            JOIN member_household_links l ON l.member_id = p.id
            JOIN households h ON h.id = l.household_id
            WHERE home.grid_id = ANY (ids)
        ) t(x)
        WHERE x IS NOT NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(1735551332, k.b)
    FROM (SELECT DISTINCT (x % 4096)::int AS b FROM unnest(todo) x ORDER BY 1) k;

    DELETE FROM coverage_grid_units WHERE grid_id = ANY (todo);
    DELETE FROM coverage_grid_members WHERE grid_id = ANY (todo);
    DELETE FROM coverage_long_links WHERE grid_id = ANY (todo);

    INSERT INTO coverage_grid_units (grid_id, unit_code, households, residents, linked)
    SELECT h.grid_id, h.unit_code, count(*), coalesce(sum(h.residents), 0), count(l.household_id)
    FROM households h
    JOIN grids g ON g.id = h.grid_id AND g.valid_to IS NULL
    LEFT JOIN member_household_links l ON l.household_id = h.id
    WHERE h.grid_id = ANY (todo)
    GROUP BY h.grid_id, h.unit_code;

    -- A cheap equirectangular estimate (within 0.5% at these distances) spares the geodesic
    -- for the links clearly shorter than the limit.
    WITH pol AS (
        SELECT g.id, p.link_distance_m AS lim
        FROM grids g CROSS JOIN LATERAL effective_span_policy(g.unit_code) p
        WHERE g.id = ANY (todo) AND g.valid_to IS NULL
    ), pairs AS (
        SELECT h.grid_id, l.member_id, l.household_id, home.grid_id AS home_grid, pol.lim,
               h.location AS hloc, home.location AS mloc,
               111320 * sqrt(((ST_X(h.location) - ST_X(home.location)) * cosd((ST_Y(h.location) + ST_Y(home.location)) / 2)) ^ 2
                             + (ST_Y(h.location) - ST_Y(home.location)) ^ 2) AS approx
        FROM households h
        JOIN pol ON pol.id = h.grid_id
        JOIN member_household_links l ON l.household_id = h.id
        JOIN people p ON p.id = l.member_id
        LEFT JOIN households home ON home.id = p.household_id
        WHERE h.grid_id = ANY (todo)
    ), links AS (
        SELECT grid_id, member_id, household_id, home_grid, lim,
               CASE WHEN home_grid IS NOT NULL AND approx > 0.98 * lim
                    THEN ST_Distance(hloc::geography, mloc::geography) END AS d
        FROM pairs
    ), long AS (
        INSERT INTO coverage_long_links (household_id, grid_id, member_id, distance_m, limit_m)
        SELECT household_id, grid_id, member_id, d, lim FROM links WHERE d > lim
    )
    INSERT INTO coverage_grid_members (grid_id, member_id, home_grid_id, households, long_links)
    SELECT grid_id, member_id, min(home_grid), count(*), count(*) FILTER (WHERE d > lim)
    FROM links
    GROUP BY grid_id, member_id;

    -- After a bulk load the planner must know the caches' sizes at once (an empty-table
    -- estimate turns the report's joins into nested loops over 80,000 rows).
    IF cardinality(todo) >= 200 THEN
        ANALYZE coverage_grid_units, coverage_grid_members, coverage_long_links;
    END IF;
END $$;

-- refresh_grid_stats keeps both grid_stats (the former function, renamed) and the coverage
-- caches current.
ALTER FUNCTION refresh_grid_stats(bigint[]) RENAME TO refresh_grid_stats_tiles;
CREATE FUNCTION refresh_grid_stats(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_grid_stats_tiles(ids);
    PERFORM refresh_coverage(ids);
END $$;

-- Links added, removed or changed refresh the grids of their households (households without
-- a grid are read live). A bulk load refreshes its grids once at the end.
CREATE FUNCTION coverage_links_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF bulk_load() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT h.grid_id) INTO ids FROM new_rows l JOIN households h ON h.id = l.household_id;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT h.grid_id) INTO ids FROM old_rows l JOIN households h ON h.id = l.household_id;
    ELSE
        SELECT array_agg(DISTINCT h.grid_id) INTO ids
        FROM (SELECT household_id FROM old_rows UNION SELECT household_id FROM new_rows) l
        JOIN households h ON h.id = l.household_id;
    END IF;
    ids := array_remove(ids, NULL);
    IF cardinality(ids) > 0 THEN
        PERFORM refresh_coverage(ids);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER coverage_links_ins AFTER INSERT ON member_household_links
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION coverage_links_changed();
CREATE TRIGGER coverage_links_upd AFTER UPDATE ON member_household_links
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION coverage_links_changed();
CREATE TRIGGER coverage_links_del AFTER DELETE ON member_household_links
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION coverage_links_changed();

-- Fill the caches for the grids already loaded.
SELECT refresh_coverage(array_agg(id)) FROM grids WHERE valid_to IS NULL;
