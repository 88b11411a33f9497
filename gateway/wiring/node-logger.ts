/**
 * pino for the Node entry, with credentials redacted wherever they might appear: readable lines (pino-pretty) when
 * stdout is a terminal, JSON lines otherwise (log shippers parse those); `--log-format` / SWITCHYARD_LOG_FORMAT decide.
 */
import pino from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '../core/logger.js';

export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'api_key',
  '*.api_key',
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `auto` is pretty exactly when stdout is a terminal. */
export function resolveLogFormat(format: LogFormat | undefined, isTty = process.stdout.isTTY === true): 'pretty' | 'json' {
  const f = format ?? (process.env['SWITCHYARD_LOG_FORMAT'] as LogFormat | undefined) ?? 'auto';
  if (f === 'pretty' || f === 'json') return f;
  return isTty ? 'pretty' : 'json';
}

export function createNodeLogger(level: string, destination?: pino.DestinationStream, format?: LogFormat): Logger {
  const options: pino.LoggerOptions = { level, base: { service: 'switchyard' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (!destination && resolveLogFormat(format) === 'pretty') {
    // Synchronous, in-process: a worker-thread transport would outlive a CLI's last line.
    const stream = pretty({
      sync: true,
      singleLine: true,
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
    });
    return pino(options, stream) as unknown as Logger;
  }
  return (destination ? pino(options, destination) : pino(options)) as unknown as Logger;
}
