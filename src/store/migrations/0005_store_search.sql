-- 0005: store search that stays fast on a large catalog (bench:store: 70,000 products).
--
-- `products` is wide (descriptions, texts, jsonb); scanning it for every search cost most of the
-- time. Search now reads `product_search`: one narrow row per LISTED product with only what search
-- filters, counts and orders by (families as a bit mask), plus the full-text vector and its GIN
-- index. Browsing without words reads facet counts kept per cell in two small tables instead of
-- counting ~70,000 rows. All three are maintained by statement-level triggers on `products`, in the
-- writing transaction, so they are never stale and every count stays exact. Nothing else writes them.

-- Accelerator families in the order of core's ACCELERATOR_FAMILIES (src/core/accelerators.ts);
-- family i (from 1) is bit 1 << (i - 1) of a mask. Append new families at the end, never reorder
-- (masks are stored); the store contract checks the two lists agree.
CREATE FUNCTION accelerator_family_names() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY['cuda', 'cann', 'dtk', 'bang', 'musa', 'xpu', 'supa', 'corex', 'maca', 'cpu']
$$;

-- The mask of a jsonb array of family names; unknown names set no bit.
CREATE FUNCTION accelerator_family_mask(families jsonb) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(bit_or(1 << (a.i::int - 1)), 0)
  FROM unnest(accelerator_family_names()) WITH ORDINALITY AS a(f, i)
  WHERE families ? a.f
$$;

CREATE TABLE product_search (
  product_id       text PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE,
  provider_org_id  text NOT NULL,
  category         text NOT NULL,
  families         integer NOT NULL,          -- accelerator_family_mask(products.families)
  public           boolean NOT NULL,          -- visibility = 'public'; else only its org sees it
  launches         bigint NOT NULL,
  created_at       timestamptz NOT NULL,
  search_vector    tsvector NOT NULL
);
-- fastupdate off: no pending list of unmerged entries, which every search would scan until a
-- VACUUM merged it (PGlite never autovacuums) and which made the planner price the index above
-- a sequential scan. Entries go straight into the index; writes are rare, launches aside.
CREATE INDEX product_search_vector ON product_search USING gin (search_vector) WITH (fastupdate = off);
CREATE INDEX product_search_launches ON product_search (launches DESC, product_id);
CREATE INDEX product_search_newest ON product_search (created_at DESC, product_id);
CREATE INDEX product_search_provider ON product_search (provider_org_id);

-- Listed PUBLIC products per (category, family mask) and per (provider, category). A search adds
-- the caller's own org-only products from product_search. Cells that empty keep n = 0.
CREATE TABLE product_facet_cells (
  category  text NOT NULL,
  families  integer NOT NULL,
  n         integer NOT NULL,
  PRIMARY KEY (category, families)
);
CREATE TABLE product_provider_cells (
  provider_org_id  text NOT NULL,
  category         text NOT NULL,
  n                integer NOT NULL,
  PRIMARY KEY (provider_org_id, category)
);

INSERT INTO product_search
SELECT id, provider_org_id, category, accelerator_family_mask(families), visibility = 'public', launches, created_at, search_vector
FROM products WHERE listed;
INSERT INTO product_facet_cells
SELECT category, accelerator_family_mask(families), count(*) FROM products WHERE listed AND visibility = 'public' GROUP BY 1, 2;
INSERT INTO product_provider_cells
SELECT provider_org_id, category, count(*) FROM products WHERE listed AND visibility = 'public' GROUP BY 1, 2;

-- One function per event: a statement's transition tables (`old_rows`, `new_rows`) exist only for
-- the events that have them. Counter changes are summed per cell first, so a launch (launches
-- only) or any edit that keeps a product in its cells writes no counter row, and cells are updated
-- in key order, so two concurrent statements lock shared cells in the same order (no deadlock
-- between single-statement writers; publish and review each change products in one statement).

CREATE FUNCTION product_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO product_search
  SELECT id, provider_org_id, category, accelerator_family_mask(families), visibility = 'public', launches, created_at, search_vector
  FROM new_rows WHERE listed;
  INSERT INTO product_facet_cells AS c (category, families, n)
  SELECT category, accelerator_family_mask(families), count(*) FROM new_rows WHERE listed AND visibility = 'public'
  GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (category, families) DO UPDATE SET n = c.n + excluded.n;
  INSERT INTO product_provider_cells AS c (provider_org_id, category, n)
  SELECT provider_org_id, category, count(*) FROM new_rows WHERE listed AND visibility = 'public'
  GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (provider_org_id, category) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END
$$;

CREATE FUNCTION product_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM product_search s USING old_rows o
  WHERE s.product_id = o.id AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id AND n.listed);
  INSERT INTO product_search
  SELECT id, provider_org_id, category, accelerator_family_mask(families), visibility = 'public', launches, created_at, search_vector
  FROM new_rows WHERE listed
  ON CONFLICT (product_id) DO UPDATE SET
    provider_org_id = excluded.provider_org_id, category = excluded.category, families = excluded.families,
    public = excluded.public, launches = excluded.launches, created_at = excluded.created_at, search_vector = excluded.search_vector;
  INSERT INTO product_facet_cells AS c (category, families, n)
  SELECT category, mask, sum(d) FROM (
    SELECT category, accelerator_family_mask(families) AS mask, -1 AS d FROM old_rows WHERE listed AND visibility = 'public'
    UNION ALL
    SELECT category, accelerator_family_mask(families), 1 FROM new_rows WHERE listed AND visibility = 'public'
  ) delta GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
  ON CONFLICT (category, families) DO UPDATE SET n = c.n + excluded.n;
  INSERT INTO product_provider_cells AS c (provider_org_id, category, n)
  SELECT provider_org_id, category, sum(d) FROM (
    SELECT provider_org_id, category, -1 AS d FROM old_rows WHERE listed AND visibility = 'public'
    UNION ALL
    SELECT provider_org_id, category, 1 FROM new_rows WHERE listed AND visibility = 'public'
  ) delta GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
  ON CONFLICT (provider_org_id, category) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END
$$;

CREATE FUNCTION product_search_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- product_search rows go with their product (ON DELETE CASCADE); the counters are ours to fix
  UPDATE product_facet_cells c SET n = c.n - d.n
  FROM (SELECT category, accelerator_family_mask(families) AS mask, count(*) AS n FROM old_rows
        WHERE listed AND visibility = 'public' GROUP BY 1, 2 ORDER BY 1, 2) d
  WHERE c.category = d.category AND c.families = d.mask;
  UPDATE product_provider_cells c SET n = c.n - d.n
  FROM (SELECT provider_org_id, category, count(*) AS n FROM old_rows
        WHERE listed AND visibility = 'public' GROUP BY 1, 2 ORDER BY 1, 2) d
  WHERE c.provider_org_id = d.provider_org_id AND c.category = d.category;
  RETURN NULL;
END
$$;

CREATE TRIGGER products_search_insert AFTER INSERT ON products
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_search_insert();
CREATE TRIGGER products_search_update AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_search_update();
CREATE TRIGGER products_search_delete AFTER DELETE ON products
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION product_search_delete();

-- Search no longer reads these (product_search has its own); they only slowed every write,
-- launches included.
DROP INDEX products_search_vector;
DROP INDEX products_category;
DROP INDEX products_launches;
DROP INDEX products_newest;
