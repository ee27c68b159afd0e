/**
 * Auth resolver: decides which credentials a call uses.
 *
 * Takes a plain object (not process.env) so the HTTP transport can later
 * resolve credentials per session from request headers, and so it runs on
 * Workers. Returns headers to send, or the reason there are none.
 */
export interface CredentialInput {
  CLOUDFLARE_API_TOKEN?: string | undefined;
  CLOUDFLARE_EMAIL?: string | undefined;
  CLOUDFLARE_API_KEY?: string | undefined;
}

export type ResolvedAuth =
  /** `secrets`: the values a Redactor must scrub wherever this call's text goes. */
  | { kind: 'api_token'; headers: Record<string, string>; secrets: string[]; warnings: string[] }
  | { kind: 'global_key'; headers: Record<string, string>; secrets: string[]; warnings: string[] }
  | { kind: 'none'; message: string; secrets: string[]; warnings: string[] };

/** What a credential source may look at to pick one call's credentials. */
export interface CallIdentity {
  /** The MCP session (HTTP), when there is one. */
  sessionId?: string | undefined;
  /** Request headers of the HTTP request carrying this call, when there is one. */
  headers?: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /** Who is calling, as the HTTP endpoint auth verified it (Cloudflare Access email); audited with every write. */
  actor?: string | undefined;
}

/**
 * Where one tool call's credentials come from. Resolved per call, so nothing is shared between sessions:
 * the environment today (stdio, or HTTP with the server's own token); per-session headers on HTTP later.
 */
export type CredentialSource = (call: CallIdentity) => ResolvedAuth;

/** The same credentials for every call, resolved once (the server's environment, or a fixed test token). */
export function fixedCredentials(input: CredentialInput): CredentialSource {
  const auth = resolveAuth(input);
  return () => auth;
}

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
  const secrets = [token, key].filter((value): value is string => value !== undefined);
  const warnings: string[] = [];

  if (token) {
    if (email || key) {
      warnings.push('Both CLOUDFLARE_API_TOKEN and CLOUDFLARE_EMAIL/CLOUDFLARE_API_KEY are set; using the API token.');
    }
    return { kind: 'api_token', headers: { authorization: `Bearer ${token}` }, secrets, warnings };
  }
  if (email && key) {
    return { kind: 'global_key', headers: { 'x-auth-email': email, 'x-auth-key': key }, secrets, warnings };
  }
  const partial = email ? ' CLOUDFLARE_EMAIL is set but CLOUDFLARE_API_KEY is missing.' : key ? ' CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is missing.' : '';
  return {
    kind: 'none',
    secrets,
    warnings,
    message:
      `No Cloudflare credentials configured.${partial} Set CLOUDFLARE_API_TOKEN to an API token ` +
      `(create one at ${TOKEN_PAGE_URL}), or set both CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY (Global API Key), ` +
      'in the MCP server\'s environment, then restart the server.',
  };
}
