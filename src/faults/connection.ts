import type { Socket } from 'node:net';
import { type ActiveToxic, ToxicLink } from './link.js';
import { fork, type Random } from './random.js';
import type { Direction } from './toxics/config.js';

/**
 * One accepted client connection and its connection to the upstream, joined by two toxic links
 * (`upstream`: client → server, `downstream`: server → client).
 *
 * Closing follows the sockets: a half-close (FIN) is passed on through the link to the other side; when a
 * socket is gone entirely, the other one is closed once everything bound for it was written; a toxic's
 * `close()` closes both once its end reaches the socket; `reset()` sends RST both ways at once.
 */
export class ProxyConnection {
  readonly links: Readonly<Record<Direction, ToxicLink>>;
  /** Resolves when both sockets are closed. */
  readonly closed: Promise<void>;
  #closeRequested = false;
  #ended = new Set<Direction>();
  #applies = new Map<string, boolean>();
  #random: Random;

  constructor(
    /** 1-based, in accept order. */
    readonly id: number,
    readonly client: Socket,
    readonly server: Socket,
    random: Random,
    clock: () => number,
    onError: (error: unknown) => void,
  ) {
    this.#random = fork(random);
    const host = (r: Random) => ({
      random: r,
      clock,
      requestClose: () => {
        this.#closeRequested = true;
      },
      reset: () => this.reset(),
      fail: (error: unknown) => {
        onError(error);
        this.destroy();
      },
      onEnd: (d: Direction) => this.#onEnd(d),
    });
    this.links = {
      upstream: new ToxicLink('upstream', client, server, host(fork(this.#random))),
      downstream: new ToxicLink('downstream', server, client, host(fork(this.#random))),
    };
    const closedOne = (s: Socket) =>
      new Promise<void>((resolve) =>
        s.destroyed && s.closed ? resolve() : s.once('close', () => resolve()),
      );
    this.closed = Promise.all([closedOne(client), closedOne(server)]).then(() => {
      this.links.upstream.abort();
      this.links.downstream.abort();
    });
    this.#wire(client, this.links.upstream);
    this.#wire(server, this.links.downstream);
    // The upstream could not be reached: tell the client the hard way, as a refused connection would.
    let connected = false;
    server.once('connect', () => {
      connected = true;
    });
    server.once('error', () => {
      if (!connected) this.reset();
    });
  }

  /** Put a toxic on this connection's link(s), rolling its toxicity once per connection. */
  addToxic(t: ActiveToxic): void {
    let applies = this.#applies.get(t.name);
    if (applies === undefined) {
      applies = this.#random() < t.config.toxicity;
      this.#applies.set(t.name, applies);
    }
    const s = t.config.stream;
    if (s === 'upstream' || s === 'both') this.links.upstream.add(t, applies);
    if (s === 'downstream' || s === 'both') this.links.downstream.add(t, applies);
  }

  async removeToxic(name: string): Promise<void> {
    await Promise.all([this.links.upstream.remove(name), this.links.downstream.remove(name)]);
    this.#applies.delete(name);
  }

  /** Whether toxicity let this toxic apply to this connection (undefined: not on this connection). */
  applies(name: string): boolean | undefined {
    return this.#applies.get(name);
  }

  /** TCP RST to both peers now. */
  reset(): void {
    for (const s of [this.client, this.server]) {
      if (!s.destroyed) s.resetAndDestroy();
    }
    this.links.upstream.abort();
    this.links.downstream.abort();
  }

  /** Close both sockets gracefully (FIN), after what is queued for them was written. */
  close(): void {
    closeAfterWrites(this.client);
    closeAfterWrites(this.server);
  }

  /** Drop both sockets now (proxy shutdown). */
  destroy(): void {
    this.client.destroy();
    this.server.destroy();
    this.links.upstream.abort();
    this.links.downstream.abort();
  }

  #wire(source: Socket, link: ToxicLink): void {
    source.on('data', (b: Buffer) => link.push(b));
    source.on('end', () => link.pushEnd());
    source.on('close', () => link.pushEnd());
    source.on('error', () => {}); // reported through 'close'; RSTs are part of the job here
  }

  /** The end of `direction`'s stream reached its destination socket. */
  #onEnd(direction: Direction): void {
    if (this.#ended.has(direction)) return;
    this.#ended.add(direction);
    const [source, dest] = direction === 'upstream' ? [this.client, this.server] : [this.server, this.client];
    if (this.#closeRequested) this.close();
    else if (source.destroyed) closeAfterWrites(dest);
    else if (!dest.destroyed && !dest.writableEnded) dest.end();
  }
}

/** Close `s` once what is queued for it was written (FIN, then destroy); at once if it was. */
export function closeAfterWrites(s: Socket): void {
  if (s.destroyed) return;
  if (s.writableFinished) s.destroy();
  else if (s.writableEnded) s.once('finish', () => s.destroy());
  else s.end(() => s.destroy());
}
