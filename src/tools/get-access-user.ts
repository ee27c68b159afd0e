import { accessUserOutput, trimAccessUser } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, fieldsField, userIdField } from './fields.js';

export default defineTool({
  name: 'get_access_user',
  title: 'Get a Zero Trust user',
  toolset: 'users',
  description:
    'One Zero Trust user: email, name, seats, device count, last login, created/updated. ' +
    'Needs Access: Audit Logs Read.',
  permission: 'Access: Audit Logs Read',
  inputSchema: { account_id: accountIdField, user_id: userIdField, fields: fieldsField },
  outputSchema: accessUserOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, fields }, ctx) {
    const response = await ctx.api.getAccessUser(ctx.accountId(account_id), user_id);
    return trimAccessUser(response.result, { fields, maxChars: ctx.maxResponseChars });
  },
});
