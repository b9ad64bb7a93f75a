-- in_scope: whether a unit or grid code lies in one of the caller's subtrees (codes are
-- prefixes of their descendants); a NULL scope is everything. Tiles of non-public layers
-- filter their rows with it.
CREATE FUNCTION in_scope(code text, scope text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT scope IS NULL OR EXISTS (SELECT 1 FROM unnest(scope) s WHERE starts_with(code, s))
$$;
