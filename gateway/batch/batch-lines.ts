/** Parses and checks a batch input file (JSONL): every line valid, custom_ids unique, one endpoint throughout. */
import type { BatchEndpoint, BatchLine } from './batch-types.js';
import { batchLineSchema } from './batch-types.js';
import { formatPath } from '../core/validate.js';

export interface LineProblem {
  code: string;
  message: string;
  line: number;
  param: string | null;
}

export function parseBatchLines(text: string, endpoint: BatchEndpoint): { lines: BatchLine[]; problems: LineProblem[] } {
  const lines: BatchLine[] = [];
  const problems: LineProblem[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      problems.push({ code: 'invalid_json_line', message: `Line ${line} is not valid JSON.`, line, param: null });
      return;
    }
    const r = batchLineSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      const param = issue ? formatPath(issue.path) || null : null;
      problems.push({ code: 'invalid_request', message: `Line ${line}: ${param ?? 'line'}: ${issue?.message ?? 'invalid'}`, line, param });
      return;
    }
    if (r.data.url !== endpoint) {
      problems.push({ code: 'mismatched_endpoint', message: `Line ${line} targets ${r.data.url}, the batch ${endpoint}.`, line, param: 'url' });
      return;
    }
    if (seen.has(r.data.custom_id)) {
      problems.push({ code: 'duplicate_custom_id', message: `Line ${line} repeats custom_id '${r.data.custom_id}'.`, line, param: 'custom_id' });
      return;
    }
    seen.add(r.data.custom_id);
    lines.push(r.data);
  });
  if (lines.length === 0 && problems.length === 0)
    problems.push({ code: 'empty_file', message: 'The input file has no requests.', line: 0, param: null });
  return { lines, problems };
}
