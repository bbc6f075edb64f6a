UPDATE rollup_definitions SET needs_refresh = false, refreshed_at = now() WHERE name = %(name)s;
