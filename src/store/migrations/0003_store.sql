-- 0003: the store (应用商城): products from providers, their versions (an app's manifest), and
-- launches, which are ordinary jobs that remember their app. Search uses PostgreSQL's full text
-- (`simple` configuration: words, any language that separates them) and trigrams (pg_trgm: substrings,
-- which is how Chinese names are found, having no spaces).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE products (
  id               text PRIMARY KEY,
  provider_org_id  text NOT NULL REFERENCES orgs(id),
  name             text NOT NULL UNIQUE,
  title            text NOT NULL,
  summary          text NOT NULL,
  description      text NOT NULL,
  category         text NOT NULL CHECK (category IN ('compute', 'software', 'saas', 'model', 'dataset', 'service', 'code')),
  tags             jsonb NOT NULL,
  licence          text NOT NULL,
  visibility       text NOT NULL CHECK (visibility IN ('public', 'org')),
  -- accelerator families the latest listed version runs on, for the facet
  families         jsonb NOT NULL DEFAULT '[]',
  launches         bigint NOT NULL DEFAULT 0,
  listed           boolean NOT NULL DEFAULT false,
  search_text      text NOT NULL,
  search_vector    tsvector NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX products_search_vector ON products USING gin (search_vector);
CREATE INDEX products_search_trgm ON products USING gin (search_text gin_trgm_ops);
CREATE INDEX products_category ON products (category) WHERE listed;
CREATE INDEX products_launches ON products (launches DESC) WHERE listed;
CREATE INDEX products_newest ON products (created_at DESC) WHERE listed;

CREATE TABLE product_versions (
  id            text PRIMARY KEY,
  product_id    text NOT NULL REFERENCES products(id),
  version       text NOT NULL,
  status        text NOT NULL CHECK (status IN ('draft', 'in-review', 'listed', 'delisted')),
  -- the validated manifest (YAML parsed to JSON) and its source text, as published
  manifest      jsonb NOT NULL,
  source        text NOT NULL,
  review_note   text,
  created_at    timestamptz NOT NULL,
  listed_at     timestamptz,
  UNIQUE (product_id, version)
);

ALTER TABLE jobs ADD COLUMN app_version_id text REFERENCES product_versions(id);
ALTER TABLE jobs ADD COLUMN app_params jsonb;
-- the chip figure run times scale by for this app: 'fp16' (dense tensor) or 'fp32'
ALTER TABLE jobs ADD COLUMN speed_metric text NOT NULL DEFAULT 'fp16' CHECK (speed_metric IN ('fp16', 'fp32'));
-- per accelerator family, the rendered command and environment; the lease takes the variant of the
-- family of the pool the scheduler picked
ALTER TABLE jobs ADD COLUMN command_variants jsonb;
-- small files written into the job's working folder before it starts (relative path → text)
ALTER TABLE jobs ADD COLUMN files jsonb NOT NULL DEFAULT '{}';
