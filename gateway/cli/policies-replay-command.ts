/**
 * `switchyard policies replay --records FILE --policy NEW.yaml`: recorded traffic decided again under a candidate
 * policy. Exit 1 when a request's data class would reach a zone it did not before (a gate for CI and activation).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ModelCatalog } from '../core/model-catalog.js';
import { compileText } from '../policy/policy-router.js';
import { formatReplay, replay } from '../replay/replay.js';
import { declaredUpstreams } from './declared-upstreams.js';
import { choiceFlag, stringFlag, UsageError, type ParsedCommand } from './command-line.js';
import { loadConfig } from './policies-command.js';
import { loadRecords } from './records-input.js';
import { parseDuration } from './report-command.js';

export async function run({ values }: ParsedCommand): Promise<void> {
  const file = stringFlag(values, 'policy');
  if (!file) throw new UsageError('--policy is required (the candidate policy, YAML)');
  const { config } = loadConfig(values);
  const catalog = new ModelCatalog(declaredUpstreams(config));
  const compiled = await compileText(readFileSync(file, 'utf8'), file, catalog);
  const to = Date.now() + 1;
  const from = to - parseDuration(String(values['since']), '--since');
  const { records, notes } = await loadRecords(values, from, to);
  const report = replay(records, compiled, { catalog, prices: config.prices });
  const json = choiceFlag(values, 'format', ['table', 'json'] as const) === 'json';
  const text = json ? `${JSON.stringify({ ...report, notes }, null, 2)}\n` : formatReplay(report) + notes.map((n) => `note: ${n}\n`).join('');
  const out = stringFlag(values, 'out');
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  if (report.new_zones.length > 0) process.exitCode = 1;
}
