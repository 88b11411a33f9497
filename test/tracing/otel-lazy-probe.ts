/**
 * Child-process probe for otel-lazy.test.ts: fails any import of an @opentelemetry package, then starts a gateway
 * (with `tracing:` when argv[2] is "on") and sends one request through it. Prints "served" when all of that worked.
 */
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(
      "export async function resolve(s, c, next) { if (s.includes('@opentelemetry')) throw new Error('OpenTelemetry loaded: ' + s); return next(s, c); }",
    ),
);
const { startFakeOpenAI } = await import('../helpers/fake-openai.js');
const { startTestGateway } = await import('../helpers/gateway.js');
const cloud = await startFakeOpenAI();
const gw = await startTestGateway({
  upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'] }],
  ...(process.argv[2] === 'on' ? { tracing: { otlp_endpoint: 'http://127.0.0.1:9' } } : {}),
});
await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
await gw.shutdown();
await cloud.close();
console.log('served');
