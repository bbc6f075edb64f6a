-- Live mode and a pipeline that runs itself.
--
-- data_mode: which data this database holds. 'demo': the simulated market (make run's default);
-- 'live': real marketplaces only. A database starts in demo; `flask db upgrade` with DATA_MODE=live
-- makes a database without simulated data live, and `flask data go-live` removes the simulated data
-- of a demo database first. A live database never goes back (service/core/data_mode.py).
CREATE TABLE data_mode (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    mode       text NOT NULL CHECK (mode IN ('demo', 'live')),
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO data_mode (mode) VALUES ('demo');

-- Days the pipeline must recompute: every write of observations adds a row in its own transaction
-- (appending, so concurrent writers never wait on each other); the pipeline job recomputes from the
-- earliest requested day and then deletes the rows it has served (service/core/recompute.py).
--   resummarise: summarise snapshots again first (a summary setting changed);
--   reinfer: derive listing changes and inferred sales again first (an inference setting changed).
CREATE TABLE pipeline_requests (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_day     date NOT NULL,
    resummarise  boolean NOT NULL DEFAULT false,
    reinfer      boolean NOT NULL DEFAULT false,
    reason       text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
