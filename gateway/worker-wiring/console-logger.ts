/** The Logger seam over `console`: one JSON line per entry, which Workers Logs and `wrangler tail` collect. */
import type { LogFn, Logger } from '../core/logger.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function createConsoleLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  const min = LEVELS.indexOf(level);
  const at = (name: 'trace' | 'debug' | 'info' | 'warn' | 'error'): LogFn => {
    if (LEVELS.indexOf(name) < min) return () => {};
    const write = name === 'error' ? console.error : name === 'warn' ? console.warn : console.log;
    return ((a: Record<string, unknown> | string, msg?: string) => {
      const fields = typeof a === 'string' ? { msg: a } : { ...a, msg };
      write(JSON.stringify({ level: name, time: Date.now(), ...bindings, ...fields }));
    }) as LogFn;
  };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => createConsoleLogger(level, { ...bindings, ...more }),
  };
}
