import { accessUserOutput, trimAccessUser } from '../trim/index.js';
import { defineTool, ToolInputError } from './define.js';
import { accountIdField, itemEmailField, nameField, userIdField } from './fields.js';
import { resolveUser } from './resolve-user.js';

export default defineTool({
  name: 'update_access_user',
  title: 'Rename a Zero Trust user',
  toolset: 'users',
  description:
    "Overwrite a Zero Trust user's name (the email cannot change). " +
    'Needs Zero Trust: Seats Write.',
  permission: 'Zero Trust: Seats Write',
  inputSchema: {
    account_id: accountIdField,
    user_id: userIdField,
    email: itemEmailField.optional().describe('Current email'),
    name: nameField.describe('New name'),
  },
  outputSchema: accessUserOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, email, name }, ctx) {
    const accountId = ctx.accountId(account_id);
    const user = await resolveUser(ctx, accountId, user_id);
    // Cloudflare's PUT wants the current email: the one given, else the one just resolved, else one read.
    const current = email ?? user.email ?? (await ctx.api.getAccessUser(accountId, user.id)).result?.email;
    if (typeof current !== 'string') throw new ToolInputError(`Could not learn the current email of Zero Trust user ${user.id}; pass email. Nothing was changed.`);
    const response = await ctx.api.updateAccessUser(accountId, user.id, { email: current, name });
    return trimAccessUser(response.result, { maxChars: ctx.maxResponseChars });
  },
});
