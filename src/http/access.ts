/**
 * Cloudflare Access in front of the server: every request carries
 * `Cf-Access-Jwt-Assertion`, a JWT signed by the team's keys. Verified with
 * jose (Node and Workers alike): signature against the keys published at
 * <team domain>/cdn-cgi/access/certs (cached; refetched on an unknown key id
 * at most once per cooldown, 30 s), audience (the application's AUD tag),
 * issuer (the team domain), expiry. The verified email is the caller.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { AccessSettings } from './settings.js';

export const ACCESS_JWT_HEADER = 'cf-access-jwt-assertion';

export type { AccessSettings } from './settings.js';

export type AccessResult = { ok: true; actor: string } | { ok: false; status: 401 | 403 | 503; reason: string };

export interface AccessVerifierOptions {
  /** After a fetch, an unknown key id refetches the keys only once this long has passed. Default 30 s. */
  refetchCooldownMs?: number;
  /** Keys older than this are refetched before use. Default 10 min. */
  cacheMaxAgeMs?: number;
}

export type AccessVerifier = (token: string | null) => Promise<AccessResult>;

/** Access puts the person's email in `email`; a service token has `common_name` instead. */
function actorOf(payload: JWTPayload): string {
  for (const claim of ['email', 'common_name', 'sub']) {
    const value = payload[claim];
    if (typeof value === 'string' && value !== '') return value;
  }
  return 'unidentified';
}

/** jose's verdicts, worded for the client; nothing of the token itself. */
function failure(error: unknown): Extract<AccessResult, { ok: false }> {
  if (error instanceof errors.JWTExpired) return { ok: false, status: 401, reason: 'the Access token has expired; sign in again' };
  if (error instanceof errors.JWTClaimValidationFailed) return { ok: false, status: 403, reason: `the Access token's ${error.claim} claim is not this application's` };
  if (error instanceof errors.JWKSNoMatchingKey) return { ok: false, status: 403, reason: 'the Access token is signed by a key the team does not publish' };
  if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError) || error.code === 'ERR_JOSE_GENERIC') {
    // The key server could not be asked (network, timeout, not JSON): not the caller's fault.
    return { ok: false, status: 503, reason: 'the Access signing keys could not be fetched; retry shortly' };
  }
  return { ok: false, status: 403, reason: 'the Access token is not valid' };
}

export function createAccessVerifier(settings: AccessSettings, options: AccessVerifierOptions = {}): AccessVerifier {
  const keys = createRemoteJWKSet(new URL('/cdn-cgi/access/certs', settings.teamDomain), {
    cooldownDuration: options.refetchCooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
  });
  return async (token) => {
    if (token === null || token.trim() === '') return { ok: false, status: 401, reason: 'missing Cf-Access-Jwt-Assertion: reach this server through Cloudflare Access' };
    try {
      const { payload } = await jwtVerify(token.trim(), keys, {
        issuer: settings.teamDomain,
        audience: settings.audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp'],
      });
      return { ok: true, actor: actorOf(payload) };
    } catch (error) {
      return failure(error);
    }
  };
}
