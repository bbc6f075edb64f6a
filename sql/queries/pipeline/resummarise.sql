-- After a settings change (near_floor_band): summarise the window's snapshots again.
SELECT code, summarise_snapshots(code, NULL, %(from)s::timestamptz, %(to)s::timestamptz) AS snapshots
FROM marketplaces;
