/**
 * Structured logging: one JSON object per line, always through `redact`.
 *
 * The sink is injected: the Node CLI writes to stderr (stdout belongs to
 * JSON-RPC on stdio); a Workers deployment can pass console.error. Listeners
 * let the MCP server forward records as logging notifications.
 */
import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export interface LogRecord {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}
export type LogSink = (line: string) => void;
export type LogListener = (record: LogRecord) => void;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Subscribe to redacted records; returns an unsubscribe function. */
  subscribe(listener: LogListener): () => void;
}

export function createLogger(sink: LogSink, minLevel: LogLevel = 'info', now: () => Date = () => new Date()): Logger {
  const listeners = new Set<LogListener>();
  const log = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (LEVEL_RANK[level] < LEVEL_RANK[minLevel]) return;
    const record = redact({ ts: now().toISOString(), level, msg, ...fields }) as LogRecord;
    sink(JSON.stringify(record));
    for (const listener of listeners) listener(record);
  };
  return {
    log,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warning', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** For tests and embedders that want no output. */
export const silentLogger: Logger = createLogger(() => {}, 'error');
