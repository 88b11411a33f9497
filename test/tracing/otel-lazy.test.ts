/** With tracing off, OpenTelemetry is never loaded: a child process that refuses every @opentelemetry import still serves. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const probe = (mode: 'on' | 'off') =>
  spawnSync(process.execPath, ['--import', 'tsx', 'test/tracing/otel-lazy-probe.ts', mode], { encoding: 'utf8', timeout: 90_000 });

describe('OpenTelemetry is loaded lazily', () => {
  it('a gateway without tracing: starts and serves with every @opentelemetry import refused', () => {
    const r = probe('off');
    expect(r.stderr).not.toContain('OpenTelemetry loaded');
    expect(r.stdout).toContain('served');
  });

  it('(control) with tracing configured the refused import is hit, so the probe really detects loading', () => {
    const r = probe('on');
    expect(r.stdout).not.toContain('served');
    expect(r.stderr).toContain('OpenTelemetry loaded: @opentelemetry/');
  });
});
