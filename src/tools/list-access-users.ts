import { z } from 'zod';
import { trimAccessUserList, userListOutput } from '../trim/index.js';
import { defineTool } from './define.js';
import { accountIdField, emailField, fieldsField, nameField, pageField, perPageField } from './fields.js';

export default defineTool({
  name: 'list_access_users',
  title: 'List Zero Trust users',
  description:
    'List Zero Trust (Access) users of an account: id, email, name, seats, device count, last login. ' +
    'Filter by exact email, name, or search text; paged (follow paging.next_page). Start here to find a user_id by email. ' +
    'Rows are columnar: fields names the columns. Token permission: Access: Audit Logs Read.',
  permission: 'Access: Audit Logs Read',
  inputSchema: {
    account_id: accountIdField,
    email: emailField.optional().describe('Exact email'),
    name: nameField.optional().describe('Name filter'),
    search: z.string().min(1, 'search must not be empty').max(200, 'search must be at most 200 characters').optional().describe('Text matched against email and name'),
    page: pageField,
    per_page: perPageField,
    fields: fieldsField,
  },
  outputSchema: userListOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, email, name, search, page, per_page, fields }, call) {
    const response = await call.api({
      method: 'GET',
      path: ['accounts', call.accountId(account_id), 'access', 'users'],
      query: { email, name, search, page, per_page },
    });
    return trimAccessUserList(response.result, response.resultInfo, { page, per_page }, { fields, maxChars: call.maxResponseChars });
  },
});
