/** `switchyard audit --class pii --zone cloud --since 30d`: did data of a class reach a zone? Exit 1 when it did. */
import { writeFileSync } from 'node:fs';
import { parseZone } from '../core/zones.js';
import { audit, formatAudit } from '../audit/audit.js';
import { choiceFlag, stringFlag, UsageError, type ParsedCommand } from './command-line.js';
import { loadRecords } from './records-input.js';
import { parseDuration } from './report-command.js';

export async function run({ values }: ParsedCommand): Promise<void> {
  const dataClass = stringFlag(values, 'class')?.trim().toLowerCase();
  if (!dataClass) throw new UsageError('--class is required (a data class / tag, e.g. pii)');
  const zoneText = stringFlag(values, 'zone');
  const zone = zoneText === undefined ? undefined : parseZone(zoneText, true);
  if (zoneText !== undefined && zone === undefined)
    throw new UsageError(`--zone: unknown zone '${zoneText}' (device, on-prem, region:<name>, region:*, cloud)`);
  const to = Date.now() + 1;
  const from = to - parseDuration(String(values['since']), '--since');
  const { records, notes } = await loadRecords(values, from, to);
  const result = audit(records, { dataClass, zone, from, to });
  const text =
    choiceFlag(values, 'format', ['table', 'json'] as const) === 'json'
      ? `${JSON.stringify({ ...result, notes }, null, 2)}\n`
      : formatAudit(result) + notes.map((n) => `note: ${n}\n`).join('');
  const out = stringFlag(values, 'out');
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  // Scripts and CI gate on the exit code: 1 when any record of the class reached the zone.
  if (result.violations.length > 0) process.exitCode = 1;
}
