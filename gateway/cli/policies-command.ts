/** `switchyard policies check FILE` and `switchyard policies explain FILE REQUEST.json [--config CONFIG]`. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultConfig, parseConfig, parseYamlFile } from '../config/load-config.js';
import { ModelCatalog } from '../core/model-catalog.js';
import { inferenceRequestFromBody } from '../core/inference-request.js';
import { ANONYMOUS } from '../core/principal.js';
import type { JsonObject } from '../core/types.js';
import { OpenAICompatibleUpstream } from '../upstreams/openai/openai-compatible.js';
import { policySchema } from '../policy/policy-schema.js';
import { compileText } from '../policy/policy-router.js';
import { explainDecision } from '../routes/explain.js';
import type { Upstream } from '../core/upstream.js';

export async function policiesCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, tags: { type: 'string' } },
    strict: true,
  });
  const file = positionals[0];
  if (!file || (sub !== 'check' && sub !== 'explain')) {
    throw new Error(
      'usage: switchyard policies check FILE [--config CONFIG]\n       switchyard policies explain FILE REQUEST.json [--config CONFIG] [--tags a,b]',
    );
  }
  const text = readFileSync(file, 'utf8');
  const policy = parseYamlFile(text, file, policySchema); // throws file:line: field: message
  const config = values.config ? parseConfig(readFileSync(values.config, 'utf8'), values.config) : defaultConfig();
  // Upstream objects only name destinations here: nothing is called.
  const upstreams: Upstream[] = config.upstreams.map((u) => new OpenAICompatibleUpstream(u));
  const catalog = new ModelCatalog(upstreams);
  try {
    if (sub === 'check') {
      if (values.config) await compileText(text, file, catalog);
      process.stdout.write(
        `${file}: OK (${policy.rules.length} rule(s), ${Object.keys(policy.tags).length} tag rule(s), ${policy.detectors.length} custom detector(s))\n`,
      );
      return;
    }
    const reqFile = positionals[1];
    if (!reqFile) throw new Error('explain needs REQUEST.json');
    const body = JSON.parse(readFileSync(reqFile, 'utf8')) as JsonObject;
    const compiled = await compileText(text, file, catalog);
    const headers = new Headers(values.tags ? { 'x-switchyard-tags': values.tags } : {});
    const d = compiled.decide({ request: inferenceRequestFromBody(body), headers, principal: ANONYMOUS });
    process.stdout.write(`${JSON.stringify(explainDecision(d), null, 2)}\n`);
  } finally {
    await Promise.all(upstreams.map((u) => u.close()));
  }
}
