-- Fantasy leagues (SPEC §11): leagues and their members, weekly rounds, rosters, and the scores the
-- SQL in sql/functions/leagues.sql writes. Every rule a row can be held to is a constraint here, so
-- a job, the API or a DBA with psql cannot store a league or a roster the game's rules forbid; what
-- needs the market (prices, the budget, active products) is checked by league_roster_problems().

-- Whether an array holds each element once. Here, not in sql/functions: a CHECK needs it to exist
-- before the tables do.
CREATE FUNCTION array_is_distinct(a anyarray) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT cardinality(a) = (SELECT count(DISTINCT x) FROM unnest(a) x)
$$;

-- Scoring presets are data: the scoring joins them, so a preset is one row and not a CASE.
CREATE TABLE league_presets (
    code     text PRIMARY KEY CHECK (code ~ '^[a-z]+$'),
    w_price  numeric(4, 2) NOT NULL CHECK (w_price >= 0),
    w_volume numeric(4, 2) NOT NULL CHECK (w_volume >= 0)
);
INSERT INTO league_presets (code, w_price, w_volume) VALUES
    ('balanced', 1, 1),
    ('momentum', 2, 0.5),
    ('volume', 0.5, 2);

CREATE TABLE leagues (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND name = btrim(name)),
    -- A private league is joined by its code only; a public one is listed and has none.
    is_private      boolean NOT NULL DEFAULT false,
    invite_code     text UNIQUE CHECK (invite_code ~ '^[A-Za-z0-9_-]{8,64}$'),
    commissioner_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    max_members     integer NOT NULL CHECK (max_members BETWEEN 2 AND 20),
    roster_size     integer NOT NULL DEFAULT 5 CHECK (roster_size BETWEEN 1 AND 15),
    budget_usd      numeric(12, 2) NOT NULL DEFAULT 1000.00 CHECK (budget_usd > 0),
    season_rounds   integer NOT NULL CHECK (season_rounds BETWEEN 1 AND 52),
    lock_isodow     integer NOT NULL DEFAULT 1 CHECK (lock_isodow BETWEEN 1 AND 7),  -- 1 = Monday (ISO)
    lock_hour       integer NOT NULL DEFAULT 0 CHECK (lock_hour BETWEEN 0 AND 23),   -- UTC
    preset          text NOT NULL DEFAULT 'balanced' REFERENCES league_presets (code),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (is_private = (invite_code IS NOT NULL)),
    -- The target of the rosters' (league_id, roster_size) key: a roster's size is the league's.
    UNIQUE (id, roster_size)
);
CREATE INDEX leagues_public ON leagues (created_at DESC, id) WHERE NOT is_private;  -- browsing
CREATE INDEX leagues_commissioner ON leagues (commissioner_id);

-- A membership is a row from joining to leaving (or removal); rejoining is a new membership, so a
-- former member's rows stay as they were. The seat limit (max_members) needs a count: the API takes
-- the league's row FOR UPDATE before it inserts, so two joins for the last seat queue.
CREATE TABLE league_members (
    id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    league_id integer NOT NULL REFERENCES leagues (id) ON DELETE CASCADE,
    user_id   integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at timestamptz NOT NULL DEFAULT now(),
    left_at   timestamptz,
    removed   boolean NOT NULL DEFAULT false,  -- left_at was set by the commissioner
    CHECK (left_at >= joined_at),
    CHECK (NOT removed OR left_at IS NOT NULL),
    UNIQUE (id, league_id)  -- the target of the rosters' (member_id, league_id) key
);
CREATE UNIQUE INDEX league_members_active ON league_members (league_id, user_id) WHERE left_at IS NULL;
CREATE INDEX league_members_user ON league_members (user_id) WHERE left_at IS NULL;  -- "my leagues"

-- Round r covers the UTC days lock_day .. lock_day + 6 and prices its rosters on lock_day - 1.
-- first_scored_at starts the corrections window.
CREATE TABLE league_rounds (
    league_id       integer NOT NULL REFERENCES leagues (id) ON DELETE CASCADE,
    round_no        integer NOT NULL CHECK (round_no >= 1),
    lock_at         timestamptz NOT NULL,
    lock_day        date NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'locked', 'scored')),
    first_scored_at timestamptz,
    scored_at       timestamptz,
    PRIMARY KEY (league_id, round_no),
    UNIQUE (league_id, lock_day),
    CHECK (lock_day = (lock_at AT TIME ZONE 'UTC')::date),
    CHECK ((status = 'scored') = (first_scored_at IS NOT NULL)),
    CHECK (scored_at >= first_scored_at)
);
-- Scoring reads every league's round of one lock day, in chunks of league ids.
CREATE INDEX league_rounds_lock_day ON league_rounds (lock_day, league_id);
-- The lock job finds the rounds due.
CREATE INDEX league_rounds_due ON league_rounds (lock_at) WHERE status = 'open';

-- A member's roster for a round: roster_size distinct products, the captain among them. The size
-- is the league's through the (league_id, roster_size) key. Transfers are not stored: they are the
-- products not in the member's previous roster, derived when scoring (league_transfers()).
-- carried: the lock copied the last roster, the member set none.
CREATE TABLE league_rosters (
    member_id   integer NOT NULL,
    round_no    integer NOT NULL,
    league_id   integer NOT NULL,
    roster_size integer NOT NULL,
    product_ids integer[] NOT NULL CHECK (array_is_distinct(product_ids) AND array_position(product_ids, NULL) IS NULL),
    captain_id  integer NOT NULL,
    wildcard    boolean NOT NULL DEFAULT false,
    carried     boolean NOT NULL DEFAULT false,
    saved_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, round_no),  -- a member's roster history
    FOREIGN KEY (member_id, league_id) REFERENCES league_members (id, league_id) ON DELETE CASCADE,
    FOREIGN KEY (league_id, round_no) REFERENCES league_rounds (league_id, round_no) ON DELETE CASCADE,
    FOREIGN KEY (league_id, roster_size) REFERENCES leagues (id, roster_size) ON UPDATE CASCADE ON DELETE CASCADE,
    CHECK (cardinality(product_ids) = roster_size),
    CHECK (captain_id = ANY (product_ids)),
    CHECK (NOT (wildcard AND carried))
);
CREATE INDEX league_rosters_round ON league_rosters (league_id, round_no);  -- a round's rosters, for scoring
CREATE UNIQUE INDEX league_rosters_one_wildcard ON league_rosters (member_id) WHERE wildcard;  -- once a season

-- Product points of the round locking on lock_day, per preset, for every active product: computed
-- once per lock day (store_league_product_points), whatever the number of leagues, and joined to
-- the rosters. What the rosters' products scored is read from here (league_roster_points).
CREATE TABLE league_product_points (
    lock_day          date NOT NULL,
    preset            text NOT NULL REFERENCES league_presets (code),
    product_id        integer NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    volume_usd        numeric(16, 2) NOT NULL,
    pct               double precision,
    pos               integer NOT NULL CHECK (pos IN (0, 1, 2, 4, 6, 8, 10, 12, 15, 18, 25)),
    points            numeric(10, 2) NOT NULL,
    insufficient_data boolean NOT NULL,
    computed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lock_day, preset, product_id),
    CHECK (NOT insufficient_data OR (pct IS NULL AND points = 0))
);

-- A member's score in a round. points = product_points - penalty; product_points counts the
-- captain twice. insufficient_products: rostered products that scored 0 for want of data.
CREATE TABLE league_results (
    league_id             integer NOT NULL,
    round_no              integer NOT NULL,
    member_id             integer NOT NULL REFERENCES league_members (id) ON DELETE CASCADE,
    product_points        numeric(10, 2) NOT NULL,
    transfers             integer NOT NULL CHECK (transfers >= 0),
    penalty               numeric(10, 2) NOT NULL CHECK (penalty >= 0 AND penalty % 4 = 0),
    points                numeric(10, 2) NOT NULL,
    insufficient_products integer NOT NULL CHECK (insufficient_products >= 0),
    scored_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (league_id, round_no, member_id),  -- standings and a round's results read by league
    FOREIGN KEY (league_id, round_no) REFERENCES league_rounds (league_id, round_no) ON DELETE CASCADE,
    CHECK (points = product_points - penalty)
);
CREATE INDEX league_results_member ON league_results (member_id, round_no);  -- a member's history

-- Each rescoring that changed a member's points, with the points before and after.
CREATE TABLE league_corrections (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    league_id     integer NOT NULL,
    round_no      integer NOT NULL,
    member_id     integer NOT NULL REFERENCES league_members (id) ON DELETE CASCADE,
    points_before numeric(10, 2) NOT NULL,
    points_after  numeric(10, 2) NOT NULL,
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    corrected_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (league_id, round_no) REFERENCES league_rounds (league_id, round_no) ON DELETE CASCADE,
    CHECK (points_before <> points_after)
);
CREATE INDEX league_corrections_round ON league_corrections (league_id, round_no);
