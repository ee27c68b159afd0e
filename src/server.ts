/**
 * createServer: the one MCP server every transport shares (stdio, SSE,
 * Streamable HTTP). It answers tools/list and prompts/list from the registries
 * (src/tools, src/prompts), keeps each session's log level, and hands each
 * tools/call to runTool with a CallChannel made from the SDK's request
 * `extra`; it knows nothing about how bytes arrive, and tools know nothing
 * about it.
 *
 * Built on the SDK's low-level Server rather than McpServer so that tools/list
 * is exactly what we mean (no `$schema` URL or empty `execution` per tool) and
 * argument errors are worded by us; see ARCHITECTURE.md.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
  SetLevelRequestSchema,
  type CallToolRequest,
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { CredentialSource } from './cloudflare/auth.js';
import { getPrompt, listPrompt, PromptArgumentError, selectPrompts } from './prompts/index.js';
import { compileTool, runTool, selectTools, type CallChannel, type ToolDefinition, type ToolSelection, type ToolServices } from './tools/index.js';
import { SERVER_ICON } from './icon.js';
import { SERVER_NAME, SERVER_VERSION } from './version.js';

export const INSTRUCTIONS =
  'Tools for the people in a Cloudflare account. get_current_user shows whose credentials these are. ' +
  "user_id also takes the user's email. For a person's sessions, devices, IPs, last sign-in and failed logins, call get_user_access_overview " +
  'once; get_active_session and the other single tools give one part. ' +
  'provision/offboard_access_users: mode plan, then apply. list_access_users: all: true reads every page. ' +
  'Before a delete (offboarding too) the person is asked to confirm ' +
  '(where the client cannot ask, confirm: true is required: pass it only after the person agreed). ' +
  'Lists are columnar: each row holds the values of `fields` in order, `same` holds values shared by every row, null means missing. ' +
  'Pass fields to get fewer columns, or those named in more_fields.';

export interface ServerOptions extends ToolSelection {
  /** Whether this transport can carry a request from server to client (stateless HTTP cannot). Default true. */
  canAskClient?: boolean;
  /** The tools to serve instead of the registry's (tests and embedders); filtered like the registry. */
  tools?: readonly ToolDefinition[];
  /** This server's (session's) own credential source, in place of the wiring's. */
  credentials?: CredentialSource;
  /** This session's default account (HTTP X-Cloudflare-Account-Id), in place of the configured one. */
  defaultAccountId?: string;
  /** Who is calling, as endpoint auth verified it (Cloudflare Access email): the `actor` of every audit line. */
  actor?: string;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * The least severe log notification a session gets until it sends logging/setLevel. Not debug: a summary of
 * every upstream request would flood a client that never asked for it (the SDK alone would send everything).
 */
export const DEFAULT_CLIENT_LOG_LEVEL: LoggingLevel = 'info';

/**
 * The level this session chose with logging/setLevel. One Server serves one session (stdio: the connection;
 * HTTP: one per session), so one value is per session; no session sees another's choice or messages.
 */
class ClientLogLevel {
  private minimum: LoggingLevel = DEFAULT_CLIENT_LOG_LEVEL;

  set(level: LoggingLevel): void {
    this.minimum = level;
  }

  allows(level: LoggingLevel): boolean {
    const order = LoggingLevelSchema.options;
    return order.indexOf(level) >= order.indexOf(this.minimum);
  }
}

/** The per-request channel runTool builds a ToolContext from: cancellation, progress, elicitation, logging. */
function callChannel(server: Server, request: CallToolRequest, extra: Extra, canAskClient: boolean, logLevel: ClientLogLevel, actor: string | undefined): CallChannel {
  const canElicit = canAskClient && server.getClientCapabilities()?.elicitation !== undefined;
  return {
    signal: extra.signal,
    identity: { sessionId: extra.sessionId, headers: extra.requestInfo?.headers, actor },
    progressToken: request.params._meta?.progressToken,
    notify: (notification) => extra.sendNotification(notification),
    elicit: canElicit
      ? (params, { signal, timeoutMs }) => extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, { signal, timeout: timeoutMs })
      : undefined,
    // Sent as part of this request (on HTTP, on the call's own stream, which is open, rather than the
    // session's optional standalone stream), and filtered here by the session's level.
    log: async (level, data) => {
      if (logLevel.allows(level)) await extra.sendNotification({ method: 'notifications/message', params: { level, logger: SERVER_NAME, data } });
    },
  };
}

/**
 * prompts/list and prompts/get for the prompts whose tools are all served here: read-only and --tools narrow
 * the prompts too, so no prompt leads a model to a tool it cannot call.
 */
function servePrompts(server: Server, servedTools: ReadonlySet<string>): void {
  const prompts = new Map(selectPrompts(servedTools).map((prompt) => [prompt.name, prompt]));
  const listing = { prompts: [...prompts.values()].map(listPrompt) };
  server.setRequestHandler(ListPromptsRequestSchema, () => listing);
  server.setRequestHandler(GetPromptRequestSchema, (request) => {
    const prompt = prompts.get(request.params.name);
    if (!prompt) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt ${request.params.name}. Available: ${[...prompts.keys()].join(', ') || 'none'}`);
    }
    try {
      return getPrompt(prompt, request.params.arguments);
    } catch (error) {
      if (error instanceof PromptArgumentError) throw new McpError(ErrorCode.InvalidParams, error.message);
      throw error;
    }
  });
}

let validator: AjvJsonSchemaValidator | undefined;

/**
 * One JSON Schema validator (for elicitation answers) for every server: the SDK would build an Ajv instance
 * per Server, which is most of the cost of a server per HTTP session or per stateless request.
 */
function sharedValidator(): AjvJsonSchemaValidator {
  validator ??= new AjvJsonSchemaValidator();
  return validator;
}

export function createServer(services: ToolServices, options: ServerOptions = {}): Server {
  const tools = new Map(selectTools(options, options.tools).map((tool) => [tool.name, tool]));
  const canAskClient = options.canAskClient ?? true;
  const sessionServices = {
    ...services,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.defaultAccountId ? { defaultAccountId: options.defaultAccountId } : {}),
  };
  // A fixed account (configured, or this session's header) is left out of every schema (src/tools/listing.ts).
  const accountFixed = Boolean(sessionServices.defaultAccountId);
  const listing = { tools: [...tools.values()].map((tool) => compileTool(tool, accountFixed).listing) };
  const server = new Server(
    { name: SERVER_NAME, version: SERVER_VERSION, title: 'Cloudflare Users', icons: [SERVER_ICON] },
    // Logging is declared up front: the SDK refuses log notifications otherwise.
    { capabilities: { tools: {}, logging: {}, prompts: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: sharedValidator() },
  );
  // Replaces the SDK's own setLevel handler, whose default is to send every level.
  const logLevel = new ClientLogLevel();
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    logLevel.set(request.params.level);
    return {};
  });
  servePrompts(server, new Set(tools.keys()));
  server.setRequestHandler(ListToolsRequestSchema, () => listing);
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const tool = tools.get(request.params.name);
    if (!tool) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${request.params.name}. Available: ${[...tools.keys()].join(', ')}`);
    }
    return runTool(tool, request.params.arguments, sessionServices, callChannel(server, request, extra, canAskClient, logLevel, options.actor));
  });
  return server;
}
