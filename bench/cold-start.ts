/**
 * Section: cold start. Spawn → initialize → tools/list answered, for the
 * built CLI (esbuild bundle), the OpenAPI bridge (bench/peer.ts) and from
 * source, against spawning an empty `node -e ''`, in interleaved rounds of the
 * same run. The servers reach the in-process emulator (no real network).
 */
import { spawn } from 'node:child_process';
import { cleanEnv, DIST_ENTRY, PROJECT_ROOT, SOURCE_ENTRY } from '../test/helpers/spawn.js';
import { mulberry32 } from '../src/sandbox/seed.js';
import { fmtInt, fmtMs, fmtNum, median, table, type BenchContext, type Figure, type Section, shuffleInPlace } from './lib.js';
import { BRIDGE_BIN, BRIDGE_LABEL, bridgeArgs } from './peer.js';

export const COLD_START_BUDGET_MS = 300;

const INIT_MESSAGES = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-cold', version: '1' } } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
]
  .map((message) => `${JSON.stringify(message)}\n`)
  .join('');

export interface ToolsListAnswer {
  /** ms from spawn() to the answer on stdout. */
  ms: number;
  /** The tools/list `result` exactly as it came over the pipe (every key the server sent), re-serialised minified. */
  resultJson: string;
}

/** ms from spawn() to the tools/list answer on stdout; the process is then ended by closing stdin. */
function timeToToolsList(args: readonly string[], env: Record<string, string>): Promise<number> {
  return listOverStdio(args, env).then((answer) => answer.ms);
}

/** Spawns `node …args`, writes initialize + tools/list at once, and reads the answer raw (no SDK client parsing it). */
export function listOverStdio(args: readonly string[], env: Record<string, string>): Promise<ToolsListAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answeredAt: number | undefined;
    let resultJson = '';
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
          resultJson = JSON.stringify(message.result);
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
      if (answeredAt !== undefined) resolve({ ms: answeredAt - started, resultJson });
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

/** The start goal against the peer: spawn → tools/list ≤ this × the bridge's, medians of interleaved rounds. */
export const COLD_START_PEER_RATIO = 0.6;

export const coldStartSection: Section = {
  id: 'cold_start',
  title: 'Cold start',
  async run(ctx: BenchContext) {
    const dist = await ctx.ensureDist();
    if (!dist.present) throw new Error(`no dist/index.js to start (${dist.note})`);
    const runs = ctx.quick ? 1 : 15;
    const sourceRuns = ctx.quick ? 1 : 5;
    const upstream = { baseUrl: ctx.emulator.baseUrl, token: ctx.emulator.credentials.apiToken };
    const env = cleanEnv({
      CLOUDFLARE_API_TOKEN: upstream.token,
      CLOUDFLARE_ACCOUNT_ID: ctx.emulator.accountId,
      CLOUDFLARE_BASE_URL: upstream.baseUrl,
    });
    const bridgeEnv = cleanEnv();
    const bridge = bridgeArgs(upstream);

    const starts: { id: 'node' | 'dist' | 'bridge'; run(): Promise<number> }[] = [
      { id: 'node', run: () => timeEmptyNode(env) },
      { id: 'dist', run: () => timeToToolsList(DIST_ENTRY, env) },
      { id: 'bridge', run: () => timeToToolsList(bridge, bridgeEnv) },
    ];
    const samples = { node: [] as number[], dist: [] as number[], bridge: [] as number[] };
    const source: number[] = [];
    if (!ctx.quick) {
      // One unmeasured start of each, so every measured one finds the files in the OS cache.
      for (const start of starts) await start.run();
      await timeToToolsList(SOURCE_ENTRY, env);
    }
    ctx.progress(`cold start: ${runs} interleaved rounds of (node -e '', dist, the bridge), ${sourceRuns} × tsx`);
    const random = mulberry32(20261202); // fixed-seed shuffle: no start always follows the same neighbour
    const order = [...starts];
    for (let i = 0; i < runs; i++) {
      shuffleInPlace(order, random);
      for (const start of order) samples[start.id].push(await start.run());
      if (i < sourceRuns) source.push(await timeToToolsList(SOURCE_ENTRY, env));
    }

    const base = median(samples.node);
    const distMedian = median(samples.dist);
    const bridgeMedian = median(samples.bridge);
    const sourceMedian = median(source);
    const pass = distMedian - base <= COLD_START_BUDGET_MS;
    const peerRatio = distMedian / bridgeMedian;
    const peerPass = peerRatio <= COLD_START_PEER_RATIO;
    const figures: Figure[] = [
      {
        id: 'cold_start_vs_bridge',
        label: `\`node dist/index.js\`: spawn → tools/list answered, median of ${runs} interleaved rounds`,
        value: distMedian,
        unit: 'ms',
        baseline: { label: `${BRIDGE_LABEL}, same rounds`, value: bridgeMedian },
        ratio: peerRatio,
        goal: `≤ ${COLD_START_PEER_RATIO}× the bridge`,
        pass: peerPass,
        why: peerPass
          ? undefined
          : `dist/ answers tools/list in ${fmtMs(distMedian)} against the bridge's ${fmtMs(bridgeMedian)} (an empty Node start: ${fmtMs(base)}). ` +
            'Check that dist/ is the esbuild output (`npm run build`: the entry chunk must not import HTTP, the emulator or the shell commands) and ' +
            'profile with `node --cpu-prof dist/index.js`.',
      },
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
            'plus compiling the tools\' JSON Schemas before the first answer; measure with `node --cpu-prof dist/index.js` to see which.',
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
    const list = (values: number[]) => values.map((ms) => fmtInt(ms)).join(', ');
    const markdown = [
      'Each measured start: spawn the process, write `initialize`, `notifications/initialized` and `tools/list` to its stdin at once, ' +
        'stop the clock when the `tools/list` answer arrives on stdout, then close stdin (the CLI exits). ' +
        `Each round starts \`node -e ''\`, our \`dist/index.js\` and ${BRIDGE_LABEL} (\`${BRIDGE_BIN.replace(/.*node_modules\//, 'node_modules/')}\`, the same spec, emulator and token) ` +
        'once each, in a freshly shuffled order (fixed seed). ' +
        'Credentials and base URLs point at the in-process emulator; nothing leaves the machine (and tools/list needs no upstream call). ' +
        `${dist.note}.${ctx.quick ? '' : ' One unmeasured start of each first, to warm the OS file cache.'}`,
      '',
      table(
        ['command', 'median', 'Δ vs `node -e \'\'`', 'runs (ms)'],
        [
          ["`node -e ''` (baseline)", fmtMs(base), '—', list(samples.node)],
          ['`node dist/index.js`', fmtMs(distMedian), `+${fmtMs(distMedian - base)}`, list(samples.dist)],
          [`${BRIDGE_LABEL}`, fmtMs(bridgeMedian), `+${fmtMs(bridgeMedian - base)}`, list(samples.bridge)],
          ['`node --import tsx src/index.ts`', fmtMs(sourceMedian), `+${fmtMs(sourceMedian - base)}`, list(source)],
        ],
        ['l', 'r', 'r', 'l'],
      ),
      '',
      `Ours ÷ the bridge: ${fmtNum(peerRatio, 2)}× (start-up beyond an empty Node: ${fmtNum((distMedian - base) / (bridgeMedian - base), 2)}×).`,
    ].join('\n');
    return {
      markdown,
      figures,
      summary: {
        distNote: dist.note,
        baselineMs: samples.node,
        distMs: samples.dist,
        bridgeMs: samples.bridge,
        sourceMs: source,
        baselineMedian: base,
        distMedian,
        bridgeMedian,
        sourceMedian,
        ratioVsBridge: peerRatio,
      },
    };
  },
};
