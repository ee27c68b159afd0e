import { sessionListOutput, trimSessionList } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, fieldsField, userIdField } from './fields.js';
import { resolveUser } from './resolve-user.js';

export default defineTool({
  name: 'list_active_sessions',
  title: "User's active sessions",
  toolset: 'sessions',
  description:
    "A Zero Trust user's active sessions: nonce, apps, issued, expires. " +
    'For device, IP, country, posture: get_active_session with a nonce. Needs Access: Audit Logs Read.',
  permission: 'Access: Audit Logs Read',
  inputSchema: { account_id: accountIdField, user_id: userIdField, fields: fieldsField },
  outputSchema: sessionListOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id, fields }, ctx) {
    const accountId = ctx.accountId(account_id);
    const { id } = await resolveUser(ctx, accountId, user_id);
    const response = await ctx.api.listActiveSessions(accountId, id);
    return trimSessionList(response.result, response.resultInfo, { fields, maxChars: ctx.maxResponseChars });
  },
});
