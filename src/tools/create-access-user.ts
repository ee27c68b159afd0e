import { accessUserOutput, trimAccessUser } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, emailField, nameField } from './fields.js';
import { ZERO_TRUST_USERS_WRITE, ZERO_TRUST_USERS_WRITE_SHORT } from './permissions.js';

export default defineTool({
  name: 'create_access_user',
  title: 'Create a Zero Trust user',
  toolset: 'users',
  description:
    'Provision a Zero Trust user; returns it with its id. Sent once: retried only on rate limits. ' +
    `Needs ${ZERO_TRUST_USERS_WRITE_SHORT}.`,
  permission: ZERO_TRUST_USERS_WRITE,
  inputSchema: {
    account_id: accountIdField,
    email: emailField.describe('Email'),
    name: nameField.optional().describe('Display name'),
  },
  outputSchema: accessUserOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler({ account_id, email, name }, ctx) {
    const response = await ctx.api.createAccessUser(ctx.accountId(account_id), { email, name });
    return trimAccessUser(response.result, { maxChars: ctx.maxResponseChars });
  },
});
