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
`x-client-id` passed on.

An asyncio service, as aiohttp or FastAPI ones are: one thread, an event loop, retries that sleep in
timers, keep-alive connections to the provider reused from a pool. Standard library only (any
Python >= 3.9), so the few lines of HTTP/1.1 it speaks (Content-Length bodies, keep-alive) are here.
Env: PORT (3000), HOST (127.0.0.1), UPSTREAM_URL (required), VARIANT (buggy | fixed),
RETRY_BASE_MS (1000), RETRY_CAP_MS (4000), UPSTREAM_TIMEOUT_MS (10000).
"""

import asyncio
import json
import os
import random
import signal
import sys
import time
import urllib.parse

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
IDLE_S = 4.0  # reuse a provider connection idle at most this long (Node servers close them after 5 s)

upstream = urllib.parse.urlsplit(UPSTREAM_URL)
REASONS = {200: "OK", 404: "Not Found", 411: "Length Required", 502: "Bad Gateway"}


def backoff_s(retry):
    """Sleep before retry number `retry` (1-based), seconds."""
    exp = BASE_S * 2 ** (retry - 1)
    if VARIANT == "buggy":
        return exp  # the bug: every caller that failed together sleeps exactly this long
    return random.uniform(0, min(CAP_S, exp))


def parse_head(head):
    """(first line's parts, lower-cased headers) of an HTTP/1.1 message head."""
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return first.split(" ", 2), headers


class Provider:
    """The payment provider over keep-alive connections, reused last-in first-out (as aiohttp's
    connector does). A connection the provider closed while it sat idle is dropped before reuse."""

    def __init__(self):
        self.idle = []

    async def connection(self):
        while self.idle:
            reader, writer, since = self.idle.pop()
            if time.monotonic() - since < IDLE_S and not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return await asyncio.open_connection(upstream.hostname, upstream.port)

    async def charge(self, client_id, previous_attempts):
        """One call; returns its status, 0 when it failed without an answer."""
        body = b'{"amount": 4200}'
        head = (
            f"POST /charge HTTP/1.1\r\nhost: {upstream.netloc}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nx-retry-count: {previous_attempts}\r\n"
            + (f"x-client-id: {client_id}\r\n" if client_id else "")
            + "\r\n"
        )
        writer = None
        try:
            reader, writer = await asyncio.wait_for(self.connection(), TIMEOUT_S)
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
            (_, status, *_), headers = parse_head(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT_S))
            await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), TIMEOUT_S)
        except (OSError, EOFError, ValueError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            if writer is not None:
                writer.close()
            return 0
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer, time.monotonic()))
        return int(status)


provider = Provider()


async def checkout(client_id):
    attempts = 0
    while True:
        status = await provider.charge(client_id, attempts)
        attempts += 1
        # 2xx and 4xx are final; 5xx and no answer are worth retrying.
        if 200 <= status < 500 or attempts > MAX_RETRIES:
            return status, attempts
        await asyncio.sleep(backoff_s(attempts))


async def route(method, path, headers):
    if method == "GET" and path == "/health":
        return 200, {"ok": True}
    if method == "POST" and path == "/api/checkout":
        status, attempts = await checkout(headers.get("x-client-id"))
        if 200 <= status < 300:
            return 200, {"ok": True, "attempts": attempts}
        what = f"provider answered {status}" if status else "no answer from the provider"
        return 502, {"error": f"payment failed: {what}", "attempts": attempts}
    return 404, {"error": "not found"}


async def serve_connection(reader, writer):
    """Requests on one keep-alive connection, one after the other."""
    try:
        while True:
            (method, path, version), headers = parse_head(await reader.readuntil(b"\r\n\r\n"))
            if "transfer-encoding" in headers:
                status, body, close = 411, {"error": "send a Content-Length body"}, True
            else:
                await reader.readexactly(int(headers.get("content-length", "0")))
                status, body = await route(method, path, headers)
                close = version == "HTTP/1.0" or headers.get("connection", "").lower() == "close"
            data = json.dumps(body).encode()
            ending = "connection: close\r\n\r\n" if close else "\r\n"
            writer.write(
                f"HTTP/1.1 {status} {REASONS[status]}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(data)}\r\n{ending}".encode()
                + data
            )
            await writer.drain()
            if close:
                break
    except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass  # the caller hung up (timeout, end of the load) or sent something else than HTTP/1.1
    except asyncio.CancelledError:
        pass  # shutting down
    finally:
        writer.close()


async def main():
    port = int(os.environ.get("PORT", "3000"))
    host = os.environ.get("HOST", "127.0.0.1")
    server = await asyncio.start_server(serve_connection, host, port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f"py-checkout ({VARIANT}) listening on {host}:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
