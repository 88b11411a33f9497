// Compiles gateway/ and edge-runtime/ to dist/ (plain JS: `switchyard` and `npm start` run it without compiling).
// Run by `npm run build` and by `npm ci` through `prepare`. Without TypeScript installed (`npm ci --omit=dev`) it
// says so and leaves dist/ as shipped: a runtime-only install uses the dist/ built elsewhere.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  console.error('switchyard build: TypeScript is not installed (a runtime-only install?): keeping dist/ as it is');
  process.exit(0);
}
const t0 = Date.now();
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

// Files tsc does not emit but the runtime loads from beside the compiled code (the engine worker's JS boot file).
const assets = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.mjs')) assets.push(p);
  }
};
walk(join(root, 'gateway'));
walk(join(root, 'edge-runtime'));
for (const a of assets) {
  const to = join(root, 'dist', relative(root, a));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(a, to);
}
// bin/switchyard.mjs compares this stamp with the sources' times to tell a stale build.
writeFileSync(join(root, 'dist', 'BUILD'), `${new Date().toISOString()}\n`);
console.error(`switchyard build: dist/ ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
