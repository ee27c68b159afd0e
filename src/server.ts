/**
 * createServer: the one MCP server every transport shares (stdio, SSE,
 * Streamable HTTP). It answers tools/list from the registry and hands each
 * tools/call to runTool; it knows nothing about how bytes arrive, and tools
 * know nothing about it.
 *
 * Built on the SDK's low-level Server rather than McpServer so that tools/list
 * is exactly what we mean (no `$schema` URL or empty `execution` per tool) and
 * argument errors are worded by us; see ARCHITECTURE.md.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { compileTool, runTool, selectTools, type ToolDeps, type ToolSelection } from './tools/index.js';
import { SERVER_NAME, SERVER_VERSION } from './version.js';

export const INSTRUCTIONS =
  'Tools for the people in a Cloudflare account. get_current_user shows whose credentials these are. ' +
  'For a Zero Trust user, find the user_id with list_access_users (email filter), then use get_access_user, ' +
  'list_active_sessions (then get_active_session with a nonce for device, IP, country, posture), get_last_seen_identity and list_failed_logins. ' +
  'account_id defaults to the configured account. create/update/delete_access_user change the account; delete needs confirm: true. ' +
  'Lists are columnar: each row holds the values of `fields` in order, `same` holds values shared by every row, null means missing. ' +
  'Pass fields to get fewer columns.';

export type ServerOptions = ToolSelection;

export function createServer(deps: ToolDeps, options: ServerOptions = {}): Server {
  const tools = new Map(selectTools(options).map((tool) => [tool.name, tool]));
  const listing = { tools: [...tools.values()].map((tool) => compileTool(tool).listing) };
  const server = new Server(
    { name: SERVER_NAME, version: SERVER_VERSION, title: 'Cloudflare Users' },
    // Logging is declared up front: the SDK refuses log notifications otherwise.
    { capabilities: { tools: {}, logging: {} }, instructions: INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => listing);
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const tool = tools.get(request.params.name);
    if (!tool) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${request.params.name}. Available: ${[...tools.keys()].join(', ')}`);
    }
    return runTool(tool, request.params.arguments, deps, (level, data) =>
      server.sendLoggingMessage({ level, logger: SERVER_NAME, data }, extra.sessionId),
    );
  });
  return server;
}
