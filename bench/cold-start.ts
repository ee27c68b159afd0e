/**
 * Section: cold start. Spawn → initialize → tools/list answered, for the
 * built CLI and from source, against spawning an empty `node -e ''` in the
 * same run. The server reaches the in-process emulator (no real network).
 */
import { spawn } from 'node:child_process';
import { cleanEnv, DIST_ENTRY, PROJECT_ROOT, SOURCE_ENTRY } from '../test/helpers/spawn.js';
import { fmtInt, fmtMs, median, table, type BenchContext, type Figure, type Section } from './lib.js';

export const COLD_START_BUDGET_MS = 300;

const INIT_MESSAGES = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-cold', version: '1' } } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
]
  .map((message) => `${JSON.stringify(message)}\n`)
  .join('');

/** ms from spawn() to the tools/list answer on stdout; the process is then ended by closing stdin. */
function timeToToolsList(args: readonly string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answeredAt: number | undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdin.on('error', () => {});
    child.stdin.write(INIT_MESSAGES); // the server reads it as soon as it is listening
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (answeredAt !== undefined) return;
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        let message: { id?: unknown; result?: { tools?: unknown[] } };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          continue; // partial line
        }
        if (message.id === 2) {
          answeredAt = performance.now();
          if (!Array.isArray(message.result?.tools) || message.result.tools.length === 0) {
            reject(new Error(`tools/list answered without tools: ${line.slice(0, 200)}`));
          }
          child.stdin.end(); // end of session: the CLI shuts down
          break;
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      if (answeredAt !== undefined) resolve(answeredAt - started);
      else reject(new Error(`node ${args.join(' ')} exited (${String(code)}) before answering tools/list; stderr:\n${stderr.slice(0, 2000)}`));
    });
  });
}

/** ms from spawn() to exit of an empty Node process. */
function timeEmptyNode(env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', ''], { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - started));
  });
}

export const coldStartSection: Section = {
  id: 'cold_start',
  title: 'Cold start',
  async run(ctx: BenchContext) {
    const dist = await ctx.ensureDist();
    if (!dist.present) throw new Error(`no dist/index.js to start (${dist.note})`);
    const runs = ctx.quick ? 1 : 10;
    const sourceRuns = ctx.quick ? 1 : 5;
    const env = cleanEnv({
      CLOUDFLARE_API_TOKEN: ctx.emulator.credentials.apiToken,
      CLOUDFLARE_ACCOUNT_ID: ctx.emulator.accountId,
      CLOUDFLARE_BASE_URL: ctx.emulator.baseUrl,
    });

    const baseline: number[] = [];
    const built: number[] = [];
    const source: number[] = [];
    if (!ctx.quick) {
      // One unmeasured start of each, so every measured one finds the files in the OS cache.
      await timeEmptyNode(env);
      await timeToToolsList(DIST_ENTRY, env);
      await timeToToolsList(SOURCE_ENTRY, env);
    }
    ctx.progress(`cold start: ${runs} × (node -e '', dist) and ${sourceRuns} × tsx, alternating`);
    for (let i = 0; i < runs; i++) {
      // Alternate the order so neither always runs right after the other.
      if (i % 2 === 0) {
        baseline.push(await timeEmptyNode(env));
        built.push(await timeToToolsList(DIST_ENTRY, env));
      } else {
        built.push(await timeToToolsList(DIST_ENTRY, env));
        baseline.push(await timeEmptyNode(env));
      }
      if (i < sourceRuns) source.push(await timeToToolsList(SOURCE_ENTRY, env));
    }

    const base = median(baseline);
    const distMedian = median(built);
    const sourceMedian = median(source);
    const pass = distMedian - base <= COLD_START_BUDGET_MS;
    const figures: Figure[] = [
      {
        id: 'cold_start_dist',
        label: `\`node dist/index.js\`: spawn → tools/list answered, median of ${runs}`,
        value: distMedian,
        unit: 'ms',
        baseline: { label: `\`node -e ''\` spawn → exit, median of ${runs}`, value: base },
        ratio: distMedian / base,
        goal: `≤ baseline + ${COLD_START_BUDGET_MS} ms (here ≤ ${fmtMs(base + COLD_START_BUDGET_MS)})`,
        pass,
        why: pass
          ? undefined
          : `dist/ needs ${fmtMs(distMedian - base)} beyond an empty Node start (budget ${COLD_START_BUDGET_MS} ms): module loading of the SDK, zod and undici ` +
            'plus compiling ten tools\' JSON Schemas before the first answer; measure with `node --cpu-prof dist/index.js` to see which.',
      },
      {
        id: 'cold_start_source',
        label: `\`node --import tsx src/index.ts\` (from source), median of ${sourceRuns}`,
        value: sourceMedian,
        unit: 'ms',
        baseline: { label: `\`node -e ''\``, value: base },
        ratio: sourceMedian / base,
      },
    ];
    const list = (samples: number[]) => samples.map((ms) => fmtInt(ms)).join(', ');
    const markdown = [
      'Each measured start: spawn the process, write `initialize`, `notifications/initialized` and `tools/list` to its stdin at once, ' +
        'stop the clock when the `tools/list` answer arrives on stdout, then close stdin (the CLI exits). ' +
        'Credentials and `CLOUDFLARE_BASE_URL` point at the in-process emulator; nothing leaves the machine (and tools/list needs no upstream call). ' +
        `${dist.note}.${ctx.quick ? '' : ' One unmeasured start of each first, to warm the OS file cache.'}`,
      '',
      table(
        ['command', 'median', 'Δ vs `node -e \'\'`', 'runs (ms)'],
        [
          ["`node -e ''` (baseline)", fmtMs(base), '—', list(baseline)],
          ['`node dist/index.js`', fmtMs(distMedian), `+${fmtMs(distMedian - base)}`, list(built)],
          ['`node --import tsx src/index.ts`', fmtMs(sourceMedian), `+${fmtMs(sourceMedian - base)}`, list(source)],
        ],
        ['l', 'r', 'r', 'l'],
      ),
    ].join('\n');
    return {
      markdown,
      figures,
      summary: { distNote: dist.note, baselineMs: baseline, distMs: built, sourceMs: source, baselineMedian: base, distMedian, sourceMedian },
    };
  },
};
