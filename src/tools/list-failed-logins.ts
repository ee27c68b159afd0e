import { failedLoginsOutput, trimFailedLogins } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, fieldsField, userIdField } from './fields.js';
import { resolveUser } from './resolve-user.js';

export default defineTool({
  name: 'list_failed_logins',
  title: "User's failed logins",
  toolset: 'sessions',
  description:
    "A Zero Trust user's failed login attempts: time, app, Ray ID. Needs Access: Audit Logs Read.",
  permission: 'Access: Audit Logs Read',
  inputSchema: { account_id: accountIdField, user_id: userIdField, fields: fieldsField },
  outputSchema: failedLoginsOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, fields }, ctx) {
    const accountId = ctx.accountId(account_id);
    const { id } = await resolveUser(ctx, accountId, user_id);
    const response = await ctx.api.listFailedLogins(accountId, id);
    return trimFailedLogins(response.result, response.resultInfo, { fields, maxChars: ctx.maxResponseChars });
  },
});
