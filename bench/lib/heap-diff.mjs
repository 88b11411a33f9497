/**
 * Compares V8 heap snapshots (the soak's BENCH_SOAK_SNAPSHOTS): live objects grouped by constructor (count and self
 * size), sorted by growth from the first snapshot to the last. What grows per request shows at the top.
 *
 *   node bench/lib/heap-diff.mjs a.heapsnapshot b.heapsnapshot [c.heapsnapshot] [--top 40]
 *
 * Plain JavaScript, no dependencies: the snapshot format is documented JSON (snapshot.meta.node_fields).
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 40;
const files = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));

/** constructor → { count, size } for one snapshot. */
function summarize(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const { node_fields: fields, node_types: types } = snap.snapshot.meta;
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const typeNames = types[0];
  const groups = new Map();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = typeNames[snap.nodes[i + iType]];
    // Strings and code are grouped by kind, objects and closures by constructor/function name.
    const name = type === 'object' || type === 'closure' || type === 'native' ? `${type}:${snap.strings[snap.nodes[i + iName]]}` : type;
    const size = snap.nodes[i + iSize];
    total += size;
    const g = groups.get(name) ?? { count: 0, size: 0 };
    g.count++;
    g.size += size;
    groups.set(name, g);
  }
  return { groups, total };
}

const summaries = files.map((f) => {
  const s = summarize(f);
  console.log(`${f}: ${(s.total / 1048576).toFixed(1)} MB live`);
  return s;
});
const first = summaries[0];
const last = summaries[summaries.length - 1];
const names = new Set(summaries.flatMap((s) => [...s.groups.keys()]));
const rows = [...names]
  .map((name) => ({
    name,
    counts: summaries.map((s) => s.groups.get(name)?.count ?? 0),
    sizes: summaries.map((s) => s.groups.get(name)?.size ?? 0),
  }))
  .map((r) => ({ ...r, growth: r.sizes[r.sizes.length - 1] - r.sizes[0] }))
  .sort((a, b) => b.growth - a.growth)
  .slice(0, top);
console.log(`\ngrowth ${((last.total - first.total) / 1048576).toFixed(1)} MB; top ${top} by self-size growth (count / KB per snapshot):`);
for (const r of rows) {
  const cols = r.counts.map((c, i) => `${c} / ${Math.round(r.sizes[i] / 1024)}`).join('  →  ');
  console.log(`${(r.growth / 1024).toFixed(0).padStart(8)} KB  ${r.name.slice(0, 60).padEnd(60)} ${cols}`);
}
