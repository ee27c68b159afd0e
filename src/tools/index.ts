/**
 * The tool registry: every tool, in the order clients list them.
 * Read-only filtering happens once, here, before registration.
 */
import createAccessUser from './create-access-user.js';
import type { ToolDefinition } from './define.js';
import deleteAccessUser from './delete-access-user.js';
import getAccessUser from './get-access-user.js';
import getActiveSession from './get-active-session.js';
import getCurrentUser from './get-current-user.js';
import getLastSeenIdentity from './get-last-seen-identity.js';
import listAccessUsers from './list-access-users.js';
import listActiveSessions from './list-active-sessions.js';
import listFailedLogins from './list-failed-logins.js';
import updateAccessUser from './update-access-user.js';

// Each tool keeps its precise argument types in its own file; `satisfies` checks every one against the
// common shape without widening the tuple, so ToolName stays the union of the literal names.
const registry = [
  getCurrentUser,
  listAccessUsers,
  getAccessUser,
  createAccessUser,
  updateAccessUser,
  deleteAccessUser,
  listActiveSessions,
  getActiveSession,
  getLastSeenIdentity,
  listFailedLogins,
] as const satisfies readonly ToolDefinition[];

export type ToolName = (typeof registry)[number]['name'];

export const allTools: readonly ToolDefinition[] = registry;

export interface ToolSelection {
  /** Register only tools whose readOnlyHint is true. */
  readOnly?: boolean;
}

/** The one filtering point: what a server registers, from the registry or from the tools an embedder gives. */
export function selectTools(selection: ToolSelection = {}, tools: readonly ToolDefinition[] = allTools): readonly ToolDefinition[] {
  return selection.readOnly ? tools.filter((tool) => tool.annotations.readOnlyHint) : tools;
}

export { runTool } from './run.js';
export { CallTracker, type CallChannel, type ToolContext, type ToolServices } from './context.js';
export { ToolInputError, type ToolDefinition } from './define.js';
export { compileTool } from './listing.js';
