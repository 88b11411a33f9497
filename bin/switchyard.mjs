#!/usr/bin/env node
// The `switchyard` command. Runs the compiled CLI in dist/ (built by `npm run build`, which `npm ci` runs through
// `prepare`); runs the TypeScript sources through tsx instead when there is no build or a source file is newer
// than it (a checkout being edited), so what runs is always what the sources say.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Newest .ts source time under the folders the build compiles (~300 stats, a few ms). */
function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0; // a runtime-only install may ship dist/ without sources
  }
  for (const e of entries) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.mjs')) newest = Math.max(newest, mtime(p) ?? 0);
  }
  return newest;
}

const built = mtime(`${root}dist/BUILD`);
const fresh = built !== undefined && newestSource(`${root}gateway`) <= built && newestSource(`${root}edge-runtime`) <= built;
if (fresh) {
  await import('../dist/gateway/cli/main.js');
} else {
  if (built !== undefined && process.stderr.isTTY) {
    process.stderr.write('switchyard: sources changed since the last build; running them through tsx (`npm run build` makes this fast)\n');
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import('../gateway/cli/main.ts');
}
