/**
 * Child process of the workflows section (`node --import tsx bench/emulator-child.ts`, forked with an IPC
 * channel): the emulator on a core of its own, as Cloudflare is not in the server's process. With 5,000
 * users, answering a page costs the emulator CPU that, in the same process, would sit between the server's
 * own requests and hide what the fan-out does. Options come in BENCH_EMULATOR (JSON).
 *
 * Messages: it sends {kind: 'ready', baseUrl, accountId, token}; it answers {cmd: 'reset'} with
 * {kind: 'reset'} and {cmd: 'stats'} with {kind: 'stats', requests, maxInFlight}. It exits when the parent
 * disconnects.
 */
import { startEmulator, type EmulatorOptions } from '../src/sandbox/emulator.js';

export type ChildMessage =
  | { kind: 'ready'; baseUrl: string; accountId: string; token: string }
  | { kind: 'reset' }
  | { kind: 'stats'; requests: number; maxInFlight: number };

export type ParentMessage = { cmd: 'reset' } | { cmd: 'stats' };

const options = JSON.parse(process.env.BENCH_EMULATOR ?? '{}') as EmulatorOptions;
const emulator = await startEmulator({ ...options, host: '127.0.0.1' });
const send = (message: ChildMessage) => process.send?.(message);

process.on('message', (message: ParentMessage) => {
  if (message.cmd === 'reset') {
    emulator.resetRequests();
    send({ kind: 'reset' });
  } else if (message.cmd === 'stats') {
    send({ kind: 'stats', requests: emulator.requestCount(), maxInFlight: emulator.maxInFlight() });
  }
});
process.on('disconnect', () => {
  void emulator.close().then(() => process.exit(0));
});
send({ kind: 'ready', baseUrl: emulator.baseUrl, accountId: emulator.accountId, token: emulator.credentials.apiToken });
