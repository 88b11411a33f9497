// How fast `switchyard --version` and `--help` answer: wall time, median of 5 runs each, through bin/switchyard.mjs
// (the compiled build when it is fresh), next to a bare `node -e 0` on the same machine in the same run.
// Plain JS on purpose: a TypeScript bench would pay tsx's start-up in the thing it measures. Bar: <= 300 ms.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const RUNS = 5;
const cases = [
  ['node -e 0 (floor)', ['-e', '0']],
  ['switchyard --version', ['bin/switchyard.mjs', '--version']],
  ['switchyard --help', ['bin/switchyard.mjs', '--help']],
  ['switchyard report --help', ['bin/switchyard.mjs', 'report', '--help']],
];

function once(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [name, args] of cases) {
  once(args); // warm the file cache
  const times = Array.from({ length: RUNS }, () => once(args));
  rows.push({ case: name, median_ms: Math.round(median(times)), min_ms: Math.round(Math.min(...times)), max_ms: Math.round(Math.max(...times)) });
}
console.log('| case | median ms | min ms | max ms |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.case} | ${r.median_ms} | ${r.min_ms} | ${r.max_ms} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/cli-startup.json', JSON.stringify({ runs: RUNS, at: new Date().toISOString(), rows }, null, 2) + '\n');
const slow = rows.filter((r) => r.case.startsWith('switchyard') && r.median_ms > 300);
if (slow.length) console.log(`over 300 ms: ${slow.map((r) => r.case).join(', ')} (compare with the node floor above: a loaded machine slows both)`);
