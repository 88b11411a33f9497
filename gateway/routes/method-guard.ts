/** Registers a 405 for every method but the allowed one(s) on a path. */
import type { Context, Hono } from 'hono';
import { errors } from '../core/errors.js';
import type { GatewayEnv } from '../services.js';

export function methodGuard(app: Hono<GatewayEnv>, path: string, allowed: string): void {
  app.all(path, (c: Context<GatewayEnv>) => {
    throw errors.methodNotAllowed(c.req.method, path, allowed);
  });
}
