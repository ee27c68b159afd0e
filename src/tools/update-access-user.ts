import { accessUserOutput, trimAccessUser } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, emailField, nameField, userIdField } from './fields.js';

export default defineTool({
  name: 'update_access_user',
  title: 'Rename a Zero Trust user',
  toolset: 'users',
  description:
    "Overwrite a Zero Trust user's name. email must be the user's current email (it cannot change). " +
    'Needs Zero Trust: Seats Write.',
  permission: 'Zero Trust: Seats Write',
  inputSchema: {
    account_id: accountIdField,
    user_id: userIdField,
    email: emailField.describe('Current email'),
    name: nameField.describe('New name'),
  },
  outputSchema: accessUserOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, email, name }, ctx) {
    const response = await ctx.api.updateAccessUser(ctx.accountId(account_id), user_id, { email, name });
    return trimAccessUser(response.result, { maxChars: ctx.maxResponseChars });
  },
});
