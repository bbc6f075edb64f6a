DELETE FROM rollup_definitions WHERE name = %(name)s;
