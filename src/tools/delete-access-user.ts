import { z } from 'zod';
import { requireConfirmation } from './confirmation.js';
import { defineTool } from './define.js';
import { accountIdField, userIdField } from './fields.js';
import { ZERO_TRUST_USERS_WRITE } from './permissions.js';

const deletedOutput = z.object({ deleted: z.boolean(), id: z.string(), note: z.string().optional() });

export default defineTool({
  name: 'delete_access_user',
  title: 'Delete a Zero Trust user',
  toolset: 'users',
  description:
    'Delete a Zero Trust user, revoking seats and tokens; irreversible. ' +
    'Without confirm: true nothing is sent and the reply says what would go. ' +
    `Needs ${ZERO_TRUST_USERS_WRITE}`,
  permission: ZERO_TRUST_USERS_WRITE,
  inputSchema: {
    account_id: accountIdField,
    user_id: userIdField,
    confirm: z.boolean({ error: 'confirm must be true or false' }).optional().describe('true to delete'),
  },
  outputSchema: deletedOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, confirm }, ctx) {
    const accountId = ctx.accountId(account_id);
    await requireConfirmation(ctx, {
      // The person is shown who, not just a UUID: one read, made only when someone will be asked.
      async question() {
        const { result } = await ctx.api.getAccessUser(accountId, user_id);
        const who = typeof result?.email === 'string' ? `${result.email} (${user_id})` : `Zero Trust user ${user_id}`;
        return `Delete ${who} from account ${accountId}? This revokes their seats and sessions and cannot be undone.`;
      },
      confirmFlag: confirm,
      notDone: 'Not deleted.',
      wouldDo: `This would permanently delete Zero Trust user ${user_id} from account ${accountId} and revoke their seats and tokens.`,
      checkFirst: 'Check it is the right user (get_access_user), then call delete_access_user again with confirm: true.',
    });
    const response = await ctx.api.deleteAccessUser(accountId, user_id);
    const data = response.deletedOnRetry
      ? { deleted: true, id: user_id, note: 'The first response was lost; a retry found the user already gone, so it was deleted.' }
      : { deleted: true, id: user_id };
    return { data, text: JSON.stringify(data) };
  },
});
