/** `switchyard policies check FILE` and `switchyard policies explain FILE REQUEST.json`, against a gateway config. */
import { readFileSync } from 'node:fs';
import { defaultConfig, parseConfig, parseYamlFile } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { ModelCatalog } from '../core/model-catalog.js';
import { inferenceRequestFromBody } from '../core/inference-request.js';
import { ANONYMOUS } from '../core/principal.js';
import { isJsonObject } from '../core/validate.js';
import { policySchema } from '../policy/policy-schema.js';
import { compileText } from '../policy/policy-router.js';
import type { CompiledPolicy } from '../policy/compile-policy.js';
import { explainDecision } from '../routes/explain.js';
import { declaredUpstreams } from './declared-upstreams.js';
import { stringFlag, UsageError, type ParsedCommand } from './command-line.js';

/** Secrets do not matter for checking names: an unset `${VAR}` reads as a placeholder instead of failing. */
export function loadConfig(values: ParsedCommand['values']): { config: GatewayConfig; source: string } {
  const path = stringFlag(values, 'config') ?? process.env['SWITCHYARD_CONFIG'];
  if (!path) return { config: defaultConfig(), source: 'the embedded default config' };
  return { config: parseConfig(readFileSync(path, 'utf8'), path, process.env, 'placeholder'), source: path };
}

/** Parses and compiles the policy against the config's destinations; unknown names say what is known. */
async function compileAgainst(file: string, values: ParsedCommand['values']): Promise<{ text: string; compiled: CompiledPolicy }> {
  const text = readFileSync(file, 'utf8');
  parseYamlFile(text, file, policySchema); // throws file:line: field: message
  const { config, source } = loadConfig(values);
  const catalog = new ModelCatalog(declaredUpstreams(config));
  try {
    return { text, compiled: await compileText(text, file, catalog) };
  } catch (err) {
    if (!(err instanceof Error) || !/unknown upstream/.test(err.message)) throw err;
    const known = catalog.upstreams.map((u) => u.id).join(', ') || '(none)';
    const hint = stringFlag(values, 'config') ? '' : '; pass --config FILE to check against your gateway config';
    throw new Error(`${err.message}\n  checked against ${source}, whose upstreams are: ${known}${hint}`);
  }
}

export async function runCheck({ values, positionals }: ParsedCommand): Promise<void> {
  const file = positionals[0]!;
  await compileAgainst(file, values);
  const policy = parseYamlFile(readFileSync(file, 'utf8'), file, policySchema);
  process.stdout.write(
    `${file}: OK (${policy.rules.length} rule(s), ${Object.keys(policy.tags).length} tag rule(s), ${policy.detectors.length} custom detector(s))\n`,
  );
}

export async function runExplain({ values, positionals }: ParsedCommand): Promise<void> {
  const [file, reqFile] = positionals as [string, string];
  const { compiled } = await compileAgainst(file, values);
  let body: unknown;
  try {
    body = JSON.parse(readFileSync(reqFile, 'utf8'));
  } catch (err) {
    throw new UsageError(`${reqFile}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isJsonObject(body)) throw new UsageError(`${reqFile}: expected a JSON object (an OpenAI request body)`);
  const tags = stringFlag(values, 'tags');
  const headers = new Headers(tags ? { 'x-switchyard-tags': tags } : {});
  const d = compiled.decide({ request: inferenceRequestFromBody(body), headers, principal: ANONYMOUS });
  process.stdout.write(`${JSON.stringify(explainDecision(d), null, 2)}\n`);
}
