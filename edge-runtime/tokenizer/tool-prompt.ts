/**
 * Tools for chat templates that do not render them: the tool list goes into the system message and calls / results
 * into the text, in the Hermes format (`<tool_call>{"name":...,"arguments":...}</tool_call>`) that Qwen 2.5/3 and
 * Hermes models are trained on and that the edge parses tool calls back from.
 */
import type { ChatTool, ChatTurn } from '../engine/protocol.js';

export const TOOL_CALL_OPEN = '<tool_call>';
export const TOOL_CALL_CLOSE = '</tool_call>';

/** Whether a chat template renders `tools` itself (it mentions the variable). */
export function templateReadsTools(template: string): boolean {
  return /\btools\b/.test(template);
}

function toolsPreamble(tools: readonly ChatTool[]): string {
  const list = tools.map((t) => JSON.stringify(t)).join('\n');
  // Short on purpose: small edge models have small contexts, and forced calls are enforced by the grammar anyway.
  return (
    `# Tools\n<tools>\n${list}\n</tools>\n` +
    `To call a function, reply with ${TOOL_CALL_OPEN}{"name": <function-name>, "arguments": <args-json-object>}${TOOL_CALL_CLOSE}`
  );
}

export function withToolsInText(messages: readonly ChatTurn[], tools: readonly ChatTool[]): Array<{ role: string; content: string }> {
  const out: Array<{ role: string; content: string }> = [];
  if (tools.length > 0) {
    const first = messages[0];
    const preamble = toolsPreamble(tools);
    if (first?.role === 'system') out.push({ role: 'system', content: `${first.content}\n\n${preamble}` });
    else out.push({ role: 'system', content: preamble });
  }
  messages.forEach((m, i) => {
    if (i === 0 && m.role === 'system' && tools.length > 0) return;
    if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
      const calls = m.tool_calls.map((c) => {
        let args: unknown = c.function.arguments;
        try {
          args = JSON.parse(c.function.arguments);
        } catch {
          // Arguments that are not JSON are shown as the string they are.
        }
        return `${TOOL_CALL_OPEN}\n${JSON.stringify({ name: c.function.name, arguments: args })}\n${TOOL_CALL_CLOSE}`;
      });
      out.push({ role: 'assistant', content: [m.content, ...calls].filter((x) => x.length > 0).join('\n') });
    } else if (m.role === 'tool') {
      out.push({ role: 'user', content: `<tool_response>\n${m.content}\n</tool_response>` });
    } else out.push({ role: m.role, content: m.content });
  });
  return out;
}
