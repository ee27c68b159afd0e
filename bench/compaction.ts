/**
 * Section: compaction. What the model reads (the tool result's text) against
 * what the API sent for the same request, fetched directly from the emulator.
 */
import { SANDBOX_ALICE } from '../src/sandbox/emulator.js';
import { textOf } from '../test/helpers/harness.js';
import { byteLength, fmtBytes, fmtNum, table, type BenchContext, type Figure, type Section } from './lib.js';

export interface Fixture {
  id: string;
  label: string;
  tool: string;
  args: Record<string, unknown>;
  /** Goal on trimmed ÷ pretty upstream; undefined = informational. */
  maxRatio?: number;
  goalName?: string;
}

export const FIXTURES: readonly Fixture[] = [
  { id: 'users_page', label: 'page of 50 users', tool: 'list_access_users', args: { per_page: 50 }, maxRatio: 0.5, goalName: 'lists' },
  { id: 'one_user', label: 'one user (alice)', tool: 'get_access_user', args: { user_id: SANDBOX_ALICE.id } },
  {
    id: 'active_session',
    label: 'one active session (alice, summary)',
    tool: 'get_active_session',
    args: { user_id: SANDBOX_ALICE.id, nonce: SANDBOX_ALICE.sessionNonce },
    maxRatio: 0.35,
    goalName: 'sessions',
  },
  { id: 'session_list', label: "alice's session list", tool: 'list_active_sessions', args: { user_id: SANDBOX_ALICE.id }, maxRatio: 0.5, goalName: 'lists' },
  { id: 'last_seen', label: "alice's last-seen identity", tool: 'get_last_seen_identity', args: { user_id: SANDBOX_ALICE.id } },
  { id: 'failed_logins', label: "alice's failed logins", tool: 'list_failed_logins', args: { user_id: SANDBOX_ALICE.id }, maxRatio: 0.5, goalName: 'lists' },
  { id: 'current_user', label: 'GET /user (token owner)', tool: 'get_current_user', args: {} },
];

export interface CompactionMeasure {
  fixture: Fixture;
  /** Path + query the server sent upstream. */
  upstreamUrl: string;
  trimmedBytes: number;
  prettyBytes: number;
  minifiedBytes: number;
  ofPretty: number;
  ofMinified: number;
}

/** One tool call, then the very request it made, repeated directly against the emulator. */
export async function measureFixture(ctx: BenchContext, fixture: Fixture): Promise<CompactionMeasure> {
  const before = ctx.emulator.requestCount();
  const result = await ctx.inProcess.call(fixture.tool, fixture.args);
  const text = textOf(result);
  if (result.isError) throw new Error(`${fixture.tool} failed: ${text}`);
  const sent = ctx.emulator.requestCount() - before;
  const upstreamUrl = ctx.emulator.requests.at(-1)?.url;
  if (sent !== 1 || upstreamUrl === undefined) throw new Error(`${fixture.tool}: expected exactly one upstream request, saw ${sent}`);
  const body = await ctx.direct.fetchJson(upstreamUrl);
  const trimmedBytes = byteLength(text);
  const prettyBytes = byteLength(JSON.stringify(body, null, 2));
  const minifiedBytes = byteLength(JSON.stringify(body));
  return {
    fixture,
    upstreamUrl,
    trimmedBytes,
    prettyBytes,
    minifiedBytes,
    ofPretty: trimmedBytes / prettyBytes,
    ofMinified: trimmedBytes / minifiedBytes,
  };
}

export const compactionSection: Section = {
  id: 'compaction',
  title: 'Compaction',
  async run(ctx) {
    const measures: CompactionMeasure[] = [];
    for (const fixture of FIXTURES) measures.push(await measureFixture(ctx, fixture));

    const figures: Figure[] = measures.map((m) => {
      const pass = m.fixture.maxRatio === undefined ? undefined : m.ofPretty <= m.fixture.maxRatio;
      const figure: Figure = {
        id: `compaction_${m.fixture.id}`,
        label: `${m.fixture.label}: trimmed text`,
        value: m.trimmedBytes,
        unit: 'bytes',
        baseline: { label: 'upstream, pretty', value: m.prettyBytes },
        ratio: m.ofPretty,
        goal: m.fixture.maxRatio === undefined ? undefined : `≤ ${m.fixture.maxRatio} of pretty (${m.fixture.goalName})`,
        pass,
      };
      if (pass === false) {
        figure.why =
          `${m.fixture.tool} returns ${fmtBytes(m.trimmedBytes)} for ${fmtBytes(m.prettyBytes)} of pretty upstream JSON ` +
          `(${fmtNum(m.ofPretty, 3)}; ${fmtNum(m.ofMinified, 3)} of minified): the trimmer keeps more than the goal allows for this shape; ` +
          'look at which keys survive in src/trim/records.ts / identity.ts for it.';
      }
      return figure;
    });

    const totalTrimmed = measures.reduce((sum, m) => sum + m.trimmedBytes, 0);
    const totalPretty = measures.reduce((sum, m) => sum + m.prettyBytes, 0);
    const totalMinified = measures.reduce((sum, m) => sum + m.minifiedBytes, 0);
    const markdown = [
      'Fixed emulator fixtures (default seed). Trimmed = bytes of the tool result\'s text content (what the model reads). ' +
        'Upstream = the whole V4 envelope the emulator returns for the very request the server sent (same path and query), ' +
        'fetched directly; pretty = `JSON.stringify(body, null, 2)`, minified = `JSON.stringify(body)`.',
      '',
      table(
        ['fixture', 'tool', 'upstream request', 'trimmed', 'pretty', 'minified', '÷ pretty', '÷ minified', 'goal'],
        [
          ...measures.map((m) => [
            m.fixture.label,
            `\`${m.fixture.tool}\``,
            `\`GET ${m.upstreamUrl.replace(/\/client\/v4/, '').replace(ctx.emulator.accountId, '{acct}').replace(SANDBOX_ALICE.id, '{alice}')}\``,
            fmtBytes(m.trimmedBytes),
            fmtBytes(m.prettyBytes),
            fmtBytes(m.minifiedBytes),
            fmtNum(m.ofPretty, 3),
            fmtNum(m.ofMinified, 3),
            m.fixture.maxRatio === undefined ? '—' : `≤ ${m.fixture.maxRatio}`,
          ]),
          ['**all seven**', '', '', fmtBytes(totalTrimmed), fmtBytes(totalPretty), fmtBytes(totalMinified), fmtNum(totalTrimmed / totalPretty, 3), fmtNum(totalTrimmed / totalMinified, 3), ''],
        ],
        ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
      ),
    ].join('\n');

    return {
      markdown,
      figures,
      summary: Object.fromEntries(
        measures.map((m) => [
          m.fixture.id,
          { tool: m.fixture.tool, trimmed: m.trimmedBytes, pretty: m.prettyBytes, minified: m.minifiedBytes, ofPretty: m.ofPretty, ofMinified: m.ofMinified },
        ]),
      ),
    };
  },
};
