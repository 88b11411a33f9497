/** Types of bench/lib/bare-proxy.mjs (kept as plain JavaScript so it runs without a TypeScript loader). */
import type { Hono } from 'hono';
import type { Pool } from 'undici';

export function createBareProxy(upstreamUrl: string): { app: Hono; pool: Pool };
export function serveBareProxy(upstreamUrl: string, port?: number): Promise<{ url: string; close: () => Promise<void> }>;
