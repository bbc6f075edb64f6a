-- Daily metrics, ranks and the market index (SPEC §4-§5), written by the pipeline's SQL functions
-- (sql/functions/metrics.sql, ranks.sql, market_index.sql).

CREATE TABLE product_metrics_daily (
    day                   date NOT NULL,
    product_id            integer NOT NULL,
    history_days          integer NOT NULL,
    -- unified levels (carried forward at most max_carry_days) and flows (0 on days without events)
    floor_price           numeric(12, 2),
    floor_low             numeric(12, 2),
    active_listings       integer,
    units_listed          integer,
    units_near_floor      integer,
    visible_market_cap    numeric(14, 2),
    units_sold            integer NOT NULL,
    sales_count           integer NOT NULL,
    volume_usd            numeric(14, 2) NOT NULL,
    avg_sale_price        numeric(12, 2),
    median_sale_price     numeric(12, 2),
    units_added           integer NOT NULL,
    market_price          numeric(12, 2),
    -- indicators
    volume_ema_7d         double precision,
    volume_ema_30d        double precision,
    units_sold_ema_7d     double precision,
    volume_sma_7d         double precision,
    volume_sma_30d        double precision,
    units_sold_sma_7d     double precision,
    units_sold_sma_30d    double precision,
    units_added_sma_7d    double precision,
    units_added_sma_30d   double precision,
    floor_sma_7d          double precision,
    volume_7d             numeric(14, 2),
    volume_30d            numeric(14, 2),
    units_sold_7d         integer,
    units_sold_30d        integer,
    floor_change_pct_1d   double precision,
    floor_change_pct_7d   double precision,
    floor_change_pct_30d  double precision,
    market_change_pct_1d  double precision,
    market_change_pct_7d  double precision,
    market_change_pct_30d double precision,
    volume_change_pct_7d  double precision,
    volume_change_pct_30d double precision,
    sold_avg_30d          double precision,
    added_avg_30d         double precision,
    days_to_plus_20pct    double precision,
    expected_days_to_sell double precision,
    liquidity_score       double precision,
    absorption_ratio      double precision,
    momentum              double precision,
    insufficient_history  boolean NOT NULL,
    low_liquidity         boolean NOT NULL,
    stale                 boolean NOT NULL,
    computed_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, day)
);
SELECT create_hypertable('product_metrics_daily', by_range('day', interval '180 days'), create_default_indexes => false);
CREATE INDEX product_metrics_daily_day ON product_metrics_daily (day, product_id);

-- Competition ranks per day, overall (scope 'all') and per game (scope = game code), with the rank
-- of 1 and 7 days before so movement is a lookup.
CREATE TABLE product_ranks_daily (
    day          date NOT NULL,
    scope        text NOT NULL,
    product_id   integer NOT NULL,
    rank         integer NOT NULL,
    rank_1d_ago  integer,
    rank_7d_ago  integer,
    PRIMARY KEY (scope, product_id, day)
);
SELECT create_hypertable('product_ranks_daily', by_range('day', interval '180 days'), create_default_indexes => false);
CREATE INDEX product_ranks_daily_day ON product_ranks_daily (day, scope, rank);

CREATE TABLE market_index_daily (
    day                   date NOT NULL,
    scope                 text NOT NULL,     -- 'all' or a game code
    products_priced       integer NOT NULL,
    basket_value_usd      numeric(14, 2),
    index_value           double precision NOT NULL,
    index_change_pct_1d   double precision,
    index_change_pct_7d   double precision,
    index_change_pct_30d  double precision,
    advancers             integer NOT NULL,
    decliners             integer NOT NULL,
    unchanged             integer NOT NULL,
    volume_usd            numeric(14, 2) NOT NULL,
    units_sold            integer NOT NULL,
    active_listings       integer NOT NULL,
    units_added           integer NOT NULL,
    volume_ema_7d         double precision,
    volume_change_pct_7d  double precision,
    top_gainer_id         integer,
    top_gainer_pct        double precision,
    top_loser_id          integer,
    top_loser_pct         double precision,
    sentiment             text NOT NULL CHECK (sentiment IN ('BULLISH', 'BEARISH', 'NEUTRAL')),
    fear_greed            double precision NOT NULL,
    fear_greed_label      text NOT NULL,
    PRIMARY KEY (scope, day)
);
SELECT create_hypertable('market_index_daily', by_range('day', interval '365 days'), create_default_indexes => false);

INSERT INTO settings (key, value, description) VALUES
    ('ema_short_days', 7, 'N of the short EMAs (alpha = 2 / (N + 1))'),
    ('ema_long_days', 30, 'N of the long EMA'),
    ('days_to_plus_20pct_cap', 180, 'Cap (and the value for a tiny net burn) of days_to_plus_20pct'),
    ('movers_min_floor', 5, 'Movers: the earlier floor must be at least this many dollars'),
    ('movers_min_move', 1, 'Movers: the absolute move must be at least this many dollars'),
    ('movers_min_listings', 3, 'Movers: at least this many active listings today');
