-- The simulated market's state between ticks (jobs/sim/driver.py): one row per simulation.
-- It is saved in the same transaction as the observations it produced, so a tick is all or nothing.
CREATE TABLE sim_state (
    name               text PRIMARY KEY,
    seed               integer NOT NULL,
    simulated_through  timestamptz NOT NULL,
    state              bytea NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
