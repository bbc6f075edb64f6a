-- Small presentation rules of the API, in SQL only: the view metric_rows labels every row it shows
-- with liquidity_label(), and the leaderboard and watchlist queries give rank movements.

-- SPEC §4: High >= 70, Moderate >= 40, Low below.
CREATE OR REPLACE FUNCTION liquidity_label(p_score double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_score IS NULL THEN NULL WHEN p_score >= 70 THEN 'High' WHEN p_score >= 40 THEN 'Moderate'
                ELSE 'Low' END
$$;

-- up, down, same, or new (no rank before); null without a rank now.
CREATE OR REPLACE FUNCTION rank_movement(p_now integer, p_before integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_now IS NULL THEN NULL WHEN p_before IS NULL THEN 'new' WHEN p_now < p_before THEN 'up'
                WHEN p_now > p_before THEN 'down' ELSE 'same' END
$$;
