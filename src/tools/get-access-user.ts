import { accessUserOutput, trimAccessUser } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, fieldsField, userIdField } from './fields.js';
import { resolveUser } from './resolve-user.js';

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
    const accountId = ctx.accountId(account_id);
    const user = await resolveUser(ctx, accountId, user_id);
    // An email lookup has just read the record: no second request for the same thing.
    const result = user.record ?? (await ctx.api.getAccessUser(accountId, user.id)).result;
    return trimAccessUser(result, { fields, maxChars: ctx.maxResponseChars });
  },
});
