/**
 * Offboard many people: plan (no writes: who would be removed, which references are unknown), then apply,
 * which deletes them under the one confirmation rule (./confirmation.ts), exactly as delete_access_user:
 * a client that can ask the person asks once for the whole batch, naming who goes; one that cannot needs
 * confirm: true, and without it nothing is sent, not even a lookup.
 *
 * Deletes run within the call's concurrency limit with progress after each person; a failure is that
 * person's row (status, Cloudflare code, why). Every delete is audited on its own line by the context.
 */
import { z } from 'zod';
import { batchOutput, trimBatch } from '../trim/index.js';
import { batchOf, countBy, duplicatesIgnoringCase, failureFacts, modeField, sortedBy, type FailureFacts, type Mode } from './batch.js';
import { requireConfirmation } from './confirmation.js';
import type { ToolContext } from './context.js';
import { defineTool, ToolInputError } from './define.js';
import { accountIdField, isUserUuid, userRefField } from './fields.js';
import { ZERO_TRUST_USERS_WRITE } from './permissions.js';
import { lookupUsers, type KnownUser } from './resolve-user.js';

type Action = 'delete' | 'unknown' | 'ambiguous' | 'repeat';

interface Planned {
  ref: string;
  action: Action;
  user?: KnownUser;
  reason?: string;
}

type Outcome = 'deleted' | 'unknown' | 'failed' | 'repeat';

interface Done {
  ref: string;
  result: Outcome;
  user?: KnownUser | undefined;
  failure?: FailureFacts;
  note?: string;
}

const PLAN_COLUMNS = ['ref', 'action', 'id', 'email', 'name', 'reason'];
const APPLY_COLUMNS = ['ref', 'result', 'id', 'email', 'status', 'code', 'reason'];
const PLAN_ORDER: readonly Action[] = ['ambiguous', 'unknown', 'delete', 'repeat'];
const APPLY_ORDER: readonly Outcome[] = ['failed', 'deleted', 'unknown', 'repeat'];
/** People named in the confirmation question; the rest are counted. */
const NAMED_IN_QUESTION = 20;

const usersField = batchOf(userRefField('item', { inList: true }), 'users must be an array of user UUIDs or emails').describe('1-500 UUIDs or emails');

async function makePlan(ctx: ToolContext, accountId: string, refs: readonly string[]): Promise<Planned[]> {
  const directory = await lookupUsers(ctx, accountId, refs);
  const seen = new Set<string>();
  return refs.map((ref): Planned => {
    const matches = isUserUuid(ref) ? [directory.byId(ref)].filter((user): user is KnownUser => user !== undefined) : directory.byEmail(ref);
    const [user, ...others] = matches;
    if (user === undefined) return { ref, action: 'unknown', reason: isUserUuid(ref) ? 'no user with this id' : 'no user with this email' };
    if (others.length > 0) return { ref, action: 'ambiguous', reason: `${matches.length} users have this email: ${matches.map((match) => match.id).join(', ')}` };
    // The same person named twice (by id and by email): deleted once.
    if (seen.has(user.id)) return { ref, action: 'repeat', user, reason: 'named earlier in users' };
    seen.add(user.id);
    return { ref, action: 'delete', user };
  });
}

function question(plan: readonly Planned[], accountId: string): string {
  const going = plan.filter((person) => person.action === 'delete');
  const named = going.slice(0, NAMED_IN_QUESTION).map((person) => person.user!.email);
  const more = going.length - named.length;
  return (
    `Delete ${going.length} Zero Trust user${going.length === 1 ? '' : 's'} from account ${accountId}: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}? ` +
    'This revokes their seats and sessions and cannot be undone.'
  );
}

function planResult(plan: readonly Planned[], accountId: string, ctx: ToolContext) {
  const mode: Mode = 'plan';
  const deletes = plan.filter((person) => person.action === 'delete').length;
  return trimBatch(
    {
      head: { mode, account_id: accountId, summary: countBy(plan, (person) => person.action), next: deletes > 0 ? 'call again with mode: "apply"' : 'nothing to do' },
      records: sortedBy(plan, (person) => person.action, PLAN_ORDER).map((person) => ({
        ref: person.ref,
        action: person.action,
        id: person.user?.id,
        email: person.user && person.user.email !== person.ref ? person.user.email : undefined,
        name: person.user?.name,
        reason: person.reason,
      })),
      columns: PLAN_COLUMNS,
      hint: 'Not every row fits: the summary counts them all; plan fewer people per call to see each.',
    },
    { maxChars: ctx.maxResponseChars },
  );
}

/** A person the plan does not delete: unknown, named twice, or ambiguous (which is a failure: they asked for it). */
function notDeleted(person: Planned): Done {
  const result: Outcome = person.action === 'ambiguous' ? 'failed' : person.action === 'repeat' ? 'repeat' : 'unknown';
  return { ref: person.ref, result, user: person.user, ...(person.reason ? { failure: { reason: person.reason } } : {}) };
}

async function deleteOne(ctx: ToolContext, accountId: string, person: Planned): Promise<Done> {
  try {
    const response = await ctx.api.deleteAccessUser(accountId, person.user!.id);
    return { ref: person.ref, result: 'deleted', user: person.user, note: response.deletedOnRetry ? 'first answer lost; a retry found the user gone' : undefined };
  } catch (error) {
    return { ref: person.ref, result: 'failed', user: person.user, failure: failureFacts(error, 'delete') };
  }
}

async function applyPlan(plan: readonly Planned[], accountId: string, ctx: ToolContext) {
  const deleting = plan.filter((person) => person.action === 'delete');
  let done = 0;
  const settled = await ctx.fanOut(deleting, async (person) => {
    const outcome = await deleteOne(ctx, accountId, person);
    done += 1;
    await ctx.progress(done, deleting.length, `${person.user?.email ?? person.ref}: ${outcome.result}`);
    return outcome;
  });
  const byRef = new Map<Planned, Done>();
  settled.forEach((outcome, index) => {
    const person = deleting[index]!;
    byRef.set(person, outcome.status === 'fulfilled' ? outcome.value : { ref: person.ref, result: 'failed', user: person.user, failure: failureFacts(outcome.reason, 'delete') });
  });
  const rows = plan.map((person) => byRef.get(person) ?? notDeleted(person));
  const mode: Mode = 'apply';
  return trimBatch(
    {
      head: { mode, account_id: accountId, summary: countBy(rows, (row) => row.result) },
      records: sortedBy(rows, (row) => row.result, APPLY_ORDER).map((row) => ({
        ref: row.ref,
        result: row.result,
        id: row.user?.id,
        email: row.user && row.user.email !== row.ref ? row.user.email : undefined,
        status: row.failure?.status,
        code: row.failure?.code,
        reason: row.failure?.reason ?? row.note,
      })),
      columns: APPLY_COLUMNS,
      hint: 'Not every row fits: the summary counts them all; failed rows come first. Run mode plan to see who is left.',
    },
    { maxChars: ctx.maxResponseChars },
  );
}

export default defineTool({
  name: 'offboard_access_users',
  title: 'Offboard Zero Trust users',
  toolset: 'users',
  description:
    'Delete many users. mode plan (default) lists who would go and who is unknown; apply deletes them, confirmed as for ' +
    'delete_access_user. Irreversible. Apply needs write access to Zero Trust users.',
  permission: `Access: Audit Logs Read (plan); ${ZERO_TRUST_USERS_WRITE} (apply)`,
  inputSchema: {
    account_id: accountIdField,
    users: usersField,
    mode: modeField,
    confirm: z.boolean({ error: 'confirm must be true or false' }).optional().describe('true once the person agreed'),
  },
  outputSchema: batchOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, users, mode = 'plan', confirm }, ctx) {
    const duplicates = duplicatesIgnoringCase(users);
    if (duplicates.length > 0) {
      throw new ToolInputError(`users names the same user more than once (ignoring case): ${duplicates.join('; ')}. List each person once. Nothing was sent to Cloudflare.`);
    }
    const accountId = ctx.accountId(account_id);
    if (mode === 'plan') return planResult(await makePlan(ctx, accountId, users), accountId, ctx);

    // With someone to ask, the plan comes first: the question names who goes, and nobody is asked about
    // nothing. Without, the refusal comes first and costs no request.
    let plan = ctx.canAsk ? await makePlan(ctx, accountId, users) : undefined;
    if (plan && !plan.some((person) => person.action === 'delete')) return applyPlan(plan, accountId, ctx);
    await requireConfirmation(ctx, {
      async question() {
        plan ??= await makePlan(ctx, accountId, users);
        return question(plan, accountId);
      },
      confirmFlag: confirm,
      notDone: 'Nobody was deleted.',
      wouldDo: `This would permanently delete ${users.length} Zero Trust user reference${users.length === 1 ? '' : 's'} from account ${accountId} and revoke their seats and tokens.`,
      checkFirst: 'Check the list with mode: "plan", then call offboard_access_users again with mode: "apply" and confirm: true.',
    });
    plan ??= await makePlan(ctx, accountId, users);
    return applyPlan(plan, accountId, ctx);
  },
});
