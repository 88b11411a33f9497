/**
 * deploy/k8s validated offline: every object against the Kubernetes schemas (kubernetes-models 4.5.1, unknown fields
 * included), the objects agree with each other (labels, names, ports, env), the ConfigMap's config and policy load
 * through the gateway's own parsers, and a ConfigMap update (the kubelet's symlink swap) hot-reloads the policy.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../gateway/config/load-config.js';
import { sha256Hex } from '../../gateway/core/sha256.js';
import type { Upstream } from '../../gateway/core/upstream.js';
import { silentLogger } from '../../gateway/core/logger.js';
import { startGateway, type RunningGateway } from '../../gateway/node.js';
import { waitUntil } from '../helpers/wait.js';
import { readManifests, validateManifest, type Manifest } from './k8s-manifests.js';

const manifests = readManifests();
const one = (kind: string): Manifest & Record<string, any> => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]! as Manifest & Record<string, any>;
};

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('has the objects a deployment needs, each valid against the Kubernetes schema', () => {
    expect(new Set(manifests.map((m) => m.kind))).toEqual(
      new Set(['ConfigMap', 'Secret', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']),
    );
    expect(manifests.flatMap(validateManifest)).toEqual([]);
  });

  it('the validator rejects a wrong type and an unknown (misspelt) field', () => {
    const bad = structuredClone(one('Deployment'));
    const c = bad.spec.template.spec.containers[0];
    c.ports[0].containerPort = 'eighty';
    c.readinessProbee = c.readinessProbe;
    delete c.readinessProbe;
    const errors = validateManifest(bad);
    expect(errors.join('\n')).toMatch(/containerPort must be integer/);
    expect(errors.join('\n')).toMatch(/unknown field .*readinessProbee/);
  });

  it('probes: readiness on /readyz, liveness on /healthz, on the container port; non-root and read-only root', () => {
    const d = one('Deployment');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    const portName = c.ports[0].name;
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: portName });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: portName });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    // The drain (server.shutdown_grace_ms) plus the preStop pause fits in the grace period.
    const cm = one('ConfigMap');
    const grace = /shutdown_grace_ms:\s*(\d+)/.exec(cm.data['gateway.yaml'])?.[1];
    expect(Number(grace) / 1000 + 5).toBeLessThan(pod.terminationGracePeriodSeconds);
  });

  it('Service, PDB and HPA point at the Deployment and its pods', () => {
    const d = one('Deployment');
    const podLabels = d.spec.template.metadata.labels as Record<string, string>;
    const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => podLabels[k] === v);
    expect(matches(d.spec.selector.matchLabels)).toBe(true);
    expect(matches(one('Service').spec.selector)).toBe(true);
    expect(one('Service').spec.ports[0].targetPort).toBe(d.spec.template.spec.containers[0].ports[0].name);
    expect(matches(one('PodDisruptionBudget').spec.selector.matchLabels)).toBe(true);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2); // a PDB of maxUnavailable 1 then always leaves one serving
    const metrics = hpa.spec.metrics.map((m: any) => m.resource?.name ?? m.pods?.metric.name);
    expect(metrics).toContain('cpu');
    expect(metrics).toContain('switchyard_upstream_in_flight');
  });

  it("the ConfigMap's gateway.yaml loads with the Secret's variables, and the ConfigMap is mounted as a directory", () => {
    const d = one('Deployment');
    const pod = d.spec.template.spec;
    const secret = one('Secret');
    expect(pod.containers[0].envFrom).toContainEqual({ secretRef: { name: secret.metadata.name } });
    const env = { ...secret.stringData } as Record<string, string>;
    // Every ${VAR} must come from the Secret: an unset one is a start-up error naming file:line.
    const config = parseConfig(one('ConfigMap').data['gateway.yaml'], 'configmap/gateway.yaml', env);
    const vol = pod.volumes.find((v: any) => v.configMap?.name === one('ConfigMap').metadata.name);
    const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === vol.name);
    expect(mount.subPath, 'a subPath mount never sees ConfigMap updates').toBeUndefined();
    expect(config.policies?.file).toBe(`${mount.mountPath}/policy.yaml`);
    expect(pod.containers[0].args.join(' ')).toContain(`--config ${mount.mountPath}/gateway.yaml`);
    // Everything the gateway writes is under the writable /tmp volume.
    expect(config.edge.cache_dir.startsWith('/tmp/')).toBe(true);
    expect(pod.containers[0].volumeMounts.map((m: any) => m.mountPath)).toContain('/tmp');
  });

  describe('hot reload of the policy on a ConfigMap update', () => {
    let gw: RunningGateway | undefined;
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-configmap-'));
    afterAll(async () => {
      await gw?.shutdown();
      rmSync(dir, { recursive: true, force: true });
    });

    // The kubelet's layout: files are symlinks through `..data`, which is swapped atomically to a new timestamped dir.
    let generation = 0;
    const publish = (files: Record<string, string>) => {
      const gen = `..${++generation}`;
      mkdirSync(join(dir, gen));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, gen, name), text);
      symlinkSync(gen, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      for (const name of Object.keys(files)) {
        try {
          symlinkSync(join('..data', name), join(dir, name));
        } catch {
          // already linked through ..data
        }
      }
    };

    it('reloads a changed policy within the poll interval and keeps the last good one on a bad edit', async () => {
      const cm = one('ConfigMap');
      const adminKey = 'sk-test-admin';
      const env = { ...one('Secret').stringData, SWITCHYARD_ADMIN_KEY_SHA256: await sha256Hex(adminKey) } as Record<string, string>;
      publish({ 'gateway.yaml': cm.data['gateway.yaml'], 'policy.yaml': cm.data['policy.yaml'] });
      const config = parseConfig(cm.data['gateway.yaml'], 'configmap/gateway.yaml', env);
      // Loopback, no Redis, no edge model load: this checks the reload path, not those.
      config.server.host = '127.0.0.1';
      config.server.port = 0;
      config.redis = undefined;
      config.records.sink = 'none';
      config.edge.enabled = false;
      config.policies = { gate: 'off', replay_window_hours: 24, ...config.policies, file: join(dir, 'policy.yaml'), poll_ms: 100 };
      const edgeStub: Upstream = {
        id: 'edge',
        zone: 'device',
        models: [{ id: 'gpt-4o-mini', upstreamModel: 'gpt-4o-mini', ownedBy: 'edge' }],
        call: () => Promise.reject(new Error('not called')),
        ready: async () => true,
        load: () => ({ inFlight: 0 }),
        close: async () => undefined,
      };
      gw = await startGateway(config, { logger: silentLogger, extraUpstreams: [edgeStub] });
      const status = async () =>
        (
          (await (await fetch(`${gw!.url}/admin/policies`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as {
            policy: { version: string; lastError: string | null };
          }
        ).policy;
      const first = await status();
      expect(first.lastError).toBeNull();

      publish({ 'gateway.yaml': cm.data['gateway.yaml'], 'policy.yaml': `${cm.data['policy.yaml']}  - id: cloud-only\n    route: [openai]\n` });
      await waitUntil(async () => (await status()).version !== first.version, { timeoutMs: 15_000, message: 'policy reloaded' });
      const second = await status();

      publish({ 'gateway.yaml': cm.data['gateway.yaml'], 'policy.yaml': 'version: 1\nrules:\n  - id: x\n    route: [nowhere]\n' });
      await waitUntil(async () => (await status()).lastError !== null, { timeoutMs: 15_000, message: 'bad edit reported' });
      expect((await status()).version).toBe(second.version);
      expect((await status()).lastError).toMatch(/policy\.yaml:\d+/);
    });
  });
});
