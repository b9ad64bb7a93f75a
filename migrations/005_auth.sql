-- Accounts, scoped roles, sessions, API tokens and the audit trail (issue 4).
-- Secrets are never stored: passwords as argon2id hashes, session ids, CSRF tokens and API
-- tokens as SHA-256 digests.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'planner', 'viewer', 'worker')),
    see_personal  boolean NOT NULL DEFAULT false,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A user's scope: unit subtrees (6, 9 or 12 digits) for planners and viewers, grids
-- (15 characters) for grid workers. Admins need none.
CREATE TABLE user_scopes (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code    text NOT NULL CHECK (length(code) IN (6, 9, 12, 15)),
    PRIMARY KEY (user_id, code)
);

CREATE TABLE sessions (
    id_hash    bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    hash         bytea NOT NULL UNIQUE,
    name         text NOT NULL DEFAULT '',
    role         text NOT NULL CHECK (role IN ('admin', 'planner', 'viewer', 'worker')),
    units        text[] NOT NULL DEFAULT '{}',
    read_only    boolean NOT NULL DEFAULT false,
    see_personal boolean NOT NULL DEFAULT false,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used    timestamptz
);

CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    action    text NOT NULL,
    entity    text NOT NULL,
    entity_id text NOT NULL DEFAULT '',
    unit      text,
    before    jsonb,
    after     jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_unit_idx ON audit_log (unit text_pattern_ops, at);

-- Servers cache token lookups only while they LISTEN here: a revoked or changed token is
-- announced, and every replica drops its cache at once.
CREATE FUNCTION notify_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gridmap_tokens', OLD.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER api_tokens_notify
    AFTER UPDATE OF revoked_at, role, units, read_only, see_personal OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_token_change();
