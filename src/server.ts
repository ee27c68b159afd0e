/**
 * createServer: the one MCP server every transport shares (stdio, SSE,
 * Streamable HTTP). It registers the selected tools; it knows nothing about
 * how bytes arrive, and tools know nothing about it.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { runTool, selectTools, type ToolDeps, type ToolSelection } from './tools/index.js';
import { SERVER_NAME, SERVER_VERSION } from './version.js';

export const INSTRUCTIONS =
  'Cloudflare account people tools. get_current_user shows who the credentials belong to. ' +
  'To look into a Zero Trust user, find their user_id with list_access_users (email filter), then use get_access_user, ' +
  'list_active_sessions (then get_active_session with a nonce for device, IP, country, posture), get_last_seen_identity and list_failed_logins. ' +
  'account_id defaults to the configured account. Writes (create/update/delete_access_user) change the account; delete needs confirm: true. ' +
  'Lists are columnar (fields + rows); pass fields to get fewer columns.';

export type ServerOptions = ToolSelection;

export function createServer(deps: ToolDeps, options: ServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION, title: 'Cloudflare Users' },
    // Logging is declared up front: the SDK refuses log notifications otherwise.
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS },
  );
  for (const tool of selectTools(options)) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: tool.annotations,
      },
      (args: Record<string, unknown>, extra) =>
        runTool(tool, args, deps, (level, data) =>
          server.sendLoggingMessage({ level, logger: SERVER_NAME, data }, extra.sessionId),
        ),
    );
  }
  return server;
}
