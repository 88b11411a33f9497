/** Reading edge output back as tool calls: Hermes blocks validated against the tool's schema, streaming hold-back. */
import { describe, expect, it } from 'vitest';
import { ToolOutput, toolPlan } from './edge-tools.js';
import { GatewayError } from '../../core/errors.js';

const tools = [
  {
    type: 'function',
    function: {
      name: 'weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    },
  },
];

describe('toolPlan', () => {
  it('maps tool_choice and response_format to what the engine enforces', () => {
    expect(toolPlan({ tools }).mode).toBe('auto');
    expect(toolPlan({ tools, tool_choice: 'none' }).mode).toBe('free');
    const named = toolPlan({ tools, tool_choice: { type: 'function', function: { name: 'weather' } } });
    expect(named.mode).toBe('one');
    expect(JSON.parse((named.constraint as { schema: string }).schema)).toEqual(tools[0]!.function.parameters);
    const two = toolPlan({ tools: [...tools, { type: 'function', function: { name: 'b' } }], tool_choice: 'required' });
    expect(two.mode).toBe('any');
    expect(JSON.parse((two.constraint as { schema: string }).schema).anyOf).toHaveLength(2);
    expect(toolPlan({ response_format: { type: 'json_object' } }).constraint).toEqual({ kind: 'json_object' });
    expect(() => toolPlan({ tools, tool_choice: { type: 'function', function: { name: 'nope' } } })).toThrow(GatewayError);
  });
});

describe('ToolOutput (auto)', () => {
  const plan = toolPlan({ tools });

  it('turns valid <tool_call> blocks into tool calls and keeps the text around them', () => {
    const out = new ToolOutput(plan);
    out.push('Let me check. <tool_call>{"name": "weather", "arguments": {"city": "Oslo"}}</tool_call>');
    const m = out.message();
    expect(m.calls).toHaveLength(1);
    expect(m.calls[0]!.function).toEqual({ name: 'weather', arguments: '{"city":"Oslo"}' });
    expect(m.content).toBe('Let me check.');
  });

  it('returns plain text, never a malformed call: bad JSON, unknown tool, arguments off the schema, unclosed block', () => {
    for (const text of [
      '<tool_call>{"name": "weather", "arguments": {"city": </tool_call>',
      '<tool_call>{"name": "other", "arguments": {}}</tool_call>',
      '<tool_call>{"name": "weather", "arguments": {"town": "Oslo"}}</tool_call>',
      '<tool_call>{"name": "weather", "arguments": {"city": "Oslo"}}',
    ]) {
      const out = new ToolOutput(plan);
      out.push(text);
      expect(out.message()).toEqual({ content: text, calls: [] });
      expect(out.calledTools).toBe(false);
    }
  });

  it('streams text until a possible <tool_call> starts, then holds it back until the end', () => {
    const out = new ToolOutput(plan);
    const sent: unknown[] = [];
    for (const piece of ['Hi there <to', 'ol_call>{"name":"weather","arguments":{"city":"Rome"}}', '</tool_call>']) sent.push(...out.push(piece));
    expect(sent).toEqual([{ content: 'Hi there ' }]);
    const end = out.end();
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ tool_calls: [{ index: 0, type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } }] });
    // A false alarm ('<to' that never becomes a tool call) is released as text at the end.
    const plain = new ToolOutput(plan);
    expect(plain.push('a <to')).toEqual([{ content: 'a ' }]);
    expect(plain.push('p>')).toEqual([{ content: '<top>' }]);
  });
});
