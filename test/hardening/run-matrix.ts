/**
 * Runs one cell of the fault matrix (one fault × one tool kind) against the
 * emulator through the real MCP server, client, retry policy and undici, and
 * reports what was observed. Shared by test/fault-matrix.test.ts and
 * scripts/reliability.ts, so the doc and the test see the same behaviour.
 */
import { DEFAULT_RETRY_POLICY } from '../../src/cloudflare/retry.js';
import { SANDBOX_ALICE } from '../../src/sandbox/emulator.js';
import { startHarness, textOf, type Harness } from '../helpers/harness.js';
import {
  DEFAULT_CAP_BYTES,
  KIND_TOOL,
  MATRIX_BODY_TIMEOUT_MS,
  MATRIX_HEADERS_TIMEOUT_MS,
  MAX_RSS_GROWTH_BYTES,
  SMALL_CAP_BYTES,
  TOOL_KINDS,
  type Expectation,
  type FaultCase,
  type ToolKind,
} from './matrix.js';

export interface MatrixHarnesses {
  /** 64 KB response cap, 300 ms headers/body timeouts. */
  small: Harness;
  /** Same emulator, the default 10 MB response cap. */
  defaultCap: Harness;
  close(): Promise<void>;
}

export async function startMatrixHarnesses(): Promise<MatrixHarnesses> {
  const timeouts = { headersTimeoutMs: MATRIX_HEADERS_TIMEOUT_MS, bodyTimeoutMs: MATRIX_BODY_TIMEOUT_MS };
  const small = await startHarness({ ...timeouts, maxResponseBytes: SMALL_CAP_BYTES });
  const defaultCap = await startHarness({ ...timeouts, sharedEmulator: small.emulator });
  return {
    small,
    defaultCap,
    async close() {
      await defaultCap.close();
      await small.close();
    },
  };
}

export interface Observation {
  caseId: string;
  kind: ToolKind;
  tool: string;
  outcome: 'ok' | 'error';
  text: string;
  /** Requests with the tool's method. */
  attempts: number;
  /** Requests with any other method (must be 0). */
  otherRequests: number;
  waits: number[];
  totalWaitMs: number;
  /** Fake-clock now() when the fault was injected (for Retry-After dates). */
  injectedAtMs: number;
  /** See Expectation.applied; undefined for GET. */
  applied: boolean | undefined;
  /** The next call (a plain get_access_user, faults cleared) succeeded with one request. */
  nextCallOk: boolean;
  /** Real time the faulted call took. */
  elapsedMs: number;
  /** Peak RSS growth during the call (default-cap cases only). */
  rssGrowthBytes?: number;
}

let sequence = 0;

/** Samples RSS every few ms while `work` runs; resolves with its value and the peak growth. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, growth: peak - baseline };
  } finally {
    clearInterval(timer);
  }
}

export async function runCell(harnesses: MatrixHarnesses, faultCase: FaultCase, kind: ToolKind): Promise<Observation> {
  const h = faultCase.harness === 'default-cap' ? harnesses.defaultCap : harnesses.small;
  const { emulator } = h;
  const seq = ++sequence;
  const tool = KIND_TOOL[kind];
  emulator.clearFaults();

  // Arguments, and a fresh user for DELETE (created before counting starts).
  let args: Record<string, unknown>;
  let applied: () => boolean | undefined;
  switch (kind) {
    case 'GET':
      args = { user_id: SANDBOX_ALICE.id };
      applied = () => undefined;
      break;
    case 'POST': {
      const email = `matrix.${faultCase.id}.${seq}@corp.example`;
      args = { email, name: `Matrix ${seq}` };
      applied = () => [...emulator.state.users.values()].some((user) => user.email === email);
      break;
    }
    case 'PUT': {
      const name = `Alice ${faultCase.id} ${seq}`;
      args = { user_id: SANDBOX_ALICE.id, email: SANDBOX_ALICE.email, name };
      applied = () => emulator.state.users.get(SANDBOX_ALICE.id)?.name === name;
      break;
    }
    case 'DELETE': {
      const created = await h.call('create_access_user', { email: `matrix.delete.${faultCase.id}.${seq}@corp.example` });
      if (created.isError) throw new Error(`setup: could not create a user to delete: ${textOf(created)}`);
      const id = String((created.structuredContent as { id: unknown }).id);
      args = { user_id: id, confirm: true };
      applied = () => !emulator.state.users.has(id);
      break;
    }
  }

  emulator.resetRequests();
  h.clock.sleeps.length = 0;
  const injectedAtMs = h.clock.now();
  emulator.inject({ fault: faultCase.fault(injectedAtMs), times: faultCase.times, method: kind });

  const started = performance.now();
  const measured = faultCase.harness === 'default-cap' ? await withPeakRss(() => h.call(tool, args)) : { value: await h.call(tool, args), growth: undefined };
  const elapsedMs = Math.round(performance.now() - started);
  const result = measured.value;

  const attempts = emulator.requests.filter((request) => request.method === kind).length;
  const otherRequests = emulator.requests.length - attempts;
  const waits = [...h.clock.sleeps];

  // The next call, faults cleared, must be answered normally with a single request.
  emulator.clearFaults();
  emulator.resetRequests();
  const next = await h.call('get_access_user', { user_id: SANDBOX_ALICE.id });
  const nextCallOk = !next.isError && (next.structuredContent as { id?: unknown } | undefined)?.id === SANDBOX_ALICE.id && emulator.requests.length === 1;

  return {
    caseId: faultCase.id,
    kind,
    tool,
    outcome: result.isError ? 'error' : 'ok',
    text: textOf(result),
    attempts,
    otherRequests,
    waits,
    totalWaitMs: waits.reduce((sum, ms) => sum + ms, 0),
    injectedAtMs,
    applied: applied(),
    nextCallOk,
    elapsedMs,
    ...(measured.growth !== undefined ? { rssGrowthBytes: measured.growth } : {}),
  };
}

export function expectedWaits(expectation: Expectation, injectedAtMs: number): readonly number[] {
  return typeof expectation.waits === 'function' ? expectation.waits(injectedAtMs) : expectation.waits;
}

/** Every way an observation differs from its expectation; empty when it matches. */
export function checkObservation(observation: Observation, faultCase: FaultCase): string[] {
  const expectation = faultCase.expect[observation.kind];
  const problems: string[] = [];
  if (observation.outcome !== expectation.outcome) problems.push(`outcome ${observation.outcome}, expected ${expectation.outcome}`);
  if (expectation.message && !expectation.message.test(observation.text)) {
    problems.push(`text ${JSON.stringify(observation.text.slice(0, 400))} does not match ${expectation.message}`);
  }
  if (observation.attempts !== expectation.attempts) problems.push(`${observation.attempts} ${observation.kind} requests, expected ${expectation.attempts}`);
  if (observation.otherRequests !== 0) problems.push(`${observation.otherRequests} requests with another method`);
  const waits = expectedWaits(expectation, observation.injectedAtMs);
  if (JSON.stringify(observation.waits) !== JSON.stringify(waits)) problems.push(`waits ${JSON.stringify(observation.waits)}, expected ${JSON.stringify(waits)}`);
  if (observation.totalWaitMs > DEFAULT_RETRY_POLICY.maxTotalWaitMs) problems.push(`waited ${observation.totalWaitMs} ms, over the ${DEFAULT_RETRY_POLICY.maxTotalWaitMs} ms budget`);
  if (observation.kind !== 'GET' && observation.applied !== expectation.applied) {
    problems.push(`side effect ${observation.applied ? 'happened' : 'did not happen'}, expected it ${expectation.applied ? 'to' : 'not to'}`);
  }
  if (!observation.nextCallOk) problems.push('the next call was not answered normally');
  if (observation.rssGrowthBytes !== undefined && observation.rssGrowthBytes > MAX_RSS_GROWTH_BYTES) {
    problems.push(`RSS grew ${(observation.rssGrowthBytes / 1024 / 1024).toFixed(1)} MB, over ${MAX_RSS_GROWTH_BYTES / 1024 / 1024} MB`);
  }
  return problems;
}

export interface MatrixRow {
  faultCase: FaultCase;
  cells: Record<ToolKind, { observation: Observation; problems: string[] }>;
}

export async function runMatrix(harnesses: MatrixHarnesses, cases: readonly FaultCase[]): Promise<MatrixRow[]> {
  const rows: MatrixRow[] = [];
  for (const faultCase of cases) {
    const cells = {} as MatrixRow['cells'];
    for (const kind of TOOL_KINDS) {
      const observation = await runCell(harnesses, faultCase, kind);
      cells[kind] = { observation, problems: checkObservation(observation, faultCase) };
    }
    rows.push({ faultCase, cells });
  }
  return rows;
}

// ---------------------------------------------------------------------------
// RELIABILITY.md

function cell(observation: Observation, problems: string[]): string {
  let outcome: string;
  if (observation.outcome === 'ok') {
    outcome = /first response was lost/.test(observation.text) ? 'ok (deleted on retry)' : observation.attempts > 1 ? 'ok (retried)' : 'ok';
  } else {
    outcome = 'isError';
    if (observation.kind !== 'GET' && observation.applied) outcome += observation.kind === 'POST' ? ', user was created' : ', change was applied';
  }
  const wait = observation.totalWaitMs === 0 ? '0 s' : `${(observation.totalWaitMs / 1000).toFixed(observation.totalWaitMs % 1000 === 0 ? 0 : 3)} s`;
  const flag = problems.length > 0 ? ' ⚠️' : '';
  return `${observation.outcome === 'ok' ? '✅' : '❌'} ${outcome} · ${observation.attempts} ${observation.attempts === 1 ? 'attempt' : 'attempts'} · wait ${wait}${flag}`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderReliability(rows: readonly MatrixRow[], generatedAt: Date): string {
  const cells = rows.flatMap((row) => TOOL_KINDS.map((kind) => row.cells[kind]));
  const mismatches = cells.filter((c) => c.problems.length > 0);
  const lines: string[] = [
    '# Reliability: fault-injection matrix',
    '',
    `Generated by \`npx tsx scripts/reliability.ts\` on ${generatedAt.toISOString().slice(0, 10)} (${generatedAt.toISOString()}), ` +
      'from observed behaviour, not from the expectations: each fault below was injected into the local Cloudflare API emulator ' +
      '(`src/sandbox/`, on a 127.0.0.1 port) and one tool call was made through the real MCP server, `CloudflareClient`, retry policy ' +
      'and undici. Do not edit by hand; re-run the script. The same table (`test/hardening/matrix.ts`) drives `test/fault-matrix.test.ts`, ' +
      'which asserts the expected outcome of every cell, and a test checks this file names every fault.',
    '',
    `Settings: retry policy ${DEFAULT_RETRY_POLICY.maxAttempts} attempts, backoff ${DEFAULT_RETRY_POLICY.baseDelayMs} ms doubling (equal jitter) up to ` +
      `${DEFAULT_RETRY_POLICY.maxDelayMs / 1000} s, wait budget ${DEFAULT_RETRY_POLICY.maxTotalWaitMs / 1000} s; headers/body timeouts ` +
      `${MATRIX_HEADERS_TIMEOUT_MS} ms (production: 30 s); response cap ${SMALL_CAP_BYTES / 1024} KB, except the 11 MB row (default ` +
      `${DEFAULT_CAP_BYTES / 1024 / 1024} MB cap). Waits are the retry waits asked for, recorded by an injected clock (jitter fixed at its midpoint), ` +
      'not slept.',
    '',
    'Tools: GET = `get_access_user`, POST = `create_access_user`, PUT = `update_access_user` (alice, her current email), ' +
      'DELETE = `delete_access_user` with `confirm: true` on a freshly created user. "attempts" counts the requests the emulator received; ' +
      'after every cell the next call was answered normally unless marked.',
    '',
    '| Fault | GET | POST | PUT | DELETE |',
    '|---|---|---|---|---|',
  ];
  for (const row of rows) {
    lines.push(`| ${escapeCell(row.faultCase.label)} | ${TOOL_KINDS.map((kind) => cell(row.cells[kind].observation, row.cells[kind].problems)).join(' | ')} |`);
  }
  lines.push('', '## What the user is told', '', 'The isError text (or the result, for DELETE notes) each cell produced, as observed.', '');
  for (const row of rows) {
    const texts = new Map<string, ToolKind[]>();
    for (const kind of TOOL_KINDS) {
      const { observation } = row.cells[kind];
      if (observation.outcome === 'ok' && !/first response was lost/.test(observation.text)) continue;
      // Per-call values (emails, Retry-After dates) would make identical texts look different.
      const text = observation.text
        .replace(/matrix\.[\w.-]+@corp\.example/g, '<email>')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<user_id>');
      texts.set(text, [...(texts.get(text) ?? []), kind]);
    }
    if (texts.size === 0) continue;
    lines.push(`- **${row.faultCase.label}**`);
    for (const [text, kinds] of texts) lines.push(`  - ${kinds.join(', ')}: ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`);
  }
  const rss = rows.flatMap((row) => TOOL_KINDS.map((kind) => row.cells[kind].observation)).filter((o) => o.rssGrowthBytes !== undefined);
  if (rss.length > 0) {
    lines.push('', '## Memory', '');
    for (const o of rss) lines.push(`- ${o.kind} ${o.caseId}: peak RSS growth ${((o.rssGrowthBytes ?? 0) / 1024 / 1024).toFixed(1)} MB (limit ${MAX_RSS_GROWTH_BYTES / 1024 / 1024} MB)`);
  }
  lines.push('', '## Differences from the expected behaviour', '');
  if (mismatches.length === 0) {
    lines.push('None: every cell behaved as `test/hardening/matrix.ts` expects.');
  } else {
    lines.push(`${mismatches.length} of ${cells.length} cells (marked ⚠️) differ from \`test/hardening/matrix.ts\`; \`test/fault-matrix.test.ts\` fails on them:`, '');
    for (const c of mismatches) lines.push(`- ${c.observation.kind} × ${c.observation.caseId}: ${c.problems.join('; ')}`);
  }
  lines.push('');
  return lines.join('\n');
}
