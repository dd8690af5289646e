import type { SenderFactory } from './sender.js';
import { undiciBurstSender } from './undici-common.js';

/**
 * `barrier`: open and warm one connection per request (a request to the warm-up path on each), then hand
 * every request to its connection in one synchronous loop, in one event-loop tick. Removes connection
 * setup from the spread; each request still travels whole, so its last byte's arrival depends on how
 * fast the client writes N sockets one after another.
 */
export const barrier: SenderFactory = (options) => undiciBurstSender('barrier', options, { warm: true });
