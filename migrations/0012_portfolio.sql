CREATE TABLE holdings (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product_id  integer NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    unit_cost   numeric(12, 2) NOT NULL CHECK (unit_cost >= 0),
    acquired_on date NOT NULL DEFAULT current_date,
    notes       text CHECK (length(notes) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX holdings_user ON holdings (user_id);
