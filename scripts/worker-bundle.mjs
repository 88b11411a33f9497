#!/usr/bin/env node
// Bundles the Worker exactly as a deploy would (`wrangler deploy --dry-run`, offline, no login) into a temporary
// directory, fails on any `node:` import left in the bundle, and prints the bundle's size and what takes the room.
// Then it loads the bundle and builds the gateway from wrangler.toml's [vars] (secrets as placeholders), so a config or
// policy that would be rejected deployed fails here, before `wrangler deploy` replaces the version that works.
// Part of `npm test`: a Node-only import reachable from gateway/worker.ts fails here (wrangler refuses to resolve it
// without nodejs_compat, and this scan catches anything that slips through as an external import).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'switchyard-worker-bundle-'));
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CI: 'true',
  NO_UPDATE_NOTIFIER: '1',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  FORCE_COLOR: '0',
};
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

try {
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', out, '--metafile', join(out, 'meta.json')],
    { cwd: root, env, encoding: 'utf8' },
  );
  if (run.status !== 0) {
    console.error(`worker bundle: wrangler deploy --dry-run failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
    process.exit(1);
  }
  const files = readdirSync(out).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'));
  if (files.length === 0) throw new Error(`worker bundle: no JavaScript in ${out}`);
  let bytes = 0;
  let gzip = 0;
  const nodeImports = new Set();
  for (const f of files) {
    const code = readFileSync(join(out, f));
    bytes += code.length;
    gzip += gzipSync(code).length;
    for (const m of code.toString('utf8').matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](node:[^"']+)["']/g)) nodeImports.add(m[1]);
  }
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
  const output = Object.values(meta.outputs).find((o) => o.entryPoint) ?? Object.values(meta.outputs)[0];
  for (const i of output?.imports ?? []) if (i.path.startsWith('node:')) nodeImports.add(i.path);
  const byPackage = new Map();
  for (const [file, info] of Object.entries(output?.inputs ?? {})) {
    const nm = file.lastIndexOf('node_modules/');
    const rest = nm >= 0 ? file.slice(nm + 'node_modules/'.length).split('/') : file.split('/');
    const key = nm >= 0 ? (rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]) : `${rest[0]}/${rest[1] ?? ''}`.replace(/\/$/, '');
    byPackage.set(key, (byPackage.get(key) ?? 0) + info.bytesInOutput);
  }
  const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 6);
  console.log(
    `worker bundle: ${kib(bytes)} (gzip ${kib(gzip)}) in ${Date.now() - started} ms; largest: ${top.map(([k, v]) => `${k} ${kib(v)}`).join(', ')}`,
  );
  if (nodeImports.size > 0) {
    console.error(`worker bundle: node: imports in the bundle (Workers run without nodejs_compat): ${[...nodeImports].join(', ')}`);
    process.exit(1);
  }
  await checkBindings(join(out, files[0]));
} finally {
  rmSync(out, { recursive: true, force: true });
}

/** Builds the gateway from the bundle and wrangler.toml's vars, as the first request after a deploy would. */
async function checkBindings(bundle) {
  const { unstable_readConfig } = await import('wrangler');
  const vars = unstable_readConfig({ config: join(root, 'wrangler.toml') }).vars ?? {};
  const env = { ...vars };
  // Secrets live in Cloudflare, not in wrangler.toml: every `${NAME}` the vars use gets a placeholder.
  for (const text of Object.values(vars)) {
    if (typeof text !== 'string') continue;
    for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)) env[m[1]] ??= 'placeholder-secret';
  }
  const asModule = bundle.replace(/\.m?js$/, '.check.mjs');
  copyFileSync(bundle, asModule);
  const { default: worker } = await import(pathToFileURL(asModule).href);
  const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} };
  const res = await worker.fetch(new Request('http://check.invalid/healthz'), env, ctx);
  if (res.status !== 200) {
    console.error(`worker bundle: the gateway does not start from wrangler.toml's [vars] (status ${res.status}); the reason is logged above`);
    process.exit(1);
  }
  console.log(`worker bundle: wrangler.toml's [vars] build a working gateway (${Object.keys(vars).join(', ')})`);
}
