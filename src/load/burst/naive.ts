import type { SenderFactory } from './sender.js';
import { undiciBurstSender } from './undici-common.js';

/**
 * `naive`: what most tests do today (`Promise.all` over fresh requests). Nothing is opened in advance;
 * each request goes out as soon as its connection is established, so connection setup lands in the
 * arrival spread. Kept as the baseline the other modes are measured against.
 */
export const naive: SenderFactory = (options) => undiciBurstSender('naive', options);
