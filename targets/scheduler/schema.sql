-- The ledger: one row per execution of a scheduled task for a tick (tick = floor(epoch seconds)).
-- Deliberately no unique (task, tick): the ledger records what happened, duplicates included.
CREATE TABLE task_executions (
  id          bigserial PRIMARY KEY,
  task        text NOT NULL,
  tick        bigint NOT NULL,
  instance    text NOT NULL,
  executed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Fixed variant only: the cluster-wide claim of a (task, tick). The claimer holds a lease; a claim whose
-- lease ran out before it was done may be taken over by another replica (the claimer died).
CREATE TABLE task_claims (
  task        text NOT NULL,
  tick        bigint NOT NULL,
  instance    text NOT NULL,
  -- instance + pid + claim number: the fencing token a slow claimer checks before it records its work.
  token       text NOT NULL,
  lease_until timestamptz NOT NULL,
  claims      integer NOT NULL DEFAULT 1,
  done_at     timestamptz,
  PRIMARY KEY (task, tick)
);
