-- Events with a fixed number of seats, and the tickets sold for them. `sold` is the running count the
-- sales page shows; it must equal the number of tickets, and never exceed `capacity`.
CREATE TABLE events (
  id       integer PRIMARY KEY,
  name     text NOT NULL,
  capacity integer NOT NULL CHECK (capacity > 0),
  sold     integer NOT NULL DEFAULT 0
);

CREATE TABLE tickets (
  id         bigserial PRIMARY KEY,
  event_id   integer NOT NULL REFERENCES events (id),
  buyer      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
