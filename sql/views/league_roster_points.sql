-- What each rostered product scored in its round (SPEC §11): a roster's products joined to the
-- product points of its round's lock day and its league's preset. Stored once per lock day and
-- preset (league_product_points), not once per roster. A product without a row (deactivated since
-- the lock) scored 0 for want of data; `points` is the product's own, before the captain's double.
CREATE OR REPLACE VIEW league_roster_points AS
SELECT ro.league_id, ro.round_no, ro.member_id, x.product_id, x.product_id = ro.captain_id AS captain,
       pp.volume_usd, pp.pct, pp.pos, coalesce(pp.points, 0) AS points,
       coalesce(pp.insufficient_data, true) AS insufficient_data
FROM league_rosters ro
JOIN league_rounds r ON r.league_id = ro.league_id AND r.round_no = ro.round_no
JOIN leagues l ON l.id = ro.league_id
CROSS JOIN unnest(ro.product_ids) AS x (product_id)
LEFT JOIN league_product_points pp
  ON pp.lock_day = r.lock_day AND pp.preset = l.preset AND pp.product_id = x.product_id;
