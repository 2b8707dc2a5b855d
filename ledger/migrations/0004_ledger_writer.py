"""The database is the ledger's one writer of the tree: the application role inserts entries (and
their party rows) and nothing else. Three SECURITY DEFINER functions, owned by the role that
runs migrations, do the rest:

- `ledger_head_lock(id)` locks the head row (creating it on first use) and returns its size and
  right edge: the lock every append and checkpoint queues on, as `SELECT ... FOR UPDATE` was.
- `ledger_tree_advance()`, a statement trigger after INSERT on the entries, takes the rows just
  inserted (a transition table, which row-level security does not filter) in index order,
  refuses any whose index is not the head's size or whose `leaf_hash` is not SHA-256(0x00 ||
  leaf), saves the subtree roots each completes and moves the head forward: the tree follows
  the leaves, computed here, so no one can write a node or move the head by hand.
- `ledger_checkpoint_record(...)` stores a signed checkpoint only for the head's own size and
  root; the application cannot insert one otherwise.

`ledger.privileges` revokes INSERT/UPDATE on the head, nodes and checkpoints from the
application role and grants it EXECUTE on the two callable functions. RFC 9162 hashing as in
ledger/merkle.py; node ids as in ledger.models.node_id."""

from django.db import migrations

HEAD_LOCK = r"""
CREATE OR REPLACE FUNCTION ledger_head_lock(p_id integer)
    RETURNS TABLE (head_size bigint, head_frontier jsonb)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT h.size, h.frontier FROM ledger_ledgerhead h WHERE h.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        -- First append ever (or after a test flush). A concurrent first append waits on our
        -- row, then finds it.
        INSERT INTO ledger_ledgerhead AS h (id, size, frontier) VALUES (p_id, 0, '[]')
            ON CONFLICT DO NOTHING;
        RETURN QUERY
            SELECT h.size, h.frontier FROM ledger_ledgerhead h WHERE h.id = p_id FOR UPDATE;
    END IF;
END
$$;
"""

TREE_ADVANCE = r"""
CREATE OR REPLACE FUNCTION ledger_tree_advance() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_size bigint;
    v_frontier jsonb;
    edge bytea[];
    added_row record;
    node bytea;
    rest bigint;
    span bigint;
    n integer;
    node_ids bigint[] := '{}';
    node_hashes bytea[] := '{}';
BEGIN
    SELECT l.head_size, l.head_frontier INTO v_size, v_frontier FROM ledger_head_lock(1) l;
    SELECT coalesce(array_agg(decode(f.item, 'hex') ORDER BY f.position), '{}')
        INTO edge FROM jsonb_array_elements_text(v_frontier) WITH ORDINALITY AS f(item, position);
    FOR added_row IN SELECT a."index", a.leaf, a.leaf_hash FROM added a ORDER BY a."index" LOOP
        IF added_row."index" <> v_size THEN
            RAISE EXCEPTION 'ledger: entry % appended where the tree has % entries',
                added_row."index", v_size USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        node := sha256('\x00'::bytea || added_row.leaf);
        IF added_row.leaf_hash IS DISTINCT FROM node THEN
            RAISE EXCEPTION 'ledger: entry % has a leaf_hash that is not the hash of its leaf',
                added_row."index" USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        node_ids := array_append(node_ids, 2 * v_size);
        node_hashes := array_append(node_hashes, node);
        -- Each trailing 1 bit of the old size is a perfect subtree the new leaf completes.
        rest := v_size;
        span := 1;
        WHILE (rest & 1) = 1 LOOP
            n := cardinality(edge);
            node := sha256('\x01'::bytea || edge[n] || node);
            edge := edge[1:n - 1];
            span := span * 2;
            node_ids := array_append(node_ids, 2 * (v_size + 1 - span) + span - 1);
            node_hashes := array_append(node_hashes, node);
            rest := rest >> 1;
        END LOOP;
        edge := array_append(edge, node);
        v_size := v_size + 1;
    END LOOP;
    IF cardinality(node_ids) = 0 THEN
        RETURN NULL;  -- an INSERT of no rows
    END IF;
    INSERT INTO ledger_ledgernode (id, hash) SELECT * FROM unnest(node_ids, node_hashes);
    UPDATE ledger_ledgerhead SET size = v_size, frontier = (
        SELECT coalesce(jsonb_agg(encode(e.item, 'hex') ORDER BY e.position), '[]'::jsonb)
        FROM unnest(edge) WITH ORDINALITY AS e(item, position)
    ) WHERE id = 1;
    RETURN NULL;
END
$$;
"""

CHECKPOINT_RECORD = r"""
CREATE OR REPLACE FUNCTION ledger_checkpoint_record(
    p_tree_size bigint, p_root_hash text, p_timestamp text, p_signature text,
    p_public_key text, p_key_id text
) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_size bigint;
    v_frontier jsonb;
    edge bytea[];
    root bytea;
    i integer;
    new_id bigint;
BEGIN
    SELECT l.head_size, l.head_frontier INTO v_size, v_frontier FROM ledger_head_lock(1) l;
    SELECT coalesce(array_agg(decode(f.item, 'hex') ORDER BY f.position), '{}')
        INTO edge FROM jsonb_array_elements_text(v_frontier) WITH ORDINALITY AS f(item, position);
    IF cardinality(edge) = 0 THEN
        root := sha256(''::bytea);
    ELSE
        root := edge[cardinality(edge)];
        FOR i IN REVERSE cardinality(edge) - 1 .. 1 LOOP
            root := sha256('\x01'::bytea || edge[i] || root);
        END LOOP;
    END IF;
    IF p_tree_size IS DISTINCT FROM v_size OR p_root_hash IS DISTINCT FROM encode(root, 'hex') THEN
        RAISE EXCEPTION 'ledger: a checkpoint must sign the tree head (size %, root %)',
            v_size, encode(root, 'hex') USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO ledger_ledgercheckpoint
        (tree_size, root_hash, "timestamp", signature, public_key, key_id, created_at)
        VALUES (p_tree_size, p_root_hash, p_timestamp, p_signature, p_public_key, p_key_id, now())
        RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
"""


def install(apps, schema_editor):
    # No params: the % in RAISE must reach PostgreSQL as it is.
    for function in (HEAD_LOCK, TREE_ADVANCE, CHECKPOINT_RECORD):
        schema_editor.execute(function, params=None)
    schema_editor.execute(
        "CREATE TRIGGER ledger_tree_advance AFTER INSERT ON ledger_ledgerentry"
        " REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION ledger_tree_advance()"
    )
    for signature in (
        "ledger_head_lock(integer)",
        "ledger_tree_advance()",
        "ledger_checkpoint_record(bigint, text, text, text, text, text)",
    ):
        schema_editor.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")


def remove(apps, schema_editor):
    schema_editor.execute("DROP TRIGGER IF EXISTS ledger_tree_advance ON ledger_ledgerentry")
    schema_editor.execute("DROP FUNCTION IF EXISTS ledger_tree_advance()")
    schema_editor.execute(
        "DROP FUNCTION IF EXISTS ledger_checkpoint_record(bigint, text, text, text, text, text)"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS ledger_head_lock(integer)")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_redundant_party_indexes")]

    operations = [migrations.RunPython(install, remove)]
