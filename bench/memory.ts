/**
 * Section: memory. RSS and heapUsed of the in-process server before and after
 * many tool calls, after a warm-up, in a child Node process with --expose-gc
 * (bench/memory-child.ts). The emulator stays in this process, so its
 * request log is not counted against the server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cleanEnv, PROJECT_ROOT } from '../test/helpers/spawn.js';
import { fmtInt, fmtMs, fmtNum, table, type Figure, type Section } from './lib.js';
import type { MemoryChildInput, MemoryChildOutput } from './memory-child.js';

export const MEMORY_GOAL_GROWTH = 0.1;

const mb = (bytes: number) => bytes / 1024 / 1024;

export const memorySection: Section = {
  id: 'memory',
  title: 'Memory',
  async run(ctx) {
    const input: MemoryChildInput = {
      baseUrl: ctx.emulator.baseUrl,
      token: ctx.emulator.credentials.apiToken,
      accountId: ctx.emulator.accountId,
      warmup: ctx.quick ? 100 : 1_000,
      calls: ctx.quick ? 400 : 10_000,
      samples: 5,
    };
    ctx.progress(`memory: child process, ${fmtInt(input.warmup)} warm-up + ${fmtInt(input.calls)} measured calls`);
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/memory-child.ts'], {
      cwd: PROJECT_ROOT,
      env: cleanEnv({ BENCH_MEMORY: JSON.stringify(input) }),
      timeout: 150_000,
      maxBuffer: 1024 * 1024,
    });
    const output = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as MemoryChildOutput;
    const { before, after } = output;
    const rssRatio = after.rss / before.rss;
    const heapRatio = after.heapUsed / before.heapUsed;
    const goal = `growth ≤ ${MEMORY_GOAL_GROWTH * 100}% (ratio ≤ ${fmtNum(1 + MEMORY_GOAL_GROWTH, 2)})`;
    const trendText = output.trend.map((s) => `${fmtInt(s.calls)}: ${fmtNum(mb(s.heapUsed), 1)}`).join(', ');
    const oldGrowth = mb(after.oldUsed - before.oldUsed);
    const codeGrowth = mb(after.codeUsed - before.codeUsed);
    const why = (what: string, ratio: number) =>
      `${what} grew ${fmtNum((ratio - 1) * 100, 1)}% over ${fmtInt(input.calls)} calls after a ${fmtInt(input.warmup)}-call warm-up` +
      `${output.gcExposed ? '' : ' (gc was not exposed: samples include garbage)'}; heapUsed MB by calls: ${trendText}; ` +
      `old space ${oldGrowth >= 0 ? '+' : ''}${fmtNum(oldGrowth, 2)} MB, code space ${codeGrowth >= 0 ? '+' : ''}${fmtNum(codeGrowth, 2)} MB. ` +
      'A steady climb across the samples means something is retained per call; a single step early on means a cache or JIT code filling once.';
    const figures: Figure[] = [
      {
        id: 'memory_rss',
        label: `RSS after ${fmtInt(input.calls)} calls`,
        value: mb(after.rss),
        unit: 'MB',
        baseline: { label: `after ${fmtInt(input.warmup)}-call warm-up`, value: mb(before.rss) },
        ratio: rssRatio,
        goal,
        pass: rssRatio <= 1 + MEMORY_GOAL_GROWTH,
        why: rssRatio <= 1 + MEMORY_GOAL_GROWTH ? undefined : why('RSS', rssRatio),
      },
      {
        id: 'memory_heap_used',
        label: `heapUsed after ${fmtInt(input.calls)} calls`,
        value: mb(after.heapUsed),
        unit: 'MB',
        baseline: { label: `after ${fmtInt(input.warmup)}-call warm-up`, value: mb(before.heapUsed) },
        ratio: heapRatio,
        goal,
        pass: heapRatio <= 1 + MEMORY_GOAL_GROWTH,
        why: heapRatio <= 1 + MEMORY_GOAL_GROWTH ? undefined : why('heapUsed', heapRatio),
      },
    ];
    const markdown = [
      `A child \`node --expose-gc --import tsx bench/memory-child.ts\` runs the server in-process behind the SDK client (real clock, CLI undici settings) ` +
        `against this run's emulator, and calls ${output.mix.map((name) => `\`${name}\``).join(', ')} in turn: ` +
        `${fmtInt(input.warmup)} warm-up calls, then ${fmtInt(input.calls)} measured calls in ${fmtMs(output.elapsedMs)} (samples included). ` +
        (output.gcExposed
          ? 'Each sample is taken once only reachable memory is left: a full GC, then four rounds of a 10 ms timer turn (FinalizationRegistry callbacks run) and another full GC. ' +
            'The last column is heapUsed right after the first GC alone: the difference is garbage whose release waits for a finalizer, ' +
            'such as the timer of each call\'s `AbortSignal.timeout()` deadline (src/cloudflare/client.ts), which Node clears from a finalizer once the signal is collected ' +
            '(undici keeps an abort listener on the signal until then). Without the finalizer turns, samples swing by several MB with GC timing.'
          : 'gc was not exposed, so samples include garbage.'),
      '',
      table(
        ['calls after warm-up', 'RSS (MB)', 'heapUsed (MB)', 'old space (MB)', 'code space (MB)', 'heapUsed after one GC only (MB)'],
        output.trend.map((s) => [
          fmtInt(s.calls),
          fmtNum(mb(s.rss), 1),
          fmtNum(mb(s.heapUsed), 2),
          fmtNum(mb(s.oldUsed), 2),
          fmtNum(mb(s.codeUsed), 2),
          fmtNum(mb(s.heapUsedFirstGc), 2),
        ]),
        ['r', 'r', 'r', 'r', 'r', 'r'],
      ),
    ].join('\n');
    return { markdown, figures, summary: { ...output, warmup: input.warmup, calls: input.calls, rssRatio, heapRatio } };
  },
};
