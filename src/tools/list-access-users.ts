import { trimAccessUserList, userListOutput } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, emailField, fieldsField, nameField, pageField, perPageField, textField } from './fields.js';

export default defineTool({
  name: 'list_access_users',
  title: 'List Zero Trust users',
  toolset: 'users',
  description:
    'Zero Trust users: id, email, name, seats, devices, last login. Filter by exact email, name or search; ' +
    'paged (paging.next_page). Use to find a user_id by email. Needs Access: Audit Logs Read.',
  permission: 'Access: Audit Logs Read',
  inputSchema: {
    account_id: accountIdField,
    email: emailField.optional().describe('Exact email'),
    name: nameField.optional().describe('Name filter'),
    search: textField('search').optional().describe('Matches email or name'),
    page: pageField,
    per_page: perPageField,
    fields: fieldsField,
  },
  outputSchema: userListOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, email, name, search, page, per_page, fields }, ctx) {
    const response = await ctx.api.listAccessUsers(ctx.accountId(account_id), { email, name, search, page, per_page });
    return trimAccessUserList(response.result, response.resultInfo, { page, per_page }, { fields, maxChars: ctx.maxResponseChars });
  },
});
