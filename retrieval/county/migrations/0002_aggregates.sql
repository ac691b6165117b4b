-- Version 2: indexes and per-month aggregates, so the 研判 page answers from small tables.
CREATE INDEX records_type_settled ON records (dispute_type, settled) WHERE NOT withdrawn;
CREATE INDEX records_town_settled ON records (town, settled) WHERE NOT withdrawn;
CREATE INDEX records_committee_settled ON records (committee, settled);

CREATE TABLE monthly_stats (
    county text NOT NULL,
    town text NOT NULL,
    committee text NOT NULL,
    dispute_type text NOT NULL,
    month date NOT NULL,
    n integer NOT NULL,
    success integer NOT NULL,
    perf_known integer NOT NULL,        -- successful records whose performance is known
    performed integer NOT NULL,
    settle_n integer NOT NULL,          -- records with a received date
    settle_days bigint NOT NULL,
    PRIMARY KEY (committee, dispute_type, month)
);
CREATE INDEX monthly_stats_month ON monthly_stats (month, dispute_type);

CREATE TABLE monthly_articles (
    county text NOT NULL,
    town text NOT NULL,
    committee text NOT NULL,
    dispute_type text NOT NULL,
    month date NOT NULL,
    article text NOT NULL,
    n integer NOT NULL,                 -- successful records of this type citing the article
    PRIMARY KEY (committee, dispute_type, month, article)
);
CREATE INDEX monthly_articles_type ON monthly_articles (dispute_type, month);

INSERT INTO monthly_stats
SELECT county, town, committee, dispute_type, date_trunc('month', settled)::date, count(*),
       count(*) FILTER (WHERE outcome = 'success'),
       count(*) FILTER (WHERE outcome = 'success' AND performance_status <> 'unknown'),
       count(*) FILTER (WHERE outcome = 'success' AND performance_status = 'performed'),
       count(received), COALESCE(sum(settled - received) FILTER (WHERE received IS NOT NULL), 0)
FROM records WHERE NOT withdrawn AND settled IS NOT NULL
GROUP BY county, town, committee, dispute_type, date_trunc('month', settled);

INSERT INTO monthly_articles
SELECT county, town, committee, dispute_type, date_trunc('month', settled)::date, a, count(*)
FROM records, unnest(cited) AS a
WHERE NOT withdrawn AND settled IS NOT NULL AND outcome = 'success'
GROUP BY county, town, committee, dispute_type, date_trunc('month', settled), a;
