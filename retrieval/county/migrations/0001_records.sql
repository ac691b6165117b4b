-- County record store, version 1: masked records, the sync state and log.
CREATE TABLE records (
    committee text NOT NULL,            -- the mediation committee (村/居调委会)
    number text NOT NULL,               -- the committee's case number (编号)
    county text NOT NULL DEFAULT '',
    town text NOT NULL DEFAULT '',
    revision integer NOT NULL,
    digest text NOT NULL,               -- sha256 of the record's content: a re-sync compares it
    withdrawn boolean NOT NULL DEFAULT false,
    synthetic boolean NOT NULL DEFAULT false,
    dispute_type text NOT NULL,
    dispute_type_origin text NOT NULL DEFAULT 'metadata',
    settled date,                       -- the record's date (调解日期)
    received date,                      -- when the dispute came in, where the record says
    outcome text NOT NULL CHECK (outcome IN ('success', 'failed')),
    performance_status text NOT NULL
        CHECK (performance_status IN ('performed', 'partial', 'breached', 'unknown')),
    cited text[] NOT NULL DEFAULT '{}', -- resolved article ids (民法典:288)
    title text NOT NULL DEFAULT '',
    facts text NOT NULL DEFAULT '',
    focus text NOT NULL DEFAULT '',
    process text NOT NULL DEFAULT '',
    result text NOT NULL DEFAULT '',
    agreement text NOT NULL DEFAULT '',
    performance text NOT NULL DEFAULT '',
    articles jsonb NOT NULL DEFAULT '[]',
    parties jsonb NOT NULL DEFAULT '[]',
    region text NOT NULL DEFAULT '',
    created text NOT NULL DEFAULT '',
    updated text NOT NULL DEFAULT '',
    synced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (committee, number)
);

CREATE TABLE sync_state (
    committee text PRIMARY KEY,
    county text NOT NULL DEFAULT '',
    town text NOT NULL DEFAULT '',
    token bigint NOT NULL DEFAULT 0,    -- the committee store's change position last fully synced
    route text NOT NULL DEFAULT '',
    updated timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sync_log (
    id bigserial PRIMARY KEY,
    committee text NOT NULL,
    route text NOT NULL CHECK (route IN ('network', 'bundle', 'synthetic')),
    batch integer NOT NULL,
    added integer NOT NULL DEFAULT 0,
    updated integer NOT NULL DEFAULT 0,
    withdrawn integer NOT NULL DEFAULT 0,
    token bigint NOT NULL DEFAULT 0,
    bundle_sha256 text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE store_info (
    key text PRIMARY KEY,
    value text NOT NULL
);
