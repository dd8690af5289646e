"""py-tickets — sells the seats of an event; a plain WSGI app served by gunicorn.

    POST /api/events/<id>/tickets {"buyer": "..."} → 201 {"ticket_id": n} | 409 {"error": "sold out"}
    GET  /health                                    → 200 {"status": "ok"} once the database answers

Served by gunicorn, e.g. with a thread pool per worker process:
    gunicorn --worker-class gthread --workers 4 --threads 8 --bind 127.0.0.1:$PORT app:app
or with gunicorn's default `sync` worker (one request at a time per process, no keep-alive). Each worker
process imports this module after the fork (no `--preload`), so each has its own psycopg2
`ThreadedConnectionPool`.

VARIANT=buggy: read the event's `capacity` and `sold`, check that a seat is left, insert the ticket and
write back `sold + 1` computed in Python — in one transaction, but nothing locks the row between the read
and the write. Requests that run together all read the same `sold`, all pass the check, and each writes
the same new count over the others' (a lost update): more tickets than seats, and `sold` below the number
of tickets.
VARIANT=fixed: one conditional `UPDATE events SET sold = sold + 1 WHERE id = %s AND sold < capacity`,
checked by `cursor.rowcount` (0 rows: sold out, or no such event), then the ticket insert, in the same
transaction. PostgreSQL re-checks the condition on the newest row version when a concurrent update
commits, so exactly `capacity` requests succeed.

Configuration, from the environment whatbreaks (or you) gives the process:
    VARIANT (buggy | fixed, default buggy), DATABASE_URL (else libpq's PGHOST, PGPORT, PGUSER,
    PGPASSWORD, PGDATABASE; PGAPPNAME names the connections), POOL_MIN (connections each worker opens at
    start and keeps idle; default 8, one per thread of `--threads 8`), POOL_MAX (default 32).
The port is gunicorn's: `--bind 127.0.0.1:$PORT` (without `--bind` gunicorn listens on 0.0.0.0:8000).
"""

import json
import os
import re
import sys
from contextlib import contextmanager

import psycopg2
from psycopg2.pool import PoolError, ThreadedConnectionPool

VARIANT = os.environ.get("VARIANT", "buggy")
if VARIANT not in ("buggy", "fixed"):
    sys.exit(f"VARIANT must be buggy or fixed; got {VARIANT!r}")

# An empty DSN makes libpq read the PG* variables.
db = ThreadedConnectionPool(
    int(os.environ.get("POOL_MIN", "8")),
    int(os.environ.get("POOL_MAX", "32")),
    os.environ.get("DATABASE_URL", ""),
)


@contextmanager
def transaction():
    """A pooled connection's cursor inside `with conn:` — commit at the end, rollback on an exception."""
    conn = db.getconn()
    try:
        with conn, conn.cursor() as cur:
            yield cur
    finally:
        # The pool rolls back whatever is still open, and drops the connection if it broke.
        db.putconn(conn)


def buy_buggy(event_id, buyer):
    with transaction() as cur:
        cur.execute("SELECT capacity, sold FROM events WHERE id = %s", (event_id,))
        row = cur.fetchone()
        if row is None:
            return 404, {"error": "unknown event"}
        capacity, sold = row
        if sold >= capacity:
            return 409, {"error": "sold out"}
        cur.execute("INSERT INTO tickets (event_id, buyer) VALUES (%s, %s) RETURNING id", (event_id, buyer))
        ticket_id = cur.fetchone()[0]
        cur.execute("UPDATE events SET sold = %s WHERE id = %s", (sold + 1, event_id))
        return 201, {"ticket_id": ticket_id}


def buy_fixed(event_id, buyer):
    with transaction() as cur:
        cur.execute("UPDATE events SET sold = sold + 1 WHERE id = %s AND sold < capacity", (event_id,))
        if cur.rowcount == 0:
            cur.execute("SELECT 1 FROM events WHERE id = %s", (event_id,))
            if cur.fetchone() is None:
                return 404, {"error": "unknown event"}
            return 409, {"error": "sold out"}
        cur.execute("INSERT INTO tickets (event_id, buyer) VALUES (%s, %s) RETURNING id", (event_id, buyer))
        return 201, {"ticket_id": cur.fetchone()[0]}


buy = buy_fixed if VARIANT == "fixed" else buy_buggy
TICKETS_PATH = re.compile(r"^/api/events/(\d+)/tickets$")
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found", 409: "Conflict",
           500: "Internal Server Error", 503: "Service Unavailable"}


def health():
    try:
        with transaction() as cur:
            cur.execute("SELECT 1")
        return 200, {"status": "ok"}
    except (psycopg2.Error, PoolError) as err:
        return 503, {"error": str(err).strip()}


def route(environ):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    if method == "GET" and path == "/health":
        return health()
    match = TICKETS_PATH.match(path)
    if method != "POST" or not match:
        return 404, {"error": "not found"}
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except ValueError:
        return 400, {"error": "body must be JSON"}
    buyer = str(body.get("buyer", "")).strip()
    if not buyer:
        return 400, {"error": "buyer is required"}
    try:
        return buy(int(match.group(1)), buyer)
    except (psycopg2.Error, PoolError) as err:
        return 500, {"error": str(err).strip()}


def app(environ, start_response):
    status, body = route(environ)
    data = json.dumps(body).encode()
    start_response(
        f"{status} {REASONS[status]}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]
