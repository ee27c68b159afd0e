/**
 * Structured logging: one JSON object per line, always through a Redactor.
 *
 * The sink is injected: the Node CLI writes to stderr (stdout belongs to
 * JSON-RPC on stdio); a Workers deployment can pass console.error. Records
 * meant for a client (audit lines) go to the calling session only, through
 * runTool's notifier, never through a shared listener.
 */
import { patternRedactor, type Redactor } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export interface LogRecord {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}
export type LogSink = (line: string) => void;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** The same sink and level, redacting with `redactor` (a tool call's, which knows its credentials). */
  withRedactor(redactor: Redactor): Logger;
}

export interface LoggerOptions {
  now?: () => Date;
  /** Scrubs every record; defaults to masking secret-named keys and header-shaped text only. */
  redactor?: Redactor;
}

export function createLogger(sink: LogSink, minLevel: LogLevel = 'info', options: LoggerOptions = {}): Logger {
  const now = options.now ?? (() => new Date());
  const redactor = options.redactor ?? patternRedactor;
  const log = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (LEVEL_RANK[level] < LEVEL_RANK[minLevel]) return;
    const record = redactor.value({ ts: now().toISOString(), level, msg, ...fields }) as LogRecord;
    sink(JSON.stringify(record));
  };
  const logger: Logger = {
    log,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warning', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    withRedactor: (other) => (other === redactor ? logger : createLogger(sink, minLevel, { now, redactor: other })),
  };
  return logger;
}

/** For tests and embedders that want no output. */
export const silentLogger: Logger = createLogger(() => {}, 'error');
