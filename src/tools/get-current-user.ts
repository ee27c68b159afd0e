import { currentUserOutput, trimCurrentUser } from '../trim/index.js';
import { defineTool } from './define.js';
import { fieldsField } from './fields.js';

export default defineTool({
  name: 'get_current_user',
  title: 'Get current Cloudflare user',
  description:
    'Get the Cloudflare user who owns the configured credentials: email, name, 2FA, suspension, account memberships and roles. ' +
    'Use to check which identity and accounts this server acts as. Token permission: User Details Read.',
  permission: 'User Details Read',
  inputSchema: { fields: fieldsField },
  outputSchema: currentUserOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ fields }, call) {
    const response = await call.api({ method: 'GET', path: ['user'] });
    return trimCurrentUser(response.result, { fields, maxChars: call.maxResponseChars });
  },
});
