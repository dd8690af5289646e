"""py-checkout: a checkout service in Python that charges each order at a payment provider, with retries.

    POST /api/checkout  -> 200 {"ok": true, "attempts": n} | 502 {"error": ..., "attempts": n}
    GET  /health        -> 200 {"ok": true}

The charge is `POST {UPSTREAM_URL}/charge`, retried on 5xx and on failures without an answer:

- VARIANT=buggy: exponential backoff RETRY_BASE_MS * 2**n, no jitter, 5 retries. Every caller whose
  call failed at the same instant sleeps exactly as long and retries at the same instant: +1 s, +3 s,
  +7 s after an outage that failed every call in flight (the thundering herd).
- VARIANT=fixed: "full jitter", sleep random(0, min(RETRY_CAP_MS, RETRY_BASE_MS * 2**n)), 3 retries
  (Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).

Every provider call carries `x-retry-count`: how many attempts came before it, so 0 on the first try,
1 on the first retry (0-based, like gRPC's `grpc-previous-rpc-attempts`), and the caller's
`x-client-id` passed on. Calls share a pool of keep-alive connections.

Standard library only (any Python >= 3.9). `kill -USR1 <pid>` prints every thread's stack to stderr.
Env: PORT (3000), HOST (127.0.0.1), UPSTREAM_URL (required), VARIANT (buggy | fixed),
RETRY_BASE_MS (1000), RETRY_CAP_MS (4000), UPSTREAM_TIMEOUT_MS (10000).
"""

import faulthandler
import http.client
import json
import os
import random
import select
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM_URL = os.environ.get("UPSTREAM_URL")
if not UPSTREAM_URL:
    sys.exit("UPSTREAM_URL is not set (the payment provider)")
VARIANT = os.environ.get("VARIANT", "buggy")
if VARIANT not in ("buggy", "fixed"):
    sys.exit(f"VARIANT must be buggy, fixed; got '{VARIANT}'")
BASE_S = float(os.environ.get("RETRY_BASE_MS", "1000")) / 1000
CAP_S = float(os.environ.get("RETRY_CAP_MS", "4000")) / 1000
TIMEOUT_S = float(os.environ.get("UPSTREAM_TIMEOUT_MS", "10000")) / 1000
MAX_RETRIES = 3 if VARIANT == "fixed" else 5

upstream = urllib.parse.urlsplit(UPSTREAM_URL)
IDLE_S = 4.0  # reuse a provider connection idle at most this long (Node servers close them after 5 s)


class ConnectionPool:
    """Keep-alive connections to the provider, shared by every request thread (as urllib3's pool is):
    as many connections as calls in flight, not one per thread. A connection the provider closed while
    it sat idle is dropped before reuse, so it is never mistaken for a failed call."""

    def __init__(self):
        self.idle = []
        self.lock = threading.Lock()

    def get(self):
        with self.lock:
            while self.idle:
                conn, since = self.idle.pop()
                if time.monotonic() - since < IDLE_S and not dropped(conn):
                    return conn
                conn.close()
        return http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=TIMEOUT_S)

    def put(self, conn):
        with self.lock:
            self.idle.append((conn, time.monotonic()))


def dropped(conn):
    """An idle keep-alive connection with something to read has been closed by the other side."""
    return conn.sock is None or bool(select.select([conn.sock], [], [], 0)[0])


pool = ConnectionPool()


def backoff_s(retry):
    """Sleep before retry number `retry` (1-based), seconds."""
    exp = BASE_S * 2 ** (retry - 1)
    if VARIANT == "buggy":
        return exp  # the bug: every caller that failed together sleeps exactly this long
    return random.uniform(0, min(CAP_S, exp))


def charge(client_id, previous_attempts):
    """One call to the provider; returns its status, 0 when it failed without an answer."""
    headers = {"content-type": "application/json", "x-retry-count": str(previous_attempts)}
    if client_id:
        headers["x-client-id"] = client_id
    conn = pool.get()
    try:
        conn.request("POST", "/charge", body=b'{"amount": 4200}', headers=headers)
        res = conn.getresponse()
        res.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        return 0
    if res.will_close:
        conn.close()
    else:
        pool.put(conn)
    return res.status


def checkout(client_id):
    attempts = 0
    while True:
        status = charge(client_id, attempts)
        attempts += 1
        # 2xx and 4xx are final; 5xx and no answer are worth retrying.
        if 200 <= status < 500 or attempts > MAX_RETRIES:
            return status, attempts
        time.sleep(backoff_s(attempts))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the service behind a load balancer

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"ok": True})
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        if self.path != "/api/checkout":
            return self.reply(404, {"error": "not found"})
        status, attempts = checkout(self.headers.get("x-client-id"))
        if 200 <= status < 300:
            return self.reply(200, {"ok": True, "attempts": attempts})
        what = f"provider answered {status}" if status else "no answer from the provider"
        self.reply(502, {"error": f"payment failed: {what}", "attempts": attempts})

    def log_message(self, format, *args):
        pass  # one line per request would flood the log during a herd


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen backlog: a population of callers connects at once

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a caller that hung up (timeout, end of the load): nothing to report
        super().handle_error(request, client_address)


def main():
    port = int(os.environ.get("PORT", "3000"))
    host = os.environ.get("HOST", "127.0.0.1")
    server = Server((host, port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: every thread's stack to stderr
    print(f"py-checkout ({VARIANT}) listening on {host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
