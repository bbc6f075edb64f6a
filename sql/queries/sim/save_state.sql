INSERT INTO sim_state (name, seed, simulated_through, state) VALUES (%(name)s, %(seed)s, %(through)s, %(state)s)
ON CONFLICT (name) DO UPDATE SET seed = excluded.seed, simulated_through = excluded.simulated_through,
                                 state = excluded.state, updated_at = now();
