CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
