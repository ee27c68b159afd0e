/**
 * Lists against the upstream body, on two differently shaped data sets: the emulator's default seed, and the
 * `varied` one (long non-ASCII names and emails, seats and device counts varying per row, src/sandbox/seed.ts).
 * Sizes are UTF-8 bytes of the tool's text against the upstream body pretty-printed (what a generic bridge
 * returns), both deterministic: the data is seeded. Every default column must be recoverable from the result,
 * and the rest through `fields`.
 *
 * Run `npx vitest run test/list-size.test.ts` for the figures (printed per data set).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeedShape } from '../src/sandbox/emulator.js';
import { startHarness, rowsOf, textOf, type Harness } from './helpers/harness.js';

type Json = Record<string, unknown>;
interface Envelope {
  result: Json[];
  result_info?: Json;
}

const GOAL = 0.35;
const bytes = (text: string) => Buffer.byteLength(text);
const prettyBytes = (body: unknown) => bytes(JSON.stringify(body, null, 2));
/** A timestamp cut to the second (independent of the implementation). */
const toSecond = (text: string) => text.replace(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z$/, '$1Z');
const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');

/** The figures, printed after each data set. */
const figures: Record<string, Record<string, string>> = {};

describe.each<SeedShape>(['default', 'varied'])('lists on the %s data', (shape) => {
  let h: Harness;
  const upstream = async (path: string): Promise<Envelope> => {
    const response = await fetch(`${h.emulator.baseUrl}/accounts/${h.emulator.accountId}${path}`, {
      headers: { authorization: `Bearer ${h.emulator.credentials.apiToken}` },
    });
    return (await response.json()) as Envelope;
  };
  const call = async (name: string, args: Json) => {
    const result = await h.call(name, args);
    expect(result.isError, textOf(result)).toBeFalsy();
    return { text: textOf(result), data: result.structuredContent as Json };
  };
  /** Users with at least one item in `kind`, from the whole account. */
  const holders = async (kind: string) => {
    const everyone = (await upstream('/access/users?per_page=1000')).result;
    const found: { id: string; body: Envelope }[] = [];
    for (const user of everyone) {
      const body = await upstream(`/access/users/${String(user['id'])}/${kind}`);
      if (body.result.length > 0) found.push({ id: String(user['id']), body });
    }
    return found;
  };

  beforeAll(async () => {
    h = await startHarness({ emulator: { shape } });
    figures[shape] = {};
  });
  afterAll(async () => {
    await h.close();
    console.log(`list sizes, ${shape} data (ours ÷ pretty upstream, UTF-8 bytes):`, figures[shape]);
  });

  it('a page of 50 users is at most 0.35 of the pretty upstream body, with every id, email, name, seat, device count and last login', async () => {
    const body = await upstream('/access/users?per_page=50');
    expect(body.result).toHaveLength(50);
    const { text, data } = await call('list_access_users', { per_page: 50 });
    const ratio = bytes(text) / prettyBytes(body);
    figures[shape]!['list_access_users (50)'] = ratio.toFixed(3);
    expect(ratio).toBeLessThanOrEqual(GOAL);

    const rows = rowsOf(data);
    expect(rows).toHaveLength(50);
    body.result.forEach((user, index) => {
      const row = rows[index]!;
      for (const field of ['id', 'email', 'name', 'access_seat', 'gateway_seat', 'active_device_count']) expect(row[field], `${index}.${field}`).toBe(user[field]);
      // To the second, as upstream gives it; null when the user never logged in.
      const login = user['last_successful_login'];
      expect(row['last_successful_login'], `${index}.last_successful_login`).toBe(typeof login === 'string' ? toSecond(login) : null);
    });
    if (shape === 'varied') {
      // The shape is what it claims: seats vary per row (none hoisted into same), names are long and non-ASCII.
      expect(data['same']).toBeUndefined();
      expect(body.result.some((user) => /[^\x00-\x7f]/.test(String(user['email'])))).toBe(true);
    }
    // The record's bookkeeping is named, and comes through fields.
    expect(data['more_fields']).toEqual(['created_at', 'updated_at', 'seat_uid']);
    const extra = rowsOf((await call('list_access_users', { per_page: 50, fields: ['id', 'created_at', 'updated_at', 'seat_uid'] })).data);
    body.result.forEach((user, index) => {
      expect(extra[index]).toEqual({
        id: user['id'],
        created_at: toSecond(String(user['created_at'])),
        updated_at: toSecond(String(user['updated_at'])),
        seat_uid: user['seat_uid'],
      });
    });
  });

  it('active sessions: at most 0.35 of the pretty upstream body for every user who has any; nonce, apps, issued, expires recoverable', async () => {
    const found = await holders('active_sessions');
    expect(found.length).toBeGreaterThan(5);
    let worst = 0;
    let ours = 0;
    let theirs = 0;
    for (const { id, body } of found) {
      const { text, data } = await call('list_active_sessions', { user_id: id });
      worst = Math.max(worst, bytes(text) / prettyBytes(body));
      ours += bytes(text);
      theirs += prettyBytes(body);
      const rows = rowsOf(data);
      body.result.forEach((item, index) => {
        const metadata = item['metadata'] as Json;
        const apps = Object.values(metadata['apps'] as Record<string, Json>);
        expect(rows[index]).toMatchObject({ nonce: metadata['nonce'], issued: iso(Number(metadata['iat'])), expires: iso(Number(metadata['expires'])) });
        expect(rows[index]!['apps']).toEqual(apps.map((app) => `${String(app['name'])} (${String(app['hostname'])}${app['type'] === 'self_hosted' ? '' : `, ${String(app['type'])}`})`));
      });
      expect(data['more_fields']).toEqual(['ttl', 'name']);
    }
    figures[shape]!['list_active_sessions (worst user)'] = worst.toFixed(3);
    figures[shape]!['list_active_sessions (all users)'] = (ours / theirs).toFixed(3);
    expect(worst).toBeLessThanOrEqual(GOAL);
  });

  it('failed logins: at most 0.35 of the pretty upstream body for every user who has any; time, app, Ray ID recoverable, the rest through fields', async () => {
    const found = await holders('failed_logins');
    expect(found.length).toBeGreaterThan(5);
    let worst = 0;
    let ours = 0;
    let theirs = 0;
    for (const { id, body } of found) {
      const { text, data } = await call('list_failed_logins', { user_id: id });
      worst = Math.max(worst, bytes(text) / prettyBytes(body));
      ours += bytes(text);
      theirs += prettyBytes(body);
      const rows = rowsOf(data);
      body.result.forEach((item, index) => {
        const metadata = item['metadata'] as Json;
        expect(rows[index]).toEqual({ datetime: toSecond(String(metadata['datetime'])), app_name: metadata['app_name'], ray_id: metadata['ray_id'] });
      });
      expect(data['more_fields']).toEqual(['expiration', 'aud', 'user_email', 'user_uuid']);
    }
    figures[shape]!['list_failed_logins (worst user)'] = worst.toFixed(3);
    figures[shape]!['list_failed_logins (all users)'] = (ours / theirs).toFixed(3);
    expect(worst).toBeLessThanOrEqual(GOAL);

    const { id, body } = found[0]!;
    const all = rowsOf((await call('list_failed_logins', { user_id: id, fields: ['ray_id', 'expiration', 'aud', 'user_email', 'user_uuid'] })).data);
    body.result.forEach((item, index) => {
      const metadata = item['metadata'] as Json;
      expect(all[index]).toEqual({
        ray_id: metadata['ray_id'],
        expiration: iso(Number(item['expiration'])),
        aud: metadata['aud'],
        user_email: metadata['user_email'],
        user_uuid: metadata['user_uuid'],
      });
    });
  });
});
