import { currentUserOutput, trimCurrentUser } from '../trim/index.js';
import { defineTool } from './define.js';
import { fieldsField } from './fields.js';

export default defineTool({
  name: 'get_current_user',
  title: 'Current Cloudflare user',
  toolset: 'account',
  description:
    'The Cloudflare user owning the credentials: email, name, 2FA, suspension, accounts, roles. ' +
    'Use to check whose access this server has. Needs User Details Read.',
  permission: 'User Details Read',
  inputSchema: { fields: fieldsField },
  outputSchema: currentUserOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ fields }, ctx) {
    const response = await ctx.api.getCurrentUser();
    return trimCurrentUser(response.result, { fields, maxChars: ctx.maxResponseChars });
  },
});
