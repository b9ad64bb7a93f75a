-- gridmap schema: administrative units, grids (with history), households, the party
-- organisation, links and span policies. All geometries are WGS84 (SRID 4326).

CREATE EXTENSION IF NOT EXISTS postgis;

-- Administrative units: county (6-digit statistical code) → township/street (9) →
-- village/community (12). A unit's parent is its code's prefix.
CREATE TABLE units (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[0-9]{6}([0-9]{3}){0,2}$'),
    name        text NOT NULL CHECK (length(btrim(name)) > 0),
    level       text NOT NULL CHECK (level IN ('county', 'township', 'street', 'village', 'community')),
    parent_code text REFERENCES units (code),
    boundary    geometry(MultiPolygon, 4326) NOT NULL
                CHECK (ST_IsValid(boundary) AND NOT ST_IsEmpty(boundary)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (
        (level = 'county' AND length(code) = 6 AND parent_code IS NULL) OR
        (level IN ('township', 'street') AND length(code) = 9 AND parent_code = left(code, 6)) OR
        (level IN ('village', 'community') AND length(code) = 12 AND parent_code = left(code, 9))
    )
);
CREATE INDEX units_parent_idx ON units (parent_code);
CREATE INDEX units_boundary_idx ON units USING gist (boundary);

-- Grids: 15-character code = 12-digit village/community code + 3-digit sequence. Grids are
-- retired (valid_to set), never deleted; version counts edits for optimistic concurrency.
CREATE TABLE grids (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[0-9]{15}$' AND right(code, 3) <> '000'),
    unit_code   text NOT NULL REFERENCES units (code),
    name        text NOT NULL CHECK (length(btrim(name)) > 0),
    kind        text NOT NULL CHECK (kind IN ('village', 'community', 'specialised')),
    boundary    geometry(MultiPolygon, 4326) NOT NULL
                CHECK (ST_IsValid(boundary) AND NOT ST_IsEmpty(boundary)),
    valid_from  timestamptz NOT NULL DEFAULT now(),
    valid_to    timestamptz CHECK (valid_to IS NULL OR valid_to >= valid_from),
    version     integer NOT NULL DEFAULT 1 CHECK (version > 0),
    updated_by  text NOT NULL DEFAULT 'system',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (left(code, 12) = unit_code)
);
CREATE INDEX grids_unit_idx ON grids (unit_code) WHERE valid_to IS NULL;
CREATE INDEX grids_active_boundary_idx ON grids USING gist (boundary) WHERE valid_to IS NULL;

-- Every version of every grid, written by trigger: who, when, what.
CREATE TABLE grid_versions (
    grid_id     bigint NOT NULL REFERENCES grids (id),
    version     integer NOT NULL,
    code        text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    boundary    geometry(MultiPolygon, 4326) NOT NULL,
    valid_from  timestamptz NOT NULL,
    valid_to    timestamptz,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (grid_id, version)
);

CREATE FUNCTION grids_record_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO grid_versions (grid_id, version, code, name, kind, boundary, valid_from, valid_to,
                               changed_by, changed_at)
    VALUES (NEW.id, NEW.version, NEW.code, NEW.name, NEW.kind, NEW.boundary, NEW.valid_from,
            NEW.valid_to, NEW.updated_by, NEW.updated_at);
    RETURN NULL;
END $$;
CREATE TRIGGER grids_version_trg AFTER INSERT OR UPDATE ON grids
    FOR EACH ROW EXECUTE FUNCTION grids_record_version();

-- Households: one row per household. Several households may share a point (an apartment
-- building). grid_id is maintained by triggers: it is the active grid containing the point
-- (lowest grid id when the point lies on a shared edge).
CREATE TABLE households (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_code   text NOT NULL REFERENCES units (code) CHECK (length(unit_code) = 12),
    external_id text NOT NULL CHECK (length(btrim(external_id)) > 0),
    location    geometry(Point, 4326) NOT NULL
                CHECK (ST_X(location) BETWEEN -180 AND 180 AND ST_Y(location) BETWEEN -90 AND 90),
    address     text NOT NULL DEFAULT '',
    head_name   text,
    head_phone  text,
    residents   integer NOT NULL DEFAULT 1 CHECK (residents BETWEEN 0 AND 200),
    party       boolean NOT NULL DEFAULT false,
    grid_id     bigint REFERENCES grids (id),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_code, external_id)
);
CREATE INDEX households_location_idx ON households USING gist (location);
CREATE INDEX households_grid_idx ON households (grid_id);

-- The active grid containing a point; a fixed tie-break (lowest id) on shared edges.
CREATE FUNCTION grid_at(p geometry) RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT g.id FROM grids g
    WHERE g.valid_to IS NULL AND g.boundary && p AND ST_Intersects(g.boundary, p)
    ORDER BY g.id LIMIT 1
$$;

-- After a bulk insert, place the households that came without a grid.
CREATE FUNCTION households_place_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE households h SET grid_id = grid_at(h.location)
    FROM inserted n
    WHERE h.id = n.id AND n.grid_id IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER households_place_inserted_trg AFTER INSERT ON households
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION households_place_inserted();

-- A household that moves is placed again.
CREATE FUNCTION households_place_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.grid_id := grid_at(NEW.location);
    RETURN NEW;
END $$;
CREATE TRIGGER households_place_moved_trg BEFORE UPDATE OF location ON households
    FOR EACH ROW WHEN (NOT ST_Equals(OLD.location, NEW.location))
    EXECUTE FUNCTION households_place_moved();

-- A grid that is created, reshaped or retired re-places the households around it.
CREATE FUNCTION grids_replace_households() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    area geometry := ST_Envelope(NEW.boundary);
BEGIN
    IF TG_OP = 'UPDATE' THEN
        area := ST_Envelope(ST_Collect(area, ST_Envelope(OLD.boundary)));
    END IF;
    UPDATE households h SET grid_id = x.gid
    FROM (SELECT h2.id, grid_at(h2.location) AS gid FROM households h2 WHERE h2.location && area) x
    WHERE h.id = x.id AND h.grid_id IS DISTINCT FROM x.gid;
    RETURN NULL;
END $$;
CREATE TRIGGER grids_replace_households_trg AFTER INSERT OR UPDATE OF boundary, valid_to ON grids
    FOR EACH ROW EXECUTE FUNCTION grids_replace_households();

-- People: party members, village cadres and grid staff. Personal fields: name, phone.
CREATE TABLE people (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_code    text NOT NULL REFERENCES units (code),
    name         text NOT NULL CHECK (length(btrim(name)) > 0),
    phone        text CHECK (phone IS NULL OR phone ~ '^\+?[0-9][0-9 -]{4,19}$'),
    party_member boolean NOT NULL DEFAULT false,
    cadre        boolean NOT NULL DEFAULT false,
    household_id bigint REFERENCES households (id),   -- home
    branch_id    bigint,
    group_id     bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, party_member),
    UNIQUE (id, cadre)
);
CREATE INDEX people_unit_idx ON people (unit_code);
CREATE INDEX people_household_idx ON people (household_id);

-- Party branches: one active branch per grid (一格一支部).
CREATE TABLE branches (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grid_id      bigint NOT NULL REFERENCES grids (id),
    name         text NOT NULL CHECK (length(btrim(name)) > 0),
    secretary_id bigint REFERENCES people (id),
    valid_from   timestamptz NOT NULL DEFAULT now(),
    valid_to     timestamptz CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX branches_one_active_per_grid ON branches (grid_id) WHERE valid_to IS NULL;

-- Party groups: N per branch.
CREATE TABLE party_groups (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id bigint NOT NULL REFERENCES branches (id),
    name      text NOT NULL CHECK (length(btrim(name)) > 0),
    leader_id bigint REFERENCES people (id),
    UNIQUE (branch_id, name)
);
CREATE INDEX party_groups_branch_idx ON party_groups (branch_id);

ALTER TABLE people
    -- Deferrable: a bulk load writes people before the branches they belong to.
    ADD CONSTRAINT people_branch_fk FOREIGN KEY (branch_id) REFERENCES branches (id) DEFERRABLE,
    ADD CONSTRAINT people_group_fk FOREIGN KEY (group_id) REFERENCES party_groups (id) DEFERRABLE,
    ADD CONSTRAINT people_group_needs_party CHECK (group_id IS NULL OR party_member);

-- Grid team 一长三员: leader, worker, assistant, instructor.
CREATE TABLE grid_team (
    grid_id   bigint NOT NULL REFERENCES grids (id),
    person_id bigint NOT NULL REFERENCES people (id),
    role      text NOT NULL CHECK (role IN ('leader', 'worker', 'assistant', 'instructor')),
    PRIMARY KEY (grid_id, role, person_id)
);
CREATE INDEX grid_team_person_idx ON grid_team (person_id);

-- Central households (党员中心户): a party member's household that guides ≥10 members.
CREATE TABLE central_households (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    household_id bigint NOT NULL UNIQUE REFERENCES households (id),
    person_id    bigint NOT NULL,
    person_party boolean NOT NULL DEFAULT true CHECK (person_party),
    branch_id    bigint REFERENCES branches (id),
    FOREIGN KEY (person_id, person_party) REFERENCES people (id, party_member)
);
CREATE INDEX central_households_branch_idx ON central_households (branch_id);

-- Links. The composite foreign keys make the database itself refuse a link whose member is
-- not a party member, or whose cadre is not a cadre.
CREATE TABLE cadre_member_links (
    cadre_id     bigint NOT NULL,
    cadre_flag   boolean NOT NULL DEFAULT true CHECK (cadre_flag),
    member_id    bigint NOT NULL UNIQUE,
    member_party boolean NOT NULL DEFAULT true CHECK (member_party),
    PRIMARY KEY (cadre_id, member_id),
    CHECK (cadre_id <> member_id),
    FOREIGN KEY (cadre_id, cadre_flag) REFERENCES people (id, cadre),
    FOREIGN KEY (member_id, member_party) REFERENCES people (id, party_member)
);

CREATE TABLE central_member_links (
    central_household_id bigint NOT NULL REFERENCES central_households (id),
    member_id            bigint NOT NULL UNIQUE,
    member_party         boolean NOT NULL DEFAULT true CHECK (member_party),
    PRIMARY KEY (central_household_id, member_id),
    FOREIGN KEY (member_id, member_party) REFERENCES people (id, party_member)
);

-- Each household has one responsible party member (户联系党员).
CREATE TABLE member_household_links (
    member_id    bigint NOT NULL,
    member_party boolean NOT NULL DEFAULT true CHECK (member_party),
    household_id bigint NOT NULL UNIQUE REFERENCES households (id),
    PRIMARY KEY (member_id, household_id),
    FOREIGN KEY (member_id, member_party) REFERENCES people (id, party_member)
);

-- Span policies per unit; NULL means "inherit from the parent unit", and the seeds' numbers
-- apply where no ancestor sets a value (see effective_span_policy).
CREATE TABLE span_policies (
    unit_code              text PRIMARY KEY REFERENCES units (code),
    grid_households_min    integer CHECK (grid_households_min > 0),
    grid_households_max    integer CHECK (grid_households_max > 0),
    grid_residents_min     integer CHECK (grid_residents_min > 0),
    grid_residents_max     integer CHECK (grid_residents_max > 0),
    member_households_min  integer CHECK (member_households_min > 0),
    member_households_max  integer CHECK (member_households_max > 0),
    cadre_members_min      integer CHECK (cadre_members_min > 0),
    cadre_members_max      integer CHECK (cadre_members_max > 0),
    central_members_min    integer CHECK (central_members_min > 0),
    secretary_central_min  integer CHECK (secretary_central_min > 0),
    secretary_central_max  integer CHECK (secretary_central_max > 0),
    link_distance_m        double precision CHECK (link_distance_m > 0),
    central_rule           boolean,   -- the 1+10+15 rule: members cover >= 15 households
    CHECK (grid_households_min <= grid_households_max),
    CHECK (grid_residents_min <= grid_residents_max),
    CHECK (member_households_min <= member_households_max),
    CHECK (cadre_members_min <= cadre_members_max),
    CHECK (secretary_central_min <= secretary_central_max)
);

-- The policy in force for a unit: for each field the value set by the nearest unit on the
-- path county → township → village, else the seeds' default. Urban communities default to
-- grids of 300–500 households (1,000–2,000 residents); villages are usually one grid with
-- N party groups, so their band is wider.
CREATE FUNCTION effective_span_policy(p_code text)
RETURNS TABLE (
    unit_code text, grid_households_min integer, grid_households_max integer,
    grid_residents_min integer, grid_residents_max integer,
    member_households_min integer, member_households_max integer,
    cadre_members_min integer, cadre_members_max integer, central_members_min integer,
    secretary_central_min integer, secretary_central_max integer,
    link_distance_m double precision, central_rule boolean)
LANGUAGE sql STABLE AS $$
    WITH path AS (
        SELECT s.*, length(s.unit_code) AS depth
        FROM span_policies s
        WHERE s.unit_code IN (left(p_code, 6), left(p_code, 9), p_code)
    ), lvl AS (
        SELECT coalesce((SELECT level FROM units WHERE code = p_code), 'community') AS level
    ), pick AS (
        SELECT
            (array_agg(grid_households_min ORDER BY depth DESC) FILTER (WHERE grid_households_min IS NOT NULL))[1] AS ghmin,
            (array_agg(grid_households_max ORDER BY depth DESC) FILTER (WHERE grid_households_max IS NOT NULL))[1] AS ghmax,
            (array_agg(grid_residents_min ORDER BY depth DESC) FILTER (WHERE grid_residents_min IS NOT NULL))[1] AS grmin,
            (array_agg(grid_residents_max ORDER BY depth DESC) FILTER (WHERE grid_residents_max IS NOT NULL))[1] AS grmax,
            (array_agg(member_households_min ORDER BY depth DESC) FILTER (WHERE member_households_min IS NOT NULL))[1] AS mhmin,
            (array_agg(member_households_max ORDER BY depth DESC) FILTER (WHERE member_households_max IS NOT NULL))[1] AS mhmax,
            (array_agg(cadre_members_min ORDER BY depth DESC) FILTER (WHERE cadre_members_min IS NOT NULL))[1] AS cmmin,
            (array_agg(cadre_members_max ORDER BY depth DESC) FILTER (WHERE cadre_members_max IS NOT NULL))[1] AS cmmax,
            (array_agg(central_members_min ORDER BY depth DESC) FILTER (WHERE central_members_min IS NOT NULL))[1] AS ctmin,
            (array_agg(secretary_central_min ORDER BY depth DESC) FILTER (WHERE secretary_central_min IS NOT NULL))[1] AS scmin,
            (array_agg(secretary_central_max ORDER BY depth DESC) FILTER (WHERE secretary_central_max IS NOT NULL))[1] AS scmax,
            (array_agg(link_distance_m ORDER BY depth DESC) FILTER (WHERE link_distance_m IS NOT NULL))[1] AS dist,
            (array_agg(central_rule ORDER BY depth DESC) FILTER (WHERE central_rule IS NOT NULL))[1] AS crule
        FROM path
    )
    SELECT p_code,
        coalesce(ghmin, CASE WHEN lvl.level = 'village' THEN 100 ELSE 300 END),
        coalesce(ghmax, CASE WHEN lvl.level = 'village' THEN 800 ELSE 500 END),
        coalesce(grmin, CASE WHEN lvl.level = 'village' THEN 300 ELSE 1000 END),
        coalesce(grmax, CASE WHEN lvl.level = 'village' THEN 2500 ELSE 2000 END),
        coalesce(mhmin, CASE WHEN coalesce(crule, false) THEN 15 ELSE 10 END),
        coalesce(mhmax, CASE WHEN coalesce(crule, false) THEN 25 ELSE 15 END),
        coalesce(cmmin, 5), coalesce(cmmax, 10), coalesce(ctmin, 10),
        coalesce(scmin, 3), coalesce(scmax, 5), coalesce(dist, 500), coalesce(crule, false)
    FROM pick, lvl
$$;
