/**
 * Shapes of the emulator's state. They mirror what Cloudflare returns (the
 * OpenAPI subset plus the extra fields the live API is known to add), so the
 * state can be serialised straight into responses.
 */

export interface AccessUser {
  id: string;
  uid: string;
  seat_uid: string;
  email: string;
  name: string;
  access_seat: boolean;
  gateway_seat: boolean;
  active_device_count: number;
  created_at: string;
  updated_at: string;
  /** Absent for users who never logged in. */
  last_successful_login?: string;
}

export interface AccessApp {
  uid: string;
  name: string;
  hostname: string;
  type: string;
  /** Application audience tag (64 hex), quoted in failed-login records. */
  aud: string;
}

export interface SessionApp {
  hostname: string;
  name: string;
  type: string;
  uid: string;
}

export interface ActiveSession {
  expiration: number;
  metadata: {
    apps: Record<string, SessionApp>;
    expires: number;
    iat: number;
    nonce: string;
    ttl: number;
  };
  name: string;
}

export interface DevicePostureRule {
  id: string;
  rule_name: string;
  type: string;
  description: string;
  schedule: string;
  timestamp: string;
  success: boolean;
  error: string;
  check: { exists: boolean; path: string };
  data: Record<string, unknown>;
  input: Record<string, unknown>;
}

export interface IdentityGroup {
  id: string;
  name: string;
  email: string;
}

export interface Identity {
  account_id: string;
  auth_status: string;
  common_name: string;
  devicePosture: Record<string, DevicePostureRule>;
  device_id: string;
  device_sessions: Record<string, { last_authenticated: number }>;
  email: string;
  geo: { country: string };
  iat: number;
  idp: { id: string; type: string };
  ip: string;
  is_gateway: boolean;
  is_warp: boolean;
  mtls_auth: {
    auth_status: string;
    cert_issuer_dn: string;
    cert_issuer_ski: string;
    cert_presented: boolean;
    cert_serial: string;
  };
  service_token_id: string;
  service_token_status: boolean;
  user_uuid: string;
  version: number;
  /** Extras the live API returns from the IdP: group memberships and custom claims. */
  groups: IdentityGroup[];
  custom: Record<string, string>;
}

/** An active session and the identity behind it (what GET .../active_sessions/{nonce} returns). */
export interface StoredSession {
  session: ActiveSession;
  identity: Identity;
}

export interface FailedLogin {
  expiration: number;
  metadata: {
    app_name: string;
    aud: string;
    datetime: string;
    ray_id: string;
    user_email: string;
    user_uuid: string;
  };
}

export interface OrganizationMembership {
  id: string;
  name: string;
  permissions: string[];
  roles: string[];
  status: 'member' | 'invited';
}

/** The token owner, as GET /user returns it. */
export interface TokenOwner {
  id: string;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  telephone: string;
  country: string;
  zipcode: string;
  created_on: string;
  modified_on: string;
  two_factor_authentication_enabled: boolean;
  two_factor_authentication_locked: boolean;
  has_pro_zones: boolean;
  has_business_zones: boolean;
  has_enterprise_zones: boolean;
  organizations: OrganizationMembership[];
  betas: string[];
  suspended: boolean;
}

/** Mutable state the request handlers work on. */
export interface SandboxData {
  accountId: string;
  owner: TokenOwner;
  /** Keyed by lowercase user id. */
  users: Map<string, AccessUser>;
  /** Keyed by user id; newest session first. */
  sessions: Map<string, StoredSession[]>;
  /** Keyed by user id; only users who ever logged in. */
  lastSeenIdentities: Map<string, Identity>;
  /** Keyed by user id; newest first. */
  failedLogins: Map<string, FailedLogin[]>;
  apps: AccessApp[];
}

/** Read-only view of the state handed to tests (the live maps, typed read-only). */
export interface SandboxState {
  readonly accountId: string;
  readonly owner: Readonly<TokenOwner>;
  readonly users: ReadonlyMap<string, Readonly<AccessUser>>;
  readonly sessions: ReadonlyMap<string, readonly Readonly<StoredSession>[]>;
  readonly lastSeenIdentities: ReadonlyMap<string, Readonly<Identity>>;
  readonly failedLogins: ReadonlyMap<string, readonly Readonly<FailedLogin>[]>;
  readonly apps: readonly Readonly<AccessApp>[];
}
