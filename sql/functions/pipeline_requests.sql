-- A change of a settings value asks the pipeline to recompute every day from the first observation:
-- each parameter enters the metrics of every day (service/core/recompute.py; jobs: pipeline-catch-up).
-- Inference settings also re-derive listing changes and inferred sales; summary settings re-summarise
-- snapshots. DBAs change settings with plain SQL, so this is a trigger, not application code.
CREATE OR REPLACE FUNCTION request_recompute_after_settings_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_first date := least(
        (SELECT min(observed_at) FROM snapshots),
        (SELECT min(sold_at) FROM sales),
        (SELECT min(observed_at) FROM price_points)
    )::date;
BEGIN
    IF v_first IS NOT NULL THEN
        INSERT INTO pipeline_requests (from_day, resummarise, reinfer, reason)
        VALUES (v_first,
                NEW.key IN ('near_floor_band'),
                NEW.key IN ('max_sale_premium', 'max_snapshot_gap_hours'),
                format('setting %s changed from %s to %s', NEW.key, OLD.value, NEW.value));
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS settings_changed ON settings;
CREATE TRIGGER settings_changed AFTER UPDATE ON settings
FOR EACH ROW WHEN (OLD.value IS DISTINCT FROM NEW.value)
EXECUTE FUNCTION request_recompute_after_settings_change();
