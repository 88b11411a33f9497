/** The `redis:` section's three forms, and its mistakes reported as file:line: field. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../gateway/config/load-config.js';

const parse = (redis: string) => parseConfig(`upstreams: []\nredis:\n${redis}`, 'gw.yaml', {});

describe('redis config modes', () => {
  it('accepts a single node, a Cluster and a Sentinel set', () => {
    expect(parse('  url: redis://127.0.0.1:6379\n').redis?.url).toBe('redis://127.0.0.1:6379');
    expect(parse('  nodes: [redis://127.0.0.1:7001, redis://127.0.0.1:7002]\n').redis?.nodes).toHaveLength(2);
    const s = parse('  sentinels: [redis://127.0.0.1:26379]\n  name: mymaster\n').redis;
    expect([s?.sentinels, s?.name]).toEqual([['redis://127.0.0.1:26379'], 'mymaster']);
  });

  it('names file:line and field for two modes at once, a Sentinel without name, and a bad node URL', () => {
    expect(() => parse('  url: redis://a:1\n  nodes: [redis://b:2]\n')).toThrow(/gw\.yaml:4: redis\.nodes: set exactly one of url/);
    expect(() => parse('  sentinels: [redis://a:1]\n')).toThrow(/gw\.yaml:\d+: redis\.name: Sentinel needs the master name/);
    expect(() => parse('  nodes: [redis://a:1, "http://b:2"]\n')).toThrow(/gw\.yaml:3: redis\.nodes\[1\]: a redis:\/\//);
    expect(() => parse('  key_prefix: x\n')).toThrow(/redis: set exactly one of url \(single node\), nodes \(Cluster\) or sentinels/);
  });
});
