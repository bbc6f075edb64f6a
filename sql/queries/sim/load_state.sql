SELECT seed, simulated_through, state FROM sim_state WHERE name = %(name)s;
