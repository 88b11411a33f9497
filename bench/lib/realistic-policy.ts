/** The "realistic policy" the gateway benches share: custom and built-in detectors, tag rules, a few routing rules. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REALISTIC_POLICY = [
  'version: 1',
  'detectors:',
  '  - { name: employee_id, pattern: "EMP-\\\\d{6}", tag: pii }',
  '  - { name: project_code, pattern: "PRJ-[A-Z]{3}-\\\\d{4}", tag: internal }',
  'tags:',
  '  pii: { route: redact }',
  '  secret: { route: redact }',
  '  internal: { route: cloud, upstreams: [instant] }',
  'rules:',
  '  - { id: other-models, match: { models: ["other-*"] }, route: [backup] }',
  '  - { id: premium-ui, match: { tenants: ["premium-*"], headers: { x-app: ui } }, route: [instant, backup], hedge: true }',
  '  - id: default',
  '    match: { models: ["bench-*"] }',
  '    route: [instant, backup]',
  '    cache: { enabled: true, ttl_seconds: 600 }',
  '',
].join('\n');

/** Writes the policy as `policy.yaml` in `dir` and returns its path. */
export function writeRealisticPolicy(dir: string): string {
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, REALISTIC_POLICY);
  return file;
}
