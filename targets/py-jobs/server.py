"""py-jobs — workers report a job as done, served by Python's standard library.

    POST /api/jobs/<id>/complete {"result": "..."} → 200 {"status": "completed"} | 409 {"error": "not in progress"}
    GET  /health                                     → 200 {"status": "ok"} once the database answers

The server is `http.server.ThreadingHTTPServer`: one thread per connection, HTTP/1.0 (the default
`protocol_version`), so every response closes its connection — no keep-alive. Database access is psycopg2
from a `ThreadedConnectionPool`.

VARIANT=buggy: check-then-act on an autocommit connection (Django's default mode, and what
`conn.autocommit = True` gives): read the status, check `in_progress`, then mark the job completed, queue
the customer notification and record the status change, each statement committed on its own. Two requests
that arrive together both pass the check: both complete the job, both queue a notification, and the
second's history insert hits the unique (job_id, status) → 500.
VARIANT=fixed: the same steps in one transaction (`with conn:`) that first locks the job row with
`SELECT … FOR UPDATE`; the second request waits for the first to commit, then sees `completed` → 409.

Configuration, from the environment whatbreaks (or you) gives the process:
    PORT (default 8000), HOST (default 127.0.0.1), VARIANT (buggy | fixed, default buggy),
    DATABASE_URL (else libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE; PGAPPNAME names the
    connections), POOL_MIN (connections opened at start and kept idle, default 5), POOL_MAX (default 50).
Run: `/usr/bin/python3 server.py` (Debian's python3-psycopg2).
"""

import json
import os
import re
import sys
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
from psycopg2.pool import PoolError, ThreadedConnectionPool

VARIANT = os.environ.get("VARIANT", "buggy")
if VARIANT not in ("buggy", "fixed"):
    sys.exit(f"VARIANT must be buggy or fixed; got {VARIANT!r}")

# An empty DSN makes libpq read the PG* variables.
db = ThreadedConnectionPool(
    int(os.environ.get("POOL_MIN", "5")),
    int(os.environ.get("POOL_MAX", "50")),
    os.environ.get("DATABASE_URL", ""),
)


@contextmanager
def connection(autocommit):
    """A pooled connection; the pool rolls back whatever it was left in, or drops it if it broke."""
    conn = db.getconn()
    try:
        conn.autocommit = autocommit
        yield conn
    finally:
        db.putconn(conn)


def complete_buggy(job_id, result):
    with connection(autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM jobs WHERE id = %s", (job_id,))
        row = cur.fetchone()
        if row is None:
            return 404, {"error": "unknown job"}
        if row[0] != "in_progress":
            return 409, {"error": "not in progress"}
        cur.execute(
            "UPDATE jobs SET status = 'completed', result = %s, completed_at = now() WHERE id = %s",
            (result, job_id),
        )
        cur.execute(
            "INSERT INTO notifications (job_id, kind, result) VALUES (%s, 'job_completed', %s)",
            (job_id, result),
        )
        cur.execute("INSERT INTO job_status_history (job_id, status) VALUES (%s, 'completed')", (job_id,))
        return 200, {"status": "completed"}


def complete_fixed(job_id, result):
    with connection(autocommit=False) as conn:
        # `with conn:` commits when the block ends and rolls back on an exception (psycopg2 2.5+).
        with conn, conn.cursor() as cur:
            cur.execute("SELECT status FROM jobs WHERE id = %s FOR UPDATE", (job_id,))
            row = cur.fetchone()
            if row is None:
                return 404, {"error": "unknown job"}
            if row[0] != "in_progress":
                return 409, {"error": "not in progress"}
            cur.execute(
                "UPDATE jobs SET status = 'completed', result = %s, completed_at = now() WHERE id = %s",
                (result, job_id),
            )
            cur.execute(
                "INSERT INTO notifications (job_id, kind, result) VALUES (%s, 'job_completed', %s)",
                (job_id, result),
            )
            cur.execute(
                "INSERT INTO job_status_history (job_id, status) VALUES (%s, 'completed')", (job_id,)
            )
            return 200, {"status": "completed"}


complete = complete_fixed if VARIANT == "fixed" else complete_buggy
COMPLETE_PATH = re.compile(r"^/api/jobs/(\d+)/complete$")


class Handler(BaseHTTPRequestHandler):
    server_version = "py-jobs"

    def do_GET(self):
        if self.path != "/health":
            return self.reply(404, {"error": "not found"})
        try:
            with connection(autocommit=True) as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
            self.reply(200, {"status": "ok"})
        except (psycopg2.Error, PoolError) as err:
            self.reply(503, {"error": str(err).strip()})

    def do_POST(self):
        match = COMPLETE_PATH.match(self.path)
        if not match:
            return self.reply(404, {"error": "not found"})
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.reply(400, {"error": "body must be JSON"})
        try:
            self.reply(*complete(int(match.group(1)), str(body.get("result", ""))))
        except (psycopg2.Error, PoolError) as err:
            # The buggy variant's second completion lands here: unique (job_id, status) violated.
            self.reply(500, {"error": str(err).strip()})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(
        (os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8000"))), Handler
    )
    print(f"py-jobs ({VARIANT}) listening on {server.server_address[0]}:{server.server_address[1]}", flush=True)
    server.serve_forever()
