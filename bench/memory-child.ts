/**
 * Child process of the memory section (run as `node --expose-gc --import tsx
 * bench/memory-child.ts`): the server in-process behind the SDK client, with
 * the emulator left in the parent so its request log does not count here.
 * Reads its settings from BENCH_MEMORY (JSON), prints one JSON line.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { SANDBOX_ALICE } from '../src/sandbox/emulator.js';
import { textOf } from '../test/helpers/harness.js';
import { startInProcess, type Upstream } from './setup.js';

export interface MemoryChildInput extends Upstream {
  warmup: number;
  calls: number;
  /** Memory is sampled (after a full GC) this many times during the measured calls. */
  samples: number;
}

export interface MemorySample {
  calls: number;
  rss: number;
  heapUsed: number;
  /** Bytes used in V8's old and code spaces. */
  oldUsed: number;
  codeUsed: number;
  /** heapUsed right after a single full GC, before finalizers had a turn. */
  heapUsedFirstGc: number;
}

export interface MemoryChildOutput {
  gcExposed: boolean;
  /** After the warm-up, before the measured calls. */
  before: MemorySample;
  after: MemorySample;
  trend: MemorySample[];
  elapsedMs: number;
  mix: string[];
}

const input = JSON.parse(process.env.BENCH_MEMORY ?? '{}') as MemoryChildInput;
const gc = (globalThis as { gc?: () => void }).gc;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Memory that is still reachable. One full GC is not enough: AbortSignal.timeout()
 * (one per Cloudflare call, src/cloudflare/client.ts) keeps a timer that is
 * cleared from a FinalizationRegistry callback only after its signal is
 * collected, so dead calls' timers and listeners outlive the first GC. Hence
 * full GC + a timer turn (finalizers run), four times, then measure. What a
 * single GC leaves is kept too (`heapUsedFirstGc`), to show that effect.
 */
async function sample(calls: number): Promise<MemorySample> {
  gc?.();
  const heapUsedFirstGc = process.memoryUsage().heapUsed;
  for (let i = 0; i < 4; i++) {
    await pause(10);
    gc?.();
  }
  const usage = process.memoryUsage();
  const spaces = new Map(getHeapSpaceStatistics().map((space) => [space.space_name, space]));
  return {
    calls,
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    oldUsed: spaces.get('old_space')?.space_used_size ?? 0,
    codeUsed: spaces.get('code_space')?.space_used_size ?? 0,
    heapUsedFirstGc,
  };
}

const server = await startInProcess(input);
const mix: [string, Record<string, unknown>][] = [
  ['get_access_user', { user_id: SANDBOX_ALICE.id }],
  ['list_access_users', { per_page: 50 }],
  ['get_active_session', { user_id: SANDBOX_ALICE.id, nonce: SANDBOX_ALICE.sessionNonce }],
  ['list_active_sessions', { user_id: SANDBOX_ALICE.id }],
];
const callOne = async (i: number) => {
  const [name, args] = mix[i % mix.length]!;
  const result = await server.call(name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
};

try {
  for (let i = 0; i < input.warmup; i++) await callOne(i);
  const before = await sample(0);
  const trend: MemorySample[] = [before];
  const every = Math.max(1, Math.floor(input.calls / input.samples));
  const started = performance.now();
  for (let i = 1; i <= input.calls; i++) {
    await callOne(i);
    if (i % every === 0 && i < input.calls) trend.push(await sample(i));
  }
  const elapsedMs = performance.now() - started;
  const after = await sample(input.calls);
  trend.push(after);
  const output: MemoryChildOutput = { gcExposed: gc !== undefined, before, after, trend, elapsedMs, mix: mix.map(([name]) => name) };
  process.stdout.write(`${JSON.stringify(output)}\n`);
} finally {
  await server.close();
}
