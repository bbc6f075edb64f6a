SELECT pairs, events, inferred_sales, units_inferred FROM infer_listing_changes(%(marketplace)s, %(product_ids)s);
