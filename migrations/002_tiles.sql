-- Map layers: Web-Mercator copies of polygons (tiles never transform whole tables), per-grid
-- statistics kept current by triggers (tiles and coverage read them instead of aggregating
-- households), and change notifications (channel gridmap_changes) that let every gridmap
-- replica drop the cached tiles of the area that changed.

ALTER TABLE units
    ADD COLUMN boundary_3857 geometry(MultiPolygon, 3857)
        GENERATED ALWAYS AS (ST_Transform(boundary, 3857)) STORED;
CREATE INDEX units_boundary_3857_idx ON units USING gist (boundary_3857);

ALTER TABLE grids
    ADD COLUMN boundary_3857 geometry(MultiPolygon, 3857)
        GENERATED ALWAYS AS (ST_Transform(boundary, 3857)) STORED,
    ADD COLUMN label_3857 geometry(Point, 3857)
        GENERATED ALWAYS AS (ST_PointOnSurface(ST_Transform(boundary, 3857))) STORED;
CREATE INDEX grids_active_3857_idx ON grids USING gist (boundary_3857) WHERE valid_to IS NULL;
CREATE INDEX grids_label_3857_idx ON grids USING gist (label_3857) WHERE valid_to IS NULL;

CREATE INDEX people_party_household_idx ON people (household_id) WHERE party_member;
CREATE INDEX branches_grid_idx ON branches (grid_id) WHERE valid_to IS NULL;

-- Per-grid statistics and coverage state.
CREATE TABLE grid_stats (
    grid_id       bigint PRIMARY KEY REFERENCES grids (id) ON DELETE CASCADE,
    households    integer NOT NULL,
    residents     integer NOT NULL,
    party_members integer NOT NULL,
    band_min      integer NOT NULL,
    band_max      integer NOT NULL,
    state         text NOT NULL CHECK (state IN ('ok', 'out_of_band', 'no_branch', 'no_worker'))
);

CREATE FUNCTION refresh_grid_stats(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    WITH h AS (
        SELECT grid_id, count(*)::int AS n, coalesce(sum(residents), 0)::int AS r
        FROM households WHERE grid_id = ANY (ids) GROUP BY grid_id
    ), m AS (
        SELECT hh.grid_id, count(*)::int AS n
        FROM households hh JOIN people pp ON pp.household_id = hh.id AND pp.party_member
        WHERE hh.grid_id = ANY (ids) GROUP BY hh.grid_id
    )
    INSERT INTO grid_stats AS s (grid_id, households, residents, party_members, band_min, band_max, state)
    SELECT g.id, coalesce(h.n, 0), coalesce(h.r, 0), coalesce(m.n, 0), p.grid_households_min, p.grid_households_max,
           CASE WHEN coalesce(h.n, 0) NOT BETWEEN p.grid_households_min AND p.grid_households_max THEN 'out_of_band'
                WHEN NOT EXISTS (SELECT 1 FROM branches b WHERE b.grid_id = g.id AND b.valid_to IS NULL) THEN 'no_branch'
                WHEN NOT EXISTS (SELECT 1 FROM grid_team t WHERE t.grid_id = g.id AND t.role = 'worker') THEN 'no_worker'
                ELSE 'ok' END
    FROM grids g
    LEFT JOIN h ON h.grid_id = g.id
    LEFT JOIN m ON m.grid_id = g.id
    CROSS JOIN LATERAL effective_span_policy(g.unit_code) p
    WHERE g.id = ANY (ids)
    ON CONFLICT (grid_id) DO UPDATE SET
        households = EXCLUDED.households, residents = EXCLUDED.residents,
        party_members = EXCLUDED.party_members, band_min = EXCLUDED.band_min,
        band_max = EXCLUDED.band_max, state = EXCLUDED.state
    WHERE (s.households, s.residents, s.party_members, s.band_min, s.band_max, s.state) IS DISTINCT FROM
          (EXCLUDED.households, EXCLUDED.residents, EXCLUDED.party_members, EXCLUDED.band_min,
           EXCLUDED.band_max, EXCLUDED.state)
$$;

-- A bulk load (SET LOCAL gridmap.bulk = 'on') skips the per-statement refreshes below and
-- refreshes its grids once at the end.
CREATE FUNCTION bulk_load() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('gridmap.bulk', true), '') = 'on'
$$;

-- notify_change tells the replicas which area (WGS84 box) changed.
CREATE FUNCTION notify_change(area box2d) RETURNS void LANGUAGE sql AS $$
    SELECT pg_notify('gridmap_changes', json_build_object(
        'bbox', json_build_array(ST_XMin(area), ST_YMin(area), ST_XMax(area), ST_YMax(area)))::text)
    WHERE area IS NOT NULL
$$;

-- Households: statistics of the grids they left and joined; the area they cover.
CREATE FUNCTION households_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    area box2d;
BEGIN
    IF bulk_load() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT grid_id) FILTER (WHERE grid_id IS NOT NULL), ST_Extent(location)
          INTO ids, area FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT grid_id) FILTER (WHERE grid_id IS NOT NULL), ST_Extent(location)
          INTO ids, area FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT gid) FILTER (WHERE gid IS NOT NULL), ST_Extent(loc) INTO ids, area
        FROM (SELECT grid_id AS gid, location AS loc FROM old_rows
              UNION ALL SELECT grid_id, location FROM new_rows) x;
    END IF;
    IF ids IS NOT NULL THEN
        PERFORM refresh_grid_stats(ids);
    END IF;
    PERFORM notify_change(area);
    RETURN NULL;
END $$;
CREATE TRIGGER households_changed_ins AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION households_changed();
CREATE TRIGGER households_changed_upd AFTER UPDATE ON households
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION households_changed();
CREATE TRIGGER households_changed_del AFTER DELETE ON households
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION households_changed();

-- People: a party member joining or leaving changes the member count of their home's grid.
CREATE FUNCTION people_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF bulk_load() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT h.grid_id) INTO ids FROM new_rows p JOIN households h ON h.id = p.household_id;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT h.grid_id) INTO ids FROM old_rows p JOIN households h ON h.id = p.household_id;
    ELSE
        SELECT array_agg(DISTINCT h.grid_id) INTO ids
        FROM (SELECT household_id FROM old_rows UNION SELECT household_id FROM new_rows) p
        JOIN households h ON h.id = p.household_id;
    END IF;
    ids := array_remove(ids, NULL);
    IF cardinality(ids) > 0 THEN
        PERFORM refresh_grid_stats(ids);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER people_changed_ins AFTER INSERT ON people
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION people_changed();
CREATE TRIGGER people_changed_upd AFTER UPDATE ON people
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION people_changed();
CREATE TRIGGER people_changed_del AFTER DELETE ON people
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION people_changed();

-- Branches and teams change a grid's coverage state.
CREATE FUNCTION grid_org_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF bulk_load() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT grid_id) INTO ids FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT grid_id) INTO ids FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT grid_id) INTO ids
        FROM (SELECT grid_id FROM old_rows UNION SELECT grid_id FROM new_rows) x;
    END IF;
    IF ids IS NOT NULL THEN
        PERFORM refresh_grid_stats(ids);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER branches_changed_ins AFTER INSERT ON branches
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_org_changed();
CREATE TRIGGER branches_changed_upd AFTER UPDATE ON branches
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_org_changed();
CREATE TRIGGER branches_changed_del AFTER DELETE ON branches
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_org_changed();
CREATE TRIGGER grid_team_changed_ins AFTER INSERT ON grid_team
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_org_changed();
CREATE TRIGGER grid_team_changed_upd AFTER UPDATE ON grid_team
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_org_changed();
CREATE TRIGGER grid_team_changed_del AFTER DELETE ON grid_team
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_org_changed();

-- Grids: a new or reshaped grid gets its statistics; the old and new areas are redrawn.
CREATE FUNCTION grids_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    area box2d;
BEGIN
    IF bulk_load() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM refresh_grid_stats(ARRAY[NEW.id]);
        area := Box2D(NEW.boundary);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM refresh_grid_stats(ARRAY[NEW.id]);
        area := Box2D(ST_Collect(NEW.boundary, OLD.boundary));
    ELSE
        area := Box2D(OLD.boundary);
    END IF;
    PERFORM notify_change(area);
    RETURN NULL;
END $$;
CREATE TRIGGER grids_changed_trg AFTER INSERT OR UPDATE OR DELETE ON grids
    FOR EACH ROW EXECUTE FUNCTION grids_changed();

-- Policies change the band of every grid below the unit.
CREATE FUNCTION span_policies_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_code text := CASE WHEN TG_OP = 'DELETE' THEN OLD.unit_code ELSE NEW.unit_code END;
BEGIN
    PERFORM refresh_grid_stats(array_agg(id)) FROM grids
    WHERE valid_to IS NULL AND unit_code BETWEEN v_code AND v_code || '999999';
    RETURN NULL;
END $$;
CREATE TRIGGER span_policies_changed_trg AFTER INSERT OR UPDATE OR DELETE ON span_policies
    FOR EACH ROW EXECUTE FUNCTION span_policies_changed();

-- Statistics that changed redraw their grids' area (grid layer labels, coverage colours).
CREATE FUNCTION grid_stats_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF bulk_load() THEN
        RETURN NULL;
    END IF;
    PERFORM notify_change(ST_Extent(g.boundary)) FROM new_rows s JOIN grids g ON g.id = s.grid_id;
    RETURN NULL;
END $$;
CREATE TRIGGER grid_stats_changed_ins AFTER INSERT ON grid_stats
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_stats_changed();
CREATE TRIGGER grid_stats_changed_upd AFTER UPDATE ON grid_stats
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_stats_changed();

-- Links redraw the households they touch (links layer, members' counts).
CREATE FUNCTION member_links_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF bulk_load() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM notify_change(ST_Extent(h.location)) FROM old_rows l JOIN households h ON h.id = l.household_id;
    ELSE
        PERFORM notify_change(ST_Extent(h.location)) FROM new_rows l JOIN households h ON h.id = l.household_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER member_links_changed_ins AFTER INSERT ON member_household_links
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_links_changed();
CREATE TRIGGER member_links_changed_del AFTER DELETE ON member_household_links
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION member_links_changed();
