/**
 * The one confirmation rule for tools that delete (delete_access_user,
 * offboard_access_users, and any later tool that removes people). Tools that
 * only overwrite a name (update_access_user, provision_access_users) are
 * annotated destructive but not confirmed: a rename can be renamed back, and
 * provisioning already shows its plan before any write.
 *
 * - When the client can ask the person (MCP elicitation), the person is always
 *   asked, whatever the arguments say: a model must not be able to skip the human.
 * - When it cannot (no capability, stateless HTTP, `call` from a shell), the tool
 *   fails closed unless the call carries `confirm: true`, and says so.
 * - Declined or cancelled: nothing is sent upstream.
 */
import type { ToolContext } from './context.js';
import { ToolInputError } from './define.js';

export interface DestructiveAction {
  /**
   * The question the person sees, naming what will go ("Delete alice@corp.example (uuid)? …"). Built only
   * when someone will be asked: naming the target may take a read, which a refusal should not cost.
   */
  question(): Promise<string>;
  /** The arguments' `confirm` flag: counts only where the client cannot ask. */
  confirmFlag: boolean | undefined;
  /** What was not done, for the error text: "Not deleted." */
  notDone: string;
  /** What the action would do, for the refusal when nobody can be asked and the flag is missing. */
  wouldDo: string;
  /** How to check the target first, for that refusal. */
  checkFirst: string;
}

/** Resolves when the action may go ahead (how it was confirmed); throws a ToolInputError (no write sent) otherwise. */
export async function requireConfirmation(ctx: ToolContext, action: DestructiveAction): Promise<'asked' | 'flag'> {
  if (!ctx.canAsk) {
    if (action.confirmFlag === true) return 'flag';
    throw new ToolInputError(
      `${action.notDone} ${action.wouldDo} This client cannot ask the person to confirm, so the call must carry confirm: true. ${action.checkFirst} Nothing was sent to Cloudflare.`,
    );
  }
  const question = await action.question();
  const answer = await ctx.confirm(question);
  if (answer === 'confirmed') return 'asked';
  if (answer === 'declined') throw new ToolInputError(`${action.notDone} The person declined when asked: "${question}" Nothing was changed.`);
  if (answer === 'cancelled') throw new ToolInputError(`${action.notDone} The confirmation was cancelled, or not answered before the call ended. Nothing was changed.`);
  // The client stopped being able to ask between the check and the question: fail closed.
  throw new ToolInputError(`${action.notDone} The confirmation could not be asked. Nothing was changed.`);
}
