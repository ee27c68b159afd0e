import { identityOutput, trimIdentity } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, detailField, fieldsField, nonceField, userIdField } from './fields.js';
import { resolveUser } from './resolve-user.js';

export default defineTool({
  name: 'get_active_session',
  title: 'Get one active session',
  toolset: 'sessions',
  description:
    'One session by nonce: devices, posture results, IP, country, IdP, WARP/Gateway, issued. ' +
    'Needs Access: Audit Logs Read.',
  permission: 'Access: Audit Logs Read',
  inputSchema: { account_id: accountIdField, user_id: userIdField, nonce: nonceField, detail: detailField, fields: fieldsField },
  outputSchema: identityOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, nonce, detail, fields }, ctx) {
    const accountId = ctx.accountId(account_id);
    const { id } = await resolveUser(ctx, accountId, user_id);
    const response = await ctx.api.getActiveSession(accountId, id, nonce);
    return trimIdentity(response.result, { detail, fields, maxChars: ctx.maxResponseChars });
  },
});
