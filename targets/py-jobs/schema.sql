-- Jobs move from in_progress to completed exactly once. Every status a job reaches is recorded once
-- (unique per job and status); completing a job queues one "job completed" notification to the customer.
CREATE TABLE jobs (
  id           integer PRIMARY KEY,
  status       text NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed')),
  result       text,
  completed_at timestamptz
);

CREATE TABLE job_status_history (
  id         bigserial PRIMARY KEY,
  job_id     integer NOT NULL REFERENCES jobs (id),
  status     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (job_id, status)
);

CREATE TABLE notifications (
  id         bigserial PRIMARY KEY,
  job_id     integer NOT NULL REFERENCES jobs (id),
  kind       text NOT NULL,
  result     text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
