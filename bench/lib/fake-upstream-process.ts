/** Runs the fake OpenAI upstream in its own process (so it does not share an event loop with what is measured). */
import { startFakeOpenAI } from '../../test/helpers/fake-openai.js';

const fake = await startFakeOpenAI({ record: false, chunks: Number(process.env['FAKE_CHUNKS'] ?? 8) });
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
