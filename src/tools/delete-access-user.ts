import { z } from 'zod';
import { requireConfirmation } from './confirmation.js';
import { defineTool } from './define.js';
import { accountIdField, userIdField } from './fields.js';
import { resolveUser, type ResolvedUser } from './resolve-user.js';
import { ZERO_TRUST_USERS_WRITE, ZERO_TRUST_USERS_WRITE_SHORT } from './permissions.js';

const deletedOutput = z.object({ deleted: z.boolean(), id: z.string(), note: z.string().optional() });

export default defineTool({
  name: 'delete_access_user',
  title: 'Delete a Zero Trust user',
  toolset: 'users',
  description:
    'Delete a Zero Trust user, revoking seats and tokens; irreversible. ' +
    'Asks the person to confirm when the client can; else needs confirm: true (without it nothing is sent). ' +
    `Needs ${ZERO_TRUST_USERS_WRITE_SHORT}.`,
  permission: ZERO_TRUST_USERS_WRITE,
  inputSchema: {
    account_id: accountIdField,
    user_id: userIdField,
    confirm: z.boolean({ error: 'confirm must be true or false' }).optional().describe('true once the person agreed'),
  },
  outputSchema: deletedOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, confirm }, ctx) {
    const accountId = ctx.accountId(account_id);
    // Resolved only once the delete may go ahead, or to ask: a refusal costs no request.
    let user: ResolvedUser | undefined;
    await requireConfirmation(ctx, {
      // The person is shown who, not just a UUID: at most one read, made only when someone will be asked.
      async question() {
        user = await resolveUser(ctx, accountId, user_id);
        const email = user.email ?? (await ctx.api.getAccessUser(accountId, user.id)).result?.email;
        const who = typeof email === 'string' ? `${email} (${user.id})` : `Zero Trust user ${user.id}`;
        return `Delete ${who} from account ${accountId}? This revokes their seats and sessions and cannot be undone.`;
      },
      confirmFlag: confirm,
      notDone: 'Not deleted.',
      wouldDo: `This would permanently delete Zero Trust user ${user_id} from account ${accountId} and revoke their seats and tokens.`,
      checkFirst: 'Check it is the right user (get_access_user), then call delete_access_user again with confirm: true.',
    });
    const { id } = user ?? (await resolveUser(ctx, accountId, user_id));
    const response = await ctx.api.deleteAccessUser(accountId, id);
    const data = response.deletedOnRetry
      ? { deleted: true, id, note: 'The first response was lost; a retry found the user already gone, so it was deleted.' }
      : { deleted: true, id };
    return { data, text: JSON.stringify(data) };
  },
});
