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

// Each tool keeps its precise argument types in its own file; the registry only needs the common shape.
export const allTools = [
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
] as unknown as readonly ToolDefinition[];

export interface ToolSelection {
  /** Register only tools whose readOnlyHint is true. */
  readOnly?: boolean;
}

export function selectTools(selection: ToolSelection = {}): readonly ToolDefinition[] {
  return selection.readOnly ? allTools.filter((tool) => tool.annotations.readOnlyHint) : allTools;
}

export { runTool, type ToolDeps, type CallNotifier } from './run.js';
export { ToolInputError, type ToolDefinition } from './define.js';
export { compileTool } from './listing.js';
