/**
 * The one table of open sessions, Streamable HTTP and SSE together, so a single
 * cap bounds the memory both can hold. When it is full, the least recently used
 * session with nothing in flight is closed to make room: clients that open
 * sessions and never close them cannot lock everyone else out. Only when every
 * session is busy does a new one get refused.
 *
 * Portable (no Node API): the shared HTTP app owns it; legacy SSE (Node only) adds its sessions to it.
 */
import type { Logger } from '../log.js';
import type { SessionBinding } from './credentials.js';

/** What the table needs from a session: closing it closes its transport and its server. */
export interface TrackedSession {
  readonly kind: string;
  /** The credentials and caller it was opened with; later requests must match (src/http/credentials.ts). */
  readonly binding?: SessionBinding;
  close(): Promise<void>;
}

/**
 * A session of either transport: its SDK transport and server, closed together, once. Streamable HTTP
 * (src/http/streamable.ts) and legacy SSE (src/transports/sse.ts) subclass it only to be told apart.
 */
export abstract class TransportSession<T extends { close(): Promise<void> }> implements TrackedSession {
  abstract readonly kind: string;
  private closing: Promise<void> | undefined;

  constructor(
    readonly transport: T,
    readonly server: { close(): Promise<void> },
    readonly binding: SessionBinding,
  ) {}

  /** Idempotent: eviction, DELETE, the stream's end and shutdown may all ask. */
  close(): Promise<void> {
    this.closing ??= this.transport.close().then(() => this.server.close());
    return this.closing;
  }
}

export interface SessionTableOptions {
  maxSessions: number;
  /** A session with nothing in flight unused this long is closed by sweep(). */
  idleMs: number;
  logger: Logger;
  now?: () => number;
}

interface Entry {
  session: TrackedSession;
  lastUsed: number;
  inFlight: number;
}

export class SessionTable {
  // Map order is recency order (touch re-inserts), so the first idle entry is the LRU one, without clock ties.
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: SessionTableOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Requests in flight across every session. */
  inFlight(): number {
    let count = 0;
    for (const entry of this.entries.values()) count += entry.inFlight;
    return count;
  }

  get(id: string): TrackedSession | undefined {
    return this.entries.get(id)?.session;
  }

  /**
   * Makes room for one more session and records it, synchronously, so
   * concurrent opens cannot overshoot the cap. False: every session is busy.
   */
  add(id: string, session: TrackedSession): boolean {
    if (this.entries.size >= this.options.maxSessions && !this.evictLeastRecentlyUsed()) return false;
    this.entries.set(id, { session, lastUsed: this.now(), inFlight: 0 });
    return true;
  }

  /** Forgets a session that closed itself (DELETE, stream ended). Safe to call twice. */
  remove(id: string): void {
    this.entries.delete(id);
  }

  /** Marks one request in flight (not evictable, not swept); call the returned function once it is answered. */
  begin(id: string): () => void {
    const entry = this.entries.get(id);
    if (!entry) return () => {};
    entry.inFlight += 1;
    this.touch(id, entry);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.inFlight -= 1;
      if (this.entries.get(id) === entry) this.touch(id, entry);
    };
  }

  /** Closes sessions idle longer than idleMs (clients that vanished without closing). */
  sweep(): void {
    const idleSince = this.now() - this.options.idleMs;
    for (const [id, entry] of this.entries) {
      if (entry.inFlight > 0 || entry.lastUsed >= idleSince) continue;
      this.closeEntry(id, entry, 'closing idle session');
    }
  }

  async closeAll(): Promise<void> {
    const sessions = [...this.entries.values()].map((entry) => entry.session);
    this.entries.clear();
    await Promise.allSettled(sessions.map((session) => session.close()));
  }

  private touch(id: string, entry: Entry): void {
    entry.lastUsed = this.now();
    this.entries.delete(id);
    this.entries.set(id, entry);
  }

  private evictLeastRecentlyUsed(): boolean {
    for (const [id, entry] of this.entries) {
      if (entry.inFlight > 0) continue;
      this.closeEntry(id, entry, 'session cap reached: closing least recently used session');
      return true;
    }
    return false;
  }

  private closeEntry(id: string, entry: Entry, msg: string): void {
    this.entries.delete(id);
    this.options.logger.info(msg, { session: id, kind: entry.session.kind });
    entry.session.close().catch((error: unknown) => {
      this.options.logger.warn('closing session failed', { session: id, error: error instanceof Error ? error.message : String(error) });
    });
  }
}
