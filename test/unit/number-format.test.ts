import { describe, expect, it } from 'vitest';
import { formatNumber } from '../../src/insight/number-format.js';

describe('formatNumber', () => {
  it('groups thousands in en-US and keeps at most the asked decimals', () => {
    expect(formatNumber(1234567.891, 1)).toBe('1,234,567.9');
    expect(formatNumber(1234567.891, 0)).toBe('1,234,568');
    expect(formatNumber(0.25, 1)).toBe('0.3');
    expect(formatNumber(2, 1)).toBe('2');
    expect(formatNumber(-1500, 0)).toBe('-1,500');
    expect(formatNumber(9.95, 1)).toBe('10');
    expect(formatNumber(9.94, 1)).toBe('9.9');
  });
});
