/**
 * Deterministic demo data for the sandbox: a small company's Zero Trust
 * users, their sessions, identities and failed logins. Everything derives
 * from one seed and a fixed reference "now", so every run (and every test)
 * sees the same account. Three anchor users have fixed ids so integration
 * tests can name them without listing first.
 */
import type {
  AccessApp,
  AccessUser,
  DevicePostureRule,
  FailedLogin,
  Identity,
  IdentityGroup,
  SandboxData,
  SessionApp,
  StoredSession,
  TokenOwner,
} from './types.js';

/** Account every sandbox answers for unless told otherwise. */
export const SANDBOX_ACCOUNT_ID = '9a7806061c88ada191ed06f989cc3dac';
export const DEFAULT_SEED = 20261101;
export const DEFAULT_USER_COUNT = 60;
/** Fixed clock the demo data is generated against: 2026-11-01T00:00:00Z. */
export const SANDBOX_REFERENCE_NOW_MS = Date.UTC(2026, 10, 1, 0, 0, 0);

/** Anchor users, present whenever userCount is at least 1, 2 and 3 respectively. */
export const SANDBOX_ALICE = {
  id: '3f0c6a52-9d1e-4b7a-a3c5-7e2d8f1b6049',
  email: 'alice@corp.example',
  name: 'Alice Nakamura',
  /** Nonce of her newest active session (she has 3). */
  sessionNonce: 'kT3vQ9xLm2PzR7wB',
  sessionCount: 3,
  failedLoginCount: 3,
} as const;
/** Never logged in: no last_successful_login, no sessions, no last-seen identity (404), no failed logins. */
export const SANDBOX_BOB = {
  id: '8d2e4b17-60a9-4c3f-9e51-b7a0c4d2f813',
  email: 'bob@corp.example',
  name: 'Bob Lindqvist',
} as const;
/** Logged in before but has no active session; has a last-seen identity and 2 failed logins. */
export const SANDBOX_CAROL = {
  id: 'c51a7e09-2b84-4f6d-8a13-5e9b0d7c2a46',
  email: 'carol@example.com',
  name: 'Carol Mendes',
  failedLoginCount: 2,
} as const;

// ---------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: tiny, fast, good enough for demo data; no dependency. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class SeededRandom {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  float(): number {
    return this.next();
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Fisher-Yates on a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const a = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = a;
    }
    return copy;
  }

  chars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  hex(length: number): string {
    return this.chars(length, HEX);
  }

  alnum(length: number): string {
    return this.chars(length, ALNUM);
  }

  /** RFC 4122 version 4 UUID from the seeded stream. */
  uuid(): string {
    const variant = HEX[8 + this.int(0, 3)] ?? '8';
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }
}

// ---------------------------------------------------------------------------
// Timestamp formats the live API uses

/** "2023-03-14T09:26:53.589793Z": Access user timestamps carry microseconds. */
export function isoMicro(epochMs: number, microDigits: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 23)}${String(microDigits % 1000).padStart(3, '0')}Z`;
}

/** "2020-07-01T05:20:00Z": last_successful_login has second precision. */
export function isoSeconds(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19)}Z`;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

// ---------------------------------------------------------------------------
// Pools

const FIRST_NAMES = [
  'Aaron', 'Abigail', 'Adrian', 'Aisha', 'Amir', 'Ana', 'Andre', 'Beatriz', 'Ben', 'Chen', 'Chloe', 'Daniel', 'Deepa',
  'Diego', 'Elena', 'Emeka', 'Emma', 'Farah', 'Felix', 'Grace', 'Hannah', 'Hiroshi', 'Ines', 'Isaac', 'Ivan', 'Jamal',
  'Jana', 'Javier', 'Jin', 'Julia', 'Kai', 'Kenji', 'Laila', 'Lars', 'Leah', 'Liam', 'Lucia', 'Malik', 'Maria',
  'Mateo', 'Maya', 'Mei', 'Nadia', 'Noah', 'Olga', 'Omar', 'Priya', 'Rafael', 'Rania', 'Ravi', 'Rosa', 'Sami', 'Sara',
  'Sofia', 'Tariq', 'Thomas', 'Uma', 'Victor', 'Wei', 'Yara', 'Yusuf', 'Zoe',
];
const LAST_NAMES = [
  'Abbott', 'Adeyemi', 'Almeida', 'Andersson', 'Bauer', 'Becker', 'Brennan', 'Castillo', 'Chowdhury', 'Costa', 'Dubois',
  'Eriksen', 'Fischer', 'Fonseca', 'García', 'Gupta', 'Haddad', 'Hansen', 'Hoffmann', 'Ibrahim', 'Ito', 'Jensen',
  'Kapoor', 'Kim', 'Kowalski', 'Larsen', 'Lee', 'Lopez', 'Mahmoud', 'Martin', 'Moreau', 'Müller', 'Nguyen', 'Novak',
  "O'Brien", 'Okafor', 'Olsen', 'Park', 'Patel', 'Pereira', 'Petrov', 'Quinn', 'Reyes', 'Rossi', 'Sato', 'Schmidt',
  'Silva', 'Singh', 'Sokolova', 'Tanaka', 'Torres', 'Varga', 'Wagner', 'Walsh', 'Wang', 'Weber', 'Yamamoto', 'Zhang',
];
/**
 * The second data shape (`shape: 'varied'`): long, non-ASCII names and emails, so a trimmer tuned on short ASCII
 * rows is measured on rows unlike them (with seats that vary per row, see variedUser).
 */
const VARIED_FIRST_NAMES = [
  'Þórhildur', 'Zoë-Émilie', 'Åsa-Kristín', 'Jürgen-Maximilian', 'François-Xavier', 'Łucja', 'Αλεξάνδρα', 'Дмитрий',
  'Nguyễn Thị Thanh', 'Søren-Aksel', 'María José', 'Chiamaka Ngozi', 'Ştefan', 'Anne-Sophie', 'Kristófer', 'Sebastián',
];
const VARIED_LAST_NAMES = [
  'Vandenberghe-Ødegård', 'Wiśniewska-Kowalczyk', 'Παπαδοπούλου', 'Rodríguez de la Fuente', 'van der Westhuizen',
  'Ó Súilleabháin', 'Gonçalves Magalhães', 'Христофорова', 'Oyelaran-Okonkwo', 'Großmann-Schäfer', 'Nørgaard-Jørgensen',
  'Dăscălescu', 'Þorsteinsdóttir', 'Ben Abdallah El Idrissi', 'Castellanos Úbeda',
];
const VARIED_DOMAINS = ['forschung-und-entwicklung.beispiel-konzern.example', 'société-générale-des-données.example', 'research.subsidiary-holdings.example'];
const COUNTRIES = ['US', 'US', 'US', 'US', 'GB', 'DE', 'FR', 'CA', 'JP', 'IN', 'BR', 'NL', 'AU', 'PT'];
const GROUP_NAMES = ['Engineering', 'IT Admins', 'Sales', 'Finance', 'Support', 'Marketing', 'Contractors', 'Security'];

const APP_TEMPLATES: ReadonlyArray<Omit<AccessApp, 'uid' | 'aud'>> = [
  { name: 'Grafana', hostname: 'grafana.corp.example', type: 'self_hosted' },
  { name: 'Internal Wiki', hostname: 'wiki.corp.example', type: 'self_hosted' },
  { name: 'GitLab', hostname: 'gitlab.corp.example', type: 'self_hosted' },
  { name: 'Jenkins', hostname: 'ci.corp.example', type: 'self_hosted' },
  { name: 'Salesforce', hostname: 'corp-example.my.salesforce.com', type: 'saas' },
  { name: 'Bastion SSH', hostname: 'ssh.corp.example', type: 'ssh' },
  { name: 'Admin Console', hostname: 'admin.corp.example', type: 'self_hosted' },
  { name: 'Zendesk', hostname: 'corp-example.zendesk.com', type: 'saas' },
];

interface PostureTemplate {
  rule_name: string;
  type: string;
  description: string;
  check: { exists: boolean; path: string };
  input: Record<string, unknown>;
  /** What the device reported when the check passed. */
  data: Record<string, unknown>;
  failure: string;
}

const POSTURE_TEMPLATES: readonly PostureTemplate[] = [
  {
    rule_name: 'Disk encryption', type: 'disk_encryption', description: 'All volumes encrypted (FileVault / BitLocker)',
    check: { exists: false, path: '' }, input: { requireAll: true }, data: {}, failure: 'disk encryption is not enabled on volume /',
  },
  {
    rule_name: 'Firewall enabled', type: 'firewall', description: 'Host firewall must be on',
    check: { exists: false, path: '' }, input: { enabled: true }, data: {}, failure: 'firewall is disabled',
  },
  {
    rule_name: 'macOS 14.4 or later', type: 'os_version', description: 'Minimum supported macOS version',
    check: { exists: false, path: '' }, input: { operator: '>=', version: '14.4.0' }, data: { version: '14.6.1' },
    failure: 'os version 13.6.7 does not satisfy >= 14.4.0',
  },
  {
    rule_name: 'Joined to CORP domain', type: 'domain_joined', description: 'Windows devices joined to corp.example',
    check: { exists: false, path: '' }, input: { domain: 'corp.example' }, data: {}, failure: 'device is not joined to domain corp.example',
  },
  {
    rule_name: 'WARP client connected', type: 'warp', description: 'Require the Cloudflare WARP client',
    check: { exists: false, path: '' }, input: {}, data: {}, failure: 'WARP client is not connected',
  },
  {
    rule_name: 'Gateway enrolled', type: 'gateway', description: 'Traffic goes through Cloudflare Gateway',
    check: { exists: false, path: '' }, input: {}, data: {}, failure: 'device is not enrolled in Gateway',
  },
  {
    rule_name: 'CrowdStrike sensor installed', type: 'file', description: 'Falcon sensor config present',
    check: { exists: true, path: '/Library/Application Support/CrowdStrike/Falcon/falcon.plist' },
    input: { exists: true, operating_system: 'mac', path: '/Library/Application Support/CrowdStrike/Falcon/falcon.plist' },
    data: {}, failure: 'file /Library/Application Support/CrowdStrike/Falcon/falcon.plist not found',
  },
  {
    rule_name: 'Endpoint agent running', type: 'application', description: 'EDR agent process must be running',
    check: { exists: true, path: '/Applications/Falcon.app' },
    input: { operating_system: 'mac', path: '/Applications/Falcon.app', running: true }, data: {},
    failure: 'application /Applications/Falcon.app is not running',
  },
  {
    rule_name: 'CrowdStrike ZTA score', type: 'crowdstrike_s2s', description: 'Overall ZTA score of at least 70',
    check: { exists: false, path: '' }, input: { operator: '>=', overall: 70 }, data: { overall: 88, os: 92, sensor_config: 85 },
    failure: 'overall score 54 does not satisfy >= 70',
  },
  {
    rule_name: 'Corporate client certificate', type: 'client_certificate', description: 'Device certificate issued by Corp Device CA',
    check: { exists: false, path: '' }, input: { cn: '{{serial_number}}' }, data: {}, failure: 'no client certificate presented',
  },
];

interface PostureRuleDefinition extends PostureTemplate {
  id: string;
}

interface SeedContext {
  rng: SeededRandom;
  accountId: string;
  apps: AccessApp[];
  postureRules: PostureRuleDefinition[];
  groups: IdentityGroup[];
  idps: Record<'corp' | 'other', { id: string; type: string }>;
  nowMs: number;
}

// ---------------------------------------------------------------------------
// Builders

function emailLocalPart(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

function makeIdentity(ctx: SeedContext, user: AccessUser, iat: number, withDevice: boolean): Identity {
  const { rng } = ctx;
  const corp = user.email.endsWith('@corp.example');
  const deviceId = withDevice ? rng.uuid() : '';
  const deviceSessions: Record<string, { last_authenticated: number }> = {};
  const devicePosture: Record<string, DevicePostureRule> = {};
  if (withDevice) {
    const deviceCount = Math.max(1, Math.min(3, user.active_device_count));
    for (let i = 0; i < deviceCount; i++) {
      const id = i === 0 ? deviceId : rng.uuid();
      deviceSessions[id] = { last_authenticated: iat - (i === 0 ? 0 : rng.int(600, 5 * 86_400)) };
    }
    const ruleCount = rng.int(5, Math.min(10, ctx.postureRules.length));
    for (const rule of rng.shuffle(ctx.postureRules).slice(0, ruleCount)) {
      const success = !rng.chance(0.18);
      devicePosture[rule.id] = {
        id: rule.id,
        rule_name: rule.rule_name,
        type: rule.type,
        description: rule.description,
        schedule: rng.pick(['5m', '10m', '30m', '1h']),
        timestamp: new Date(iat * 1000 - rng.int(5, 1800) * 1000 - rng.int(0, 999)).toISOString(),
        success,
        error: success ? '' : rule.failure,
        check: { ...rule.check },
        data: success ? { ...rule.data } : {},
        input: { ...rule.input },
      };
    }
  }
  const certPresented = withDevice && rng.chance(0.25);
  const userGroups = rng.shuffle(ctx.groups).slice(0, rng.int(1, 3));
  const ip = rng.chance(0.15)
    ? `2001:db8:${rng.hex(4)}::${rng.hex(3)}`
    : `${rng.pick(['192.0.2', '198.51.100', '203.0.113'])}.${rng.int(1, 254)}`;
  return {
    account_id: ctx.accountId,
    auth_status: 'NONE',
    common_name: certPresented ? `${deviceId}.devices.corp.example` : '',
    devicePosture,
    device_id: deviceId,
    device_sessions: deviceSessions,
    email: user.email,
    geo: { country: rng.pick(COUNTRIES) },
    iat,
    idp: corp ? { ...ctx.idps.corp } : { ...ctx.idps.other },
    ip,
    is_gateway: withDevice && user.gateway_seat,
    is_warp: withDevice,
    mtls_auth: certPresented
      ? {
          auth_status: 'OK',
          cert_issuer_dn: 'CN=Corp Example Device CA,O=Corp Example Inc.,C=US',
          cert_issuer_ski: rng.hex(40).toUpperCase(),
          cert_presented: true,
          cert_serial: rng.hex(32).toUpperCase(),
        }
      : { auth_status: 'NONE', cert_issuer_dn: '', cert_issuer_ski: '', cert_presented: false, cert_serial: '' },
    service_token_id: '',
    service_token_status: false,
    user_uuid: user.id,
    version: 2,
    groups: userGroups.map((group) => ({ ...group })),
    custom: { department: userGroups[0]?.name ?? 'Engineering', employee_type: rng.chance(0.9) ? 'full_time' : 'contractor' },
  };
}

function makeSession(ctx: SeedContext, user: AccessUser, nonce: string): StoredSession {
  const { rng } = ctx;
  const nowSeconds = Math.floor(ctx.nowMs / 1000);
  const ttl = rng.pick([21_600, 43_200, 86_400, 86_400, 604_800]);
  const iat = nowSeconds - rng.int(120, ttl - 600);
  const expires = iat + ttl;
  const apps: Record<string, SessionApp> = {};
  for (const app of rng.shuffle(ctx.apps).slice(0, rng.int(1, 3))) {
    apps[app.uid] = { hostname: app.hostname, name: app.name, type: app.type, uid: app.uid };
  }
  return {
    session: { expiration: expires, metadata: { apps, expires, iat, nonce, ttl }, name: user.name },
    identity: makeIdentity(ctx, user, iat, true),
  };
}

function makeFailedLogins(ctx: SeedContext, user: AccessUser, count: number): FailedLogin[] {
  const { rng } = ctx;
  const logins: FailedLogin[] = [];
  for (let i = 0; i < count; i++) {
    const app = rng.pick(ctx.apps);
    const atMs = ctx.nowMs - rng.int(HOUR_MS, 14 * DAY_MS);
    logins.push({
      // Access keeps failed-login records for 30 days.
      expiration: Math.floor(atMs / 1000) + 30 * 86_400,
      metadata: {
        app_name: app.name,
        aud: app.aud,
        datetime: new Date(atMs).toISOString(),
        ray_id: rng.hex(16),
        user_email: user.email,
        user_uuid: user.id,
      },
    });
  }
  return logins.sort((a, b) => b.metadata.datetime.localeCompare(a.metadata.datetime));
}

function makeOwner(accountId: string, email: string): TokenOwner {
  return {
    id: '7c5dae5552338874e5053f2534d2767a',
    email,
    username: 'f2a4c7e61b9d03855e7a1c4b6d8f0e23',
    first_name: 'Sam',
    last_name: 'Rivera',
    telephone: '+1 415-555-0134',
    country: 'US',
    zipcode: '94107',
    created_on: '2021-06-15T17:02:11.273850Z',
    modified_on: '2026-09-30T08:41:57.102934Z',
    two_factor_authentication_enabled: true,
    two_factor_authentication_locked: false,
    has_pro_zones: true,
    has_business_zones: false,
    has_enterprise_zones: false,
    organizations: [
      {
        id: accountId,
        name: 'Corp Example',
        permissions: ['#access:read', '#access:edit', '#analytics:read', '#auditlogs:read', '#member:read', '#organization:read', '#teams:read', '#teams:edit', '#zone:read'],
        roles: ['Super Administrator - All Privileges'],
        status: 'member',
      },
    ],
    betas: ['zone_level_access_beta'],
    suspended: false,
  };
}

/** `default`: the demo company. `varied`: long non-ASCII names and emails, seats varying per row. */
export type SeedShape = 'default' | 'varied';

export interface SeedOptions {
  seed: number;
  userCount: number;
  accountId: string;
  ownerEmail: string;
  /** Default `default`; the default data stays byte for byte what it was. */
  shape?: SeedShape;
}

/** An internationalized email local part: lowercase, spaces and apostrophes become dots, letters kept as they are. */
function variedLocalPart(text: string): string {
  return text.toLowerCase().replace(/[\s']+/g, '.');
}

/**
 * A user of the varied shape: long non-ASCII name and email, and each seat flag and the device count drawn on
 * its own, so no column is the same on every row of a page.
 */
function variedUser(rng: SeededRandom, usedEmails: Set<string>, startMs: number, nowMs: number): AccessUser {
  const first = rng.pick(VARIED_FIRST_NAMES);
  const last = rng.pick(VARIED_LAST_NAMES);
  const base = `${variedLocalPart(first)}.${variedLocalPart(last)}`;
  const domain = rng.pick(VARIED_DOMAINS);
  let email = `${base}@${domain}`;
  for (let n = 2; usedEmails.has(email); n++) email = `${base}${n}@${domain}`;
  usedEmails.add(email);
  const createdMs = rng.int(startMs, nowMs - 20 * DAY_MS);
  const createdAt = isoMicro(createdMs, rng.int(0, 999));
  const updatedAt = rng.chance(0.3) ? createdAt : isoMicro(rng.int(createdMs, nowMs - DAY_MS), rng.int(0, 999));
  const id = rng.uuid();
  const user: AccessUser = {
    id,
    uid: id,
    seat_uid: rng.hex(32),
    email,
    name: `${first} ${last}`,
    access_seat: rng.chance(0.5),
    gateway_seat: rng.chance(0.5),
    active_device_count: rng.int(0, 6),
    created_at: createdAt,
    updated_at: updatedAt,
  };
  if (!rng.chance(0.1)) user.last_successful_login = isoSeconds(rng.int(Math.max(createdMs, nowMs - 120 * DAY_MS), nowMs - HOUR_MS));
  return user;
}

/** Builds the whole demo account. Same options, same data, byte for byte. */
export function seedSandbox(options: SeedOptions): SandboxData {
  const rng = new SeededRandom(options.seed);
  const nowMs = SANDBOX_REFERENCE_NOW_MS;
  const apps: AccessApp[] = APP_TEMPLATES.map((template) => ({ ...template, uid: rng.uuid(), aud: rng.hex(64) }));
  const ctx: SeedContext = {
    rng,
    accountId: options.accountId,
    apps,
    postureRules: POSTURE_TEMPLATES.map((template) => ({ ...template, id: rng.uuid() })),
    groups: GROUP_NAMES.map((name) => ({ id: rng.uuid(), name, email: `${emailLocalPart(name)}@corp.example` })),
    idps: { corp: { id: rng.uuid(), type: 'okta' }, other: { id: rng.uuid(), type: 'onetimepin' } },
    nowMs,
  };

  const userCount = Math.max(0, Math.floor(options.userCount));
  const users: AccessUser[] = [];
  const anchors: AccessUser[] = [
    {
      id: SANDBOX_ALICE.id, uid: SANDBOX_ALICE.id, seat_uid: 'a1c3e5f7092b4d6f8a0c2e4b6d8f0a13', email: SANDBOX_ALICE.email,
      name: SANDBOX_ALICE.name, access_seat: true, gateway_seat: true, active_device_count: 2,
      created_at: '2023-02-06T16:45:12.381604Z', updated_at: '2026-08-19T10:02:44.917230Z', last_successful_login: '2026-10-31T17:42:08Z',
    },
    {
      id: SANDBOX_BOB.id, uid: SANDBOX_BOB.id, seat_uid: 'b2d4f6a8193c5e7a9b1d3f5a7c9e1b24', email: SANDBOX_BOB.email,
      name: SANDBOX_BOB.name, access_seat: false, gateway_seat: false, active_device_count: 0,
      created_at: '2026-10-20T11:03:27.550183Z', updated_at: '2026-10-20T11:03:27.550183Z',
    },
    {
      id: SANDBOX_CAROL.id, uid: SANDBOX_CAROL.id, seat_uid: 'c3e5a7b92a4d6f8b0c2e4a6c8e0f2b35', email: SANDBOX_CAROL.email,
      name: SANDBOX_CAROL.name, access_seat: true, gateway_seat: false, active_device_count: 0,
      created_at: '2023-07-11T08:15:40.902117Z', updated_at: '2025-12-02T14:27:09.338561Z', last_successful_login: '2026-09-14T13:08:51Z',
    },
  ];
  users.push(...anchors.slice(0, userCount));

  const usedEmails = new Set(users.map((user) => user.email));
  const startMs = Date.UTC(2022, 2, 1);
  const randomUsers: AccessUser[] = [];
  while (users.length < userCount) {
    if (options.shape === 'varied') {
      const user = variedUser(rng, usedEmails, startMs, nowMs);
      users.push(user);
      randomUsers.push(user);
      continue;
    }
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const corp = rng.chance(0.7);
    const base = corp ? `${emailLocalPart(first)}.${emailLocalPart(last)}` : `${emailLocalPart(first).charAt(0)}${emailLocalPart(last)}`;
    const domain = corp ? 'corp.example' : 'example.com';
    let email = `${base}@${domain}`;
    for (let n = 2; usedEmails.has(email); n++) email = `${base}${n}@${domain}`;
    usedEmails.add(email);

    const createdMs = rng.int(startMs, nowMs - 20 * DAY_MS);
    const createdAt = isoMicro(createdMs, rng.int(0, 999));
    const updatedAt = rng.chance(0.4) ? createdAt : isoMicro(rng.int(createdMs, nowMs - DAY_MS), rng.int(0, 999));
    const loggedIn = !rng.chance(0.08);
    const gatewaySeat = loggedIn && rng.chance(0.55);
    const user: AccessUser = {
      id: rng.uuid(),
      uid: '',
      seat_uid: rng.hex(32),
      email,
      name: `${first} ${last}`,
      access_seat: loggedIn && rng.chance(0.85),
      gateway_seat: gatewaySeat,
      active_device_count: gatewaySeat ? rng.int(1, 4) : 0,
      created_at: createdAt,
      updated_at: updatedAt,
    };
    user.uid = user.id;
    if (loggedIn) user.last_successful_login = isoSeconds(rng.int(Math.max(createdMs, nowMs - 120 * DAY_MS), nowMs - HOUR_MS));
    users.push(user);
    randomUsers.push(user);
  }

  const data: SandboxData = {
    accountId: options.accountId,
    owner: makeOwner(options.accountId, options.ownerEmail),
    users: new Map(users.map((user) => [user.id, user])),
    sessions: new Map(),
    lastSeenIdentities: new Map(),
    failedLogins: new Map(),
    apps,
  };

  // Sessions: alice plus about a quarter of the random users who have logged in (at least 10 in all when possible).
  const alice = users.find((user) => user.id === SANDBOX_ALICE.id);
  const candidates = randomUsers.filter((user) => user.last_successful_login !== undefined);
  const sessionHolders = rng.shuffle(candidates).slice(0, Math.max(9, Math.round(candidates.length / 4)));
  if (alice) sessionHolders.unshift(alice);
  for (const user of sessionHolders) {
    // A live session implies an Access seat; posture data implies a WARP device (the varied shape keeps its
    // per-row gateway seats and device counts, so they stay varied on a page).
    user.access_seat = true;
    if (options.shape !== 'varied') {
      user.gateway_seat = true;
      user.active_device_count = Math.max(1, user.active_device_count);
    }
    const isAlice = user.id === SANDBOX_ALICE.id;
    const count = isAlice ? SANDBOX_ALICE.sessionCount : rng.int(1, 4);
    const sessions: StoredSession[] = [];
    for (let i = 0; i < count; i++) sessions.push(makeSession(ctx, user, rng.alnum(16)));
    sessions.sort((a, b) => b.session.metadata.iat - a.session.metadata.iat);
    // Alice's newest session gets the fixed nonce tests refer to.
    const aliceNewest = isAlice ? sessions[0] : undefined;
    if (aliceNewest) aliceNewest.session.metadata.nonce = SANDBOX_ALICE.sessionNonce;
    data.sessions.set(user.id, sessions);
    const newest = sessions[0];
    if (newest) {
      data.lastSeenIdentities.set(user.id, structuredClone(newest.identity));
      user.last_successful_login = isoSeconds(newest.session.metadata.iat * 1000);
    }
  }

  // Last seen identity for everyone else who logged in.
  for (const user of users) {
    if (user.last_successful_login === undefined || data.lastSeenIdentities.has(user.id)) continue;
    const iat = Math.floor(Date.parse(user.last_successful_login) / 1000);
    data.lastSeenIdentities.set(user.id, makeIdentity(ctx, user, iat, user.gateway_seat));
  }

  // Failed logins: fixed counts for the anchors, 1-8 for about 30% of the rest.
  for (const user of users) {
    let count = 0;
    if (user.id === SANDBOX_ALICE.id) count = SANDBOX_ALICE.failedLoginCount;
    else if (user.id === SANDBOX_CAROL.id) count = SANDBOX_CAROL.failedLoginCount;
    else if (user.id !== SANDBOX_BOB.id && rng.chance(0.3)) count = rng.int(1, 8);
    if (count > 0) data.failedLogins.set(user.id, makeFailedLogins(ctx, user, count));
  }
  return data;
}
