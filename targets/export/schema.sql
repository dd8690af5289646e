-- Orders to export: one row per order. Filled with millions of rows by the scenario's
-- `database.generate` block (once per run, read-only during trials).
CREATE TABLE export_rows (
  id           bigint PRIMARY KEY,
  customer     text NOT NULL,
  amount_cents bigint NOT NULL,
  created_at   timestamptz NOT NULL
);
