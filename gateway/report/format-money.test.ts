import { describe, expect, it } from 'vitest';
import { formatUsd } from './format-money.js';

describe('formatUsd', () => {
  it('keeps three significant digits for small amounts and cents for large ones', () => {
    expect(formatUsd(0)).toBe('0');
    expect(formatUsd(0.000123456)).toBe('0.000123');
    expect(formatUsd(0.00002)).toBe('0.0000200');
    expect(formatUsd(0.5)).toBe('0.500');
    expect(formatUsd(12.3456)).toBe('12.35');
    expect(formatUsd(1234.5)).toBe('1234.50');
    expect(formatUsd(-0.0042)).toBe('-0.00420');
  });
});
