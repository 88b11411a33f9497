/**
 * The admission steps every inference request passes, shared by the real request and by explain (as a dry run), so
 * explain's outcome is the real one by construction: the key may use the model, rate limits admit the token
 * estimate, the router decides, budgets and cost caps apply. A dry run consumes no limit and reserves no budget.
 */
import type { GatewayServices } from '../services.js';
import type { Decision } from '../core/decision.js';
import { GatewayError } from '../core/errors.js';
import { ZoneRefusal } from '../core/zone-errors.js';
import type { InferenceRequest } from '../core/inference-request.js';
import { modelAllowed } from '../core/principal.js';
import type { RequestContext } from '../core/request-context.js';

export interface AdmissionOptions {
  /** Explain: check without consuming rate limits or reserving budgets. */
  dryRun?: boolean;
  /** Where each step says what it found (explain's trace). */
  trace?: string[];
}

/** Step: the key may use the model, and rate limits admit the token estimate (reconciled with usage at the end). */
export async function admit(s: GatewayServices, ctx: RequestContext, request: InferenceRequest, opts: AdmissionOptions = {}): Promise<void> {
  const trace = opts.trace;
  if (!modelAllowed(ctx.principal, request.model)) {
    trace?.push(`model allow-list: '${request.model}' is not in key '${ctx.principal.keyId}''s list`);
    throw new GatewayError(`Your key may not use the model \`${request.model}\`.`, { status: 403, code: 'model_not_allowed', param: 'model' });
  }
  trace?.push(ctx.principal.allowedModels ? `model allow-list: '${request.model}' allowed` : 'model allow-list: none for this key');
  // Limits reserve only the declared output: an assumed allowance would make small tpm limits refuse short requests.
  const estimate = request.tokens.prompt + (request.tokens.declaredOutput ?? 0);
  try {
    const grant = await s.rateLimiter.check(ctx.principal, estimate, { dryRun: opts.dryRun });
    trace?.push(
      grant ? `rate limits: ${estimate} tokens and 1 request fit${opts.dryRun ? ' (dry run, nothing consumed)' : ''}` : 'rate limits: none apply',
    );
    if (grant && !opts.dryRun) {
      Object.assign(ctx.headers, grant.headers);
      (ctx.finalizers ??= []).push((done) => void s.rateLimiter.reconcile(grant, done.usage?.total_tokens ?? grant.estimate));
    }
  } catch (err) {
    if (err instanceof GatewayError) trace?.push(`rate limits: ${err.message}`);
    throw err;
  }
}

/** Step: the router's decision, then cost caps and budgets applied to it. */
export async function decide(
  s: GatewayServices,
  ctx: RequestContext,
  request: InferenceRequest,
  headers: Headers,
  opts: AdmissionOptions = {},
): Promise<Decision> {
  const trace = opts.trace;
  let decided: Decision;
  try {
    decided = await s.router.decide({ request, headers, principal: ctx.principal, dryRun: opts.dryRun });
  } catch (err) {
    if (err instanceof GatewayError) trace?.push(`policy: ${err.message}`);
    // Refused for its data class: the record still says which classes, limits and rule refused it.
    if (err instanceof ZoneRefusal && err.refused) {
      ctx.ruleId = err.refused.ruleId;
      ctx.policyVersion = err.refused.policyVersion;
      ctx.tags = err.refused.tags;
      ctx.zoneLimits = err.refused.zoneLimits;
      ctx.decisionAudit = err.refused.audit;
    }
    throw err;
  }
  trace?.push(...decided.trace);
  let decision: Decision;
  try {
    decision = await s.budgets.apply(decided, ctx, request, { dryRun: opts.dryRun });
  } catch (err) {
    if (err instanceof GatewayError) trace?.push(`budgets: ${err.message}`);
    throw err;
  }
  trace?.push(...decision.trace.slice(decided.trace.length));
  if (decided.cost) trace?.push(`budgets: within${opts.dryRun ? ' (dry run, nothing reserved)' : ''}`);
  ctx.ruleId = decision.ruleId;
  ctx.policyVersion = decision.policyVersion;
  ctx.tags = decision.tags;
  ctx.zoneLimits = decision.zoneLimits;
  ctx.decisionAudit = decided.audit;
  ctx.headers['x-switchyard-policy'] = decision.ruleId;
  return decision;
}
