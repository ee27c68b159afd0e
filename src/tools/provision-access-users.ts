/**
 * Onboard many people in two calls: plan (no writes: who would be created, renamed, or is already there),
 * then apply (the same plan, worked out again on the account as it is now, then carried out). A second
 * apply finds everyone unchanged and writes nothing.
 *
 * Writes run within the call's concurrency limit, with progress after each person; a create is retried only
 * on 429 (the client's rule), never after a 5xx or a lost answer, so nobody is created twice. One person's
 * failure is a row (status, Cloudflare code, why), not the end of the batch. Every write is audited on its
 * own line by the context.
 */
import { z } from 'zod';
import { batchOutput, trimBatch } from '../trim/index.js';
import { batchOf, countBy, duplicatesIgnoringCase, failureFacts, modeField, sortedBy, type FailureFacts, type Mode } from './batch.js';
import type { ToolContext } from './context.js';
import { defineTool, ToolInputError } from './define.js';
import { accountIdField, itemEmailField, nameField } from './fields.js';
import { ZERO_TRUST_USERS_WRITE } from './permissions.js';
import { lookupUsers, type KnownUser } from './resolve-user.js';

interface Person {
  email: string;
  name?: string | undefined;
}

type Action = 'create' | 'update' | 'unchanged' | 'ambiguous';

interface PlannedPerson extends Person {
  action: Action;
  existing?: KnownUser;
  /** ambiguous: the users sharing this email. */
  matches?: readonly KnownUser[];
}

type Outcome = 'created' | 'updated' | 'unchanged' | 'failed';

const PLAN_COLUMNS = ['email', 'action', 'id', 'name', 'current_name', 'reason'];
const APPLY_COLUMNS = ['email', 'result', 'id', 'name', 'status', 'code', 'reason'];
/** Rows most worth seeing come first, so a cut for the size limit drops the uneventful ones. */
const PLAN_ORDER: readonly Action[] = ['ambiguous', 'create', 'update', 'unchanged'];
const APPLY_ORDER: readonly Outcome[] = ['failed', 'created', 'updated', 'unchanged'];

const usersField = batchOf(
  z.object({ email: itemEmailField.describe('Email'), name: nameField.optional().describe('Name') }, { error: 'each user must be {email, name?}' }),
  'users must be an array of {email, name?}',
).describe('1-500 people');

function planFor(person: Person, matches: readonly KnownUser[]): PlannedPerson {
  const [existing, ...others] = matches;
  if (existing === undefined) return { ...person, action: 'create' };
  if (others.length > 0) return { ...person, action: 'ambiguous', matches };
  // Only a name that is given and differs is a change: leaving name out keeps whatever is there.
  const action = person.name !== undefined && person.name !== existing.name ? 'update' : 'unchanged';
  return { ...person, action, existing };
}

async function makePlan(ctx: ToolContext, accountId: string, users: readonly Person[]): Promise<PlannedPerson[]> {
  const directory = await lookupUsers(ctx, accountId, users.map((user) => user.email));
  return users.map((person) => planFor(person, directory.byEmail(person.email)));
}

function ambiguousReason(matches: readonly KnownUser[] | undefined): string {
  return `${matches?.length ?? 0} users have this email: ${(matches ?? []).map((user) => user.id).join(', ')}`;
}

function planRecord(person: PlannedPerson): Record<string, unknown> {
  return {
    email: person.email,
    action: person.action,
    id: person.existing?.id,
    name: person.action === 'unchanged' ? undefined : person.name,
    current_name: person.action === 'update' ? person.existing?.name : undefined,
    reason: person.action === 'ambiguous' ? ambiguousReason(person.matches) : undefined,
  };
}

interface Applied {
  email: string;
  result: Outcome;
  id?: string | undefined;
  name?: string | undefined;
  failure?: FailureFacts;
}

/** One person's write: create, rename, or nothing. A failure becomes the row, never the batch's end. */
async function applyOne(ctx: ToolContext, accountId: string, person: PlannedPerson): Promise<Applied> {
  const base = { email: person.email, id: person.existing?.id };
  try {
    switch (person.action) {
      case 'unchanged':
        return { ...base, result: 'unchanged' };
      case 'ambiguous':
        return { ...base, result: 'failed', failure: { reason: ambiguousReason(person.matches) } };
      case 'create': {
        const { result } = await ctx.api.createAccessUser(accountId, { email: person.email, name: person.name });
        return { ...base, result: 'created', id: typeof result?.id === 'string' ? result.id : undefined, name: person.name };
      }
      case 'update': {
        // Planned only for an existing user and a given name that differs. The PUT needs the current email
        // as Cloudflare spells it.
        const existing = person.existing!;
        const name = person.name!;
        await ctx.api.updateAccessUser(accountId, existing.id, { email: existing.email, name });
        return { ...base, result: 'updated', name };
      }
    }
  } catch (error) {
    return { ...base, result: 'failed', failure: failureFacts(error, person.action === 'create' ? 'create' : 'rename') };
  }
}

function appliedRecord(row: Applied): Record<string, unknown> {
  return { email: row.email, result: row.result, id: row.id, name: row.name, status: row.failure?.status, code: row.failure?.code, reason: row.failure?.reason };
}

export default defineTool({
  name: 'provision_access_users',
  title: 'Provision Zero Trust users',
  toolset: 'users',
  description:
    'Create or rename many users. mode plan (default) writes nothing: create/update/unchanged per person; apply does it: ' +
    'created/updated/unchanged/failed. Apply needs Zero Trust: Seats Write and write access to Zero Trust users.',
  permission: `Access: Audit Logs Read (plan); Zero Trust: Seats Write and ${ZERO_TRUST_USERS_WRITE} (apply)`,
  inputSchema: { account_id: accountIdField, users: usersField, mode: modeField },
  outputSchema: batchOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, users, mode = 'plan' }, ctx) {
    const duplicates = duplicatesIgnoringCase(users.map((user) => user.email));
    if (duplicates.length > 0) {
      throw new ToolInputError(`users lists the same email more than once (ignoring case): ${duplicates.join('; ')}. List each person once. Nothing was sent to Cloudflare.`);
    }
    const accountId = ctx.accountId(account_id);
    const plan = await makePlan(ctx, accountId, users);
    if (mode === 'plan') return planResult(plan, accountId, ctx);
    return applyPlan(plan, accountId, ctx);
  },
});

function planResult(plan: readonly PlannedPerson[], accountId: string, ctx: ToolContext) {
  const mode: Mode = 'plan';
  const writes = plan.filter((person) => person.action === 'create' || person.action === 'update').length;
  return trimBatch(
    {
      head: { mode, account_id: accountId, summary: countBy(plan, (person) => person.action), next: writes > 0 ? 'call again with mode: "apply"' : 'nothing to do' },
      records: sortedBy(plan, (person) => person.action, PLAN_ORDER).map(planRecord),
      columns: PLAN_COLUMNS,
      hint: 'Not every row fits: the summary counts them all; plan fewer people per call to see each.',
    },
    { maxChars: ctx.maxResponseChars },
  );
}

async function applyPlan(plan: readonly PlannedPerson[], accountId: string, ctx: ToolContext) {
  const total = plan.length;
  let done = plan.filter((person) => person.action === 'unchanged').length;
  const pending = plan.filter((person) => person.action !== 'unchanged');
  const settled = await ctx.fanOut(pending, async (person) => {
    const applied = await applyOne(ctx, accountId, person);
    done += 1;
    await ctx.progress(done, total, `${person.email}: ${applied.result}`);
    return applied;
  });
  const appliedByEmail = new Map<string, Applied>();
  settled.forEach((outcome, index) => {
    const person = pending[index]!;
    // applyOne never throws; a rejection here would be a bug, still reported per person.
    const applied: Applied = outcome.status === 'fulfilled' ? outcome.value : { email: person.email, result: 'failed', failure: failureFacts(outcome.reason, 'write') };
    appliedByEmail.set(person.email, applied);
  });
  const rows = plan.map((person) => appliedByEmail.get(person.email) ?? { email: person.email, result: 'unchanged' as const, id: person.existing?.id });
  const mode: Mode = 'apply';
  return trimBatch(
    {
      head: { mode, account_id: accountId, summary: countBy(rows, (row) => row.result) },
      records: sortedBy(rows, (row) => row.result, APPLY_ORDER).map(appliedRecord),
      columns: APPLY_COLUMNS,
      hint: 'Not every row fits: the summary counts them all; failed rows come first. Run mode plan to see what is left.',
    },
    { maxChars: ctx.maxResponseChars },
  );
}
