/**
 * Auth resolver: decides which credentials a call uses.
 *
 * Takes a plain object (not process.env) so the HTTP transport can later
 * resolve credentials per session from request headers, and so it runs on
 * Workers. Returns headers to send, or the reason there are none.
 */
import { registerSecret } from '../redact.js';

export interface CredentialInput {
  CLOUDFLARE_API_TOKEN?: string | undefined;
  CLOUDFLARE_EMAIL?: string | undefined;
  CLOUDFLARE_API_KEY?: string | undefined;
}

export type ResolvedAuth =
  | { kind: 'api_token'; headers: Record<string, string>; warnings: string[] }
  | { kind: 'global_key'; headers: Record<string, string>; warnings: string[] }
  | { kind: 'none'; message: string; warnings: string[] };

export const TOKEN_PAGE_URL = 'https://dash.cloudflare.com/profile/api-tokens';

/** Bundle hosts pass "" (or whitespace) for optional fields they did not fill in: treat as unset. */
function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function resolveAuth(input: CredentialInput): ResolvedAuth {
  const token = present(input.CLOUDFLARE_API_TOKEN);
  const email = present(input.CLOUDFLARE_EMAIL);
  const key = present(input.CLOUDFLARE_API_KEY);
  registerSecret(token);
  registerSecret(key);
  const warnings: string[] = [];

  if (token) {
    if (email || key) {
      warnings.push('Both CLOUDFLARE_API_TOKEN and CLOUDFLARE_EMAIL/CLOUDFLARE_API_KEY are set; using the API token.');
    }
    return { kind: 'api_token', headers: { authorization: `Bearer ${token}` }, warnings };
  }
  if (email && key) {
    return { kind: 'global_key', headers: { 'x-auth-email': email, 'x-auth-key': key }, warnings };
  }
  const partial = email ? ' CLOUDFLARE_EMAIL is set but CLOUDFLARE_API_KEY is missing.' : key ? ' CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is missing.' : '';
  return {
    kind: 'none',
    warnings,
    message:
      `No Cloudflare credentials configured.${partial} Set CLOUDFLARE_API_TOKEN to an API token ` +
      `(create one at ${TOKEN_PAGE_URL}), or set both CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY (Global API Key), ` +
      'in the MCP server\'s environment, then restart the server.',
  };
}
