import { identityOutput, trimIdentity } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, detailField, fieldsField, userIdField } from './fields.js';
import { resolveUser } from './resolve-user.js';

export default defineTool({
  name: 'get_last_seen_identity',
  title: "User's last sign-in",
  toolset: 'sessions',
  description:
    'How and where a Zero Trust user last signed in: devices, posture, IP, country, IdP, WARP/Gateway, time. ' +
    'Needs Access: Audit Logs Read.',
  permission: 'Access: Audit Logs Read',
  inputSchema: { account_id: accountIdField, user_id: userIdField, detail: detailField, fields: fieldsField },
  outputSchema: identityOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, detail, fields }, ctx) {
    const accountId = ctx.accountId(account_id);
    const { id } = await resolveUser(ctx, accountId, user_id);
    const response = await ctx.api.getLastSeenIdentity(accountId, id);
    return trimIdentity(response.result, { detail, fields, maxChars: ctx.maxResponseChars });
  },
});
