/**
 * The tool registry: every tool, in the order clients list them.
 * What a server serves (read-only, --tools, --toolsets) is decided once, here, before registration.
 */
import createAccessUser from './create-access-user.js';
import { TOOLSETS, type ToolDefinition, type Toolset } from './define.js';
import deleteAccessUser from './delete-access-user.js';
import getAccessUser from './get-access-user.js';
import getActiveSession from './get-active-session.js';
import getCurrentUser from './get-current-user.js';
import getLastSeenIdentity from './get-last-seen-identity.js';
import getUserAccessOverview from './get-user-access-overview.js';
import listAccessUsers from './list-access-users.js';
import listActiveSessions from './list-active-sessions.js';
import listFailedLogins from './list-failed-logins.js';
import offboardAccessUsers from './offboard-access-users.js';
import provisionAccessUsers from './provision-access-users.js';
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
  getUserAccessOverview,
  provisionAccessUsers,
  offboardAccessUsers,
] as const satisfies readonly ToolDefinition[];

export type ToolName = (typeof registry)[number]['name'];

export const allTools: readonly ToolDefinition[] = registry;

export interface ToolSelection {
  /** Register only tools whose readOnlyHint is true; wins over toolNames and toolsets. */
  readOnly?: boolean;
  /** Allow-list by name (`--tools`). With toolsets too, a tool in either is served. */
  toolNames?: readonly string[] | undefined;
  /** Allow-list by group (`--toolsets`). */
  toolsets?: readonly Toolset[] | undefined;
}

/**
 * The one filtering point: what a server registers, from the registry or from the tools an embedder gives.
 * Read-only goes by annotations, never by a list, so a write tool added later is filtered without a change here.
 */
export function selectTools(selection: ToolSelection = {}, tools: readonly ToolDefinition[] = allTools): readonly ToolDefinition[] {
  const { readOnly, toolNames, toolsets } = selection;
  const allowListed = toolNames !== undefined || toolsets !== undefined;
  return tools.filter(
    (tool) =>
      (!readOnly || tool.annotations.readOnlyHint) &&
      (!allowListed || toolNames?.includes(tool.name) === true || toolsets?.includes(tool.toolset) === true),
  );
}

/** A selection naming a tool or toolset that does not exist, or one that leaves nothing to serve. */
export class ToolSelectionError extends Error {
  override readonly name = 'ToolSelectionError';
}

function isToolset(name: string): name is Toolset {
  return (TOOLSETS as readonly string[]).includes(name);
}

/** "account (get_current_user); users (list_access_users, …); …": each toolset with its tools. */
function describeToolsets(): string {
  return TOOLSETS.map((set) => `${set} (${allTools.filter((tool) => tool.toolset === set).map((tool) => tool.name).join(', ')})`).join('; ');
}

/** What a user asked for, as they wrote it: names still unchecked. */
export interface RequestedSelection {
  readOnly: boolean;
  toolNames?: readonly string[] | undefined;
  toolsets?: readonly string[] | undefined;
  /** Where each list came from, for the error ("--tools", "CLOUDFLARE_TOOLS"). */
  toolNamesFrom?: string;
  toolsetsFrom?: string;
}

/**
 * Checks names against the registry before the server starts (the CLI turns the error into exit 2), so a typo
 * is a startup error listing every valid name rather than a server that silently lacks a tool.
 */
export function checkToolSelection(requested: RequestedSelection): ToolSelection {
  const known = new Set(allTools.map((tool) => tool.name));
  const unknownTools = (requested.toolNames ?? []).filter((name) => !known.has(name));
  if (unknownTools.length > 0) {
    const names = unknownTools.map((name) => JSON.stringify(name)).join(', ');
    throw new ToolSelectionError(`Unknown tool ${names} in ${requested.toolNamesFrom ?? 'the tool list'}. Valid tools: ${[...known].join(', ')}.`);
  }
  const unknownSets = (requested.toolsets ?? []).filter((name) => !isToolset(name));
  if (unknownSets.length > 0) {
    const names = unknownSets.map((name) => JSON.stringify(name)).join(', ');
    throw new ToolSelectionError(`Unknown toolset ${names} in ${requested.toolsetsFrom ?? 'the toolset list'}. Valid toolsets: ${describeToolsets()}.`);
  }
  const selection: ToolSelection = {
    readOnly: requested.readOnly,
    toolNames: requested.toolNames,
    toolsets: requested.toolsets?.filter(isToolset),
  };
  if (selectTools(selection).length === 0) {
    throw new ToolSelectionError('The tool selection leaves no tool to serve (read-only keeps only the read tools). Name at least one read tool, or drop --read-only.');
  }
  return selection;
}

export { runTool } from './run.js';
export { CallTracker, type CallChannel, type ToolContext, type ToolServices } from './context.js';
export { TOOLSETS, ToolInputError, type ToolDefinition, type Toolset } from './define.js';
export { compileTool } from './listing.js';
export { DEFAULT_RESOLVE_CACHE_SECONDS, UserCache } from './user-cache.js';
