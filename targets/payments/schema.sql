-- Every charge made against an order's card. A client retry must not create a second one.
CREATE TABLE charges (
  id              bigserial PRIMARY KEY,
  order_id        text NOT NULL,
  amount          integer NOT NULL,
  idempotency_key text,
  instance        text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Fixed variant: the first request with a key stores its outcome; later ones get the same answer.
CREATE TABLE idempotency_keys (
  key          text PRIMARY KEY,
  request_hash text NOT NULL,
  status       integer,
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
