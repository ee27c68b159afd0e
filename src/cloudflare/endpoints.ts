/**
 * The one module that knows Cloudflare's paths: one function per documented
 * operation (spec/cloudflare-users.openapi.json), typed arguments in, typed
 * results out. No tool builds a path; composite tools call these too.
 *
 * `send` is whatever carries a request with a call's credentials, signal and
 * audit (the tool context); this module only says what to send.
 */
import type { ApiRequest, ApiResponse } from './client.js';

/** A documented operation: its OpenAPI operationId and path template, for logs and audit lines. */
export interface Operation {
  id: string;
  template: string;
}

/** What an endpoint hands to `send`: the request, minus what the call adds (credentials, signal, deadline). */
export interface EndpointRequest extends Omit<ApiRequest, 'authHeaders' | 'signal' | 'deadlineAt'> {
  operation: Operation;
  /** The ids this request is about, for audit lines and error texts. */
  subject: { account_id?: string; user_id?: string; email?: string; nonce?: string };
}

export type Send = (request: EndpointRequest) => Promise<ApiResponse>;

// Shapes as Cloudflare documents them (spec/). They arrive from the network, so whoever reads a field still
// checks it (the trimmer does): these types say what to expect, not what was verified.
export interface ResultInfo {
  page?: number;
  per_page?: number;
  count?: number;
  total_count?: number;
  total_pages?: number;
}

export interface AccessUser {
  id?: string;
  email?: string;
  name?: string;
  access_seat?: boolean;
  gateway_seat?: boolean;
  seat_uid?: string;
  active_device_count?: number;
  last_successful_login?: string;
  created_at?: string;
  updated_at?: string;
}

export interface ActiveSessionItem {
  name?: string;
  expiration?: number;
  metadata?: { nonce?: string; expires?: number; iat?: number; ttl?: number; apps?: Record<string, unknown> };
}

/** An identity (one active session, or the last-seen identity): many optional, nested fields. */
export interface Identity {
  email?: string;
  name?: string;
  ip?: string;
  geo?: { country?: string };
  idp?: { id?: string; type?: string };
  iat?: number;
  devices?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface FailedLogin {
  expiration?: number;
  metadata?: { app_name?: string; aud?: string; datetime?: string; ray_id?: string; user_email?: string; user_uuid?: string };
}

export interface CurrentUser {
  id?: string;
  email?: string;
  first_name?: string | null;
  last_name?: string | null;
  two_factor_authentication_enabled?: boolean;
  suspended?: boolean;
  [field: string]: unknown;
}

export interface Single<T> {
  result: T;
  status: number;
  attempts: number;
}

export interface Listed<T> extends Single<T[]> {
  resultInfo: ResultInfo | undefined;
}

export interface Deleted {
  status: number;
  attempts: number;
  /** The first response was lost and a retry found the user already gone. */
  deletedOnRetry: boolean;
}

export interface UserListQuery {
  email?: string | undefined;
  name?: string | undefined;
  search?: string | undefined;
  page?: number | undefined;
  per_page?: number | undefined;
}

export interface AccessUserBody {
  email: string;
  name?: string | undefined;
}

export const OPERATIONS = {
  getCurrentUser: { id: 'user-user-details', template: '/user' },
  listAccessUsers: { id: 'zero-trust-users-get-users', template: '/accounts/{account_id}/access/users' },
  createAccessUser: { id: 'zero-trust-users-create-user', template: '/accounts/{account_id}/access/users' },
  getAccessUser: { id: 'zero-trust-users-get-user', template: '/accounts/{account_id}/access/users/{user_id}' },
  updateAccessUser: { id: 'zero-trust-users-update-user', template: '/accounts/{account_id}/access/users/{user_id}' },
  deleteAccessUser: { id: 'zero-trust-users-delete-user', template: '/accounts/{account_id}/access/users/{user_id}' },
  listActiveSessions: { id: 'zero-trust-users-get-active-sessions', template: '/accounts/{account_id}/access/users/{user_id}/active_sessions' },
  getActiveSession: { id: 'zero-trust-users-get-active-session', template: '/accounts/{account_id}/access/users/{user_id}/active_sessions/{nonce}' },
  getLastSeenIdentity: { id: 'zero-trust-users-get-last-seen-identity', template: '/accounts/{account_id}/access/users/{user_id}/last_seen_identity' },
  listFailedLogins: { id: 'zero-trust-users-get-failed-logins', template: '/accounts/{account_id}/access/users/{user_id}/failed_logins' },
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

function users(accountId: string): string[] {
  return ['accounts', accountId, 'access', 'users'];
}

function single<T>(response: ApiResponse): Single<T> {
  return { result: response.result as T, status: response.status, attempts: response.attempts };
}

function listed<T>(response: ApiResponse): Listed<T> {
  return { ...single<T[]>(response), resultInfo: response.resultInfo as ResultInfo | undefined };
}

/** The documented operations, each sending through `send`. */
export function cloudflareEndpoints(send: Send) {
  return {
    async getCurrentUser(): Promise<Single<CurrentUser>> {
      return single(await send({ operation: OPERATIONS.getCurrentUser, subject: {}, method: 'GET', path: ['user'] }));
    },
    async listAccessUsers(accountId: string, query: UserListQuery = {}): Promise<Listed<AccessUser>> {
      const { email, name, search, page, per_page } = query;
      return listed(
        await send({
          operation: OPERATIONS.listAccessUsers,
          subject: { account_id: accountId },
          method: 'GET',
          path: users(accountId),
          query: { email, name, search, page, per_page },
        }),
      );
    },
    async getAccessUser(accountId: string, userId: string): Promise<Single<AccessUser>> {
      const subject = { account_id: accountId, user_id: userId };
      return single(await send({ operation: OPERATIONS.getAccessUser, subject, method: 'GET', path: [...users(accountId), userId] }));
    },
    async createAccessUser(accountId: string, body: AccessUserBody): Promise<Single<AccessUser>> {
      // No `name` key at all when none is given: Cloudflare then derives it, rather than storing "".
      const payload = body.name === undefined ? { email: body.email } : { email: body.email, name: body.name };
      const subject = { account_id: accountId, email: body.email };
      return single(await send({ operation: OPERATIONS.createAccessUser, subject, method: 'POST', path: users(accountId), body: payload }));
    },
    async updateAccessUser(accountId: string, userId: string, body: Required<AccessUserBody>): Promise<Single<AccessUser>> {
      const subject = { account_id: accountId, user_id: userId, email: body.email };
      const request = { method: 'PUT', path: [...users(accountId), userId], body: { email: body.email, name: body.name } } as const;
      return single(await send({ operation: OPERATIONS.updateAccessUser, subject, ...request }));
    },
    async deleteAccessUser(accountId: string, userId: string): Promise<Deleted> {
      const subject = { account_id: accountId, user_id: userId };
      const response = await send({ operation: OPERATIONS.deleteAccessUser, subject, method: 'DELETE', path: [...users(accountId), userId] });
      return { status: response.status, attempts: response.attempts, deletedOnRetry: response.deletedOnRetry === true };
    },
    async listActiveSessions(accountId: string, userId: string): Promise<Listed<ActiveSessionItem>> {
      const subject = { account_id: accountId, user_id: userId };
      const path = [...users(accountId), userId, 'active_sessions'];
      return listed(await send({ operation: OPERATIONS.listActiveSessions, subject, method: 'GET', path }));
    },
    async getActiveSession(accountId: string, userId: string, nonce: string): Promise<Single<Identity>> {
      const subject = { account_id: accountId, user_id: userId, nonce };
      const path = [...users(accountId), userId, 'active_sessions', nonce];
      return single(await send({ operation: OPERATIONS.getActiveSession, subject, method: 'GET', path }));
    },
    async getLastSeenIdentity(accountId: string, userId: string): Promise<Single<Identity>> {
      const subject = { account_id: accountId, user_id: userId };
      const path = [...users(accountId), userId, 'last_seen_identity'];
      return single(await send({ operation: OPERATIONS.getLastSeenIdentity, subject, method: 'GET', path }));
    },
    async listFailedLogins(accountId: string, userId: string): Promise<Listed<FailedLogin>> {
      const subject = { account_id: accountId, user_id: userId };
      const path = [...users(accountId), userId, 'failed_logins'];
      return listed(await send({ operation: OPERATIONS.listFailedLogins, subject, method: 'GET', path }));
    },
  };
}

export type CloudflareEndpoints = ReturnType<typeof cloudflareEndpoints>;
