/**
 * createServer: the one MCP server every transport shares (stdio, SSE,
 * Streamable HTTP). It answers tools/list from the registry and hands each
 * tools/call to runTool with a CallChannel made from the SDK's request
 * `extra`; it knows nothing about how bytes arrive, and tools know nothing
 * about it.
 *
 * Built on the SDK's low-level Server rather than McpServer so that tools/list
 * is exactly what we mean (no `$schema` URL or empty `execution` per tool) and
 * argument errors are worded by us; see ARCHITECTURE.md.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolRequest,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { CredentialSource } from './cloudflare/auth.js';
import { compileTool, runTool, selectTools, type CallChannel, type ToolDefinition, type ToolSelection, type ToolServices } from './tools/index.js';
import { SERVER_NAME, SERVER_VERSION } from './version.js';

export const INSTRUCTIONS =
  'Tools for the people in a Cloudflare account. get_current_user shows whose credentials these are. ' +
  'For a Zero Trust user, find the user_id with list_access_users (email filter), then use get_access_user, ' +
  'list_active_sessions (then get_active_session with a nonce for device, IP, country, posture), get_last_seen_identity and list_failed_logins. ' +
  'account_id defaults to the configured account. create/update/delete_access_user change the account; delete needs confirm: true. ' +
  'Lists are columnar: each row holds the values of `fields` in order, `same` holds values shared by every row, null means missing. ' +
  'Pass fields to get fewer columns.';

export interface ServerOptions extends ToolSelection {
  /** Whether this transport can carry a request from server to client (stateless HTTP cannot). Default true. */
  canAskClient?: boolean;
  /** The tools to serve instead of the registry's (tests and embedders); filtered like the registry. */
  tools?: readonly ToolDefinition[];
  /** This server's (session's) own credential source, in place of the wiring's. */
  credentials?: CredentialSource;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The per-request channel runTool builds a ToolContext from: cancellation, progress, elicitation, logging. */
function callChannel(server: Server, request: CallToolRequest, extra: Extra, canAskClient: boolean): CallChannel {
  const canElicit = canAskClient && server.getClientCapabilities()?.elicitation !== undefined;
  return {
    signal: extra.signal,
    identity: { sessionId: extra.sessionId, headers: extra.requestInfo?.headers },
    progressToken: request.params._meta?.progressToken,
    notify: (notification) => extra.sendNotification(notification),
    elicit: canElicit ? (params) => extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, { signal: extra.signal }) : undefined,
    log: (level, data) => server.sendLoggingMessage({ level, logger: SERVER_NAME, data }, extra.sessionId),
  };
}

export function createServer(services: ToolServices, options: ServerOptions = {}): Server {
  const tools = new Map(selectTools(options, options.tools).map((tool) => [tool.name, tool]));
  const listing = { tools: [...tools.values()].map((tool) => compileTool(tool).listing) };
  const canAskClient = options.canAskClient ?? true;
  const sessionServices = options.credentials ? { ...services, credentials: options.credentials } : services;
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
    return runTool(tool, request.params.arguments, sessionServices, callChannel(server, request, extra, canAskClient));
  });
  return server;
}
