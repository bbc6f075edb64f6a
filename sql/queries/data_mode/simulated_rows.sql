-- Anything the simulated market wrote or needs.
SELECT (SELECT count(*) FROM product_sources WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated))
     + (SELECT count(*) FROM snapshots WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated))
     + (SELECT count(*) FROM sales WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated))
     + (SELECT count(*) FROM price_points WHERE marketplace IN (SELECT code FROM marketplaces WHERE simulated))
     + (SELECT count(*) FROM sim_state);
