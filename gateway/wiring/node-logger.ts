/** pino for the Node entry: JSON lines to stdout, with credentials redacted wherever they might appear. */
import pino from 'pino';
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

export function createNodeLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { level, base: { service: 'switchyard' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return (destination ? pino(options, destination) : pino(options)) as unknown as Logger;
}
