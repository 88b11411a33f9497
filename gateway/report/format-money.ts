/** Money and savings as people read them: small costs keep 3 significant digits instead of rounding to 0.0000. */
import type { Savings } from './report.js';

export function formatUsd(v: number): string {
  if (v === 0) return '0';
  const decimals = Math.min(10, Math.max(2, 2 - Math.floor(Math.log10(Math.abs(v)))));
  return v.toFixed(decimals);
}

/** One line: "saved 62.5% ($0.0123) vs all-cloud ($0.0197); spent $0.00740". */
export function savingsLine(s: Savings): string {
  if (s.saved_fraction === null) {
    return `spent $${formatUsd(s.cost_usd)}; savings vs all-cloud unknown: no request had a cloud price (add prices.models to the config)`;
  }
  return `saved ${(s.saved_fraction * 100).toFixed(1)}% ($${formatUsd(s.saved_usd)}) vs all-cloud ($${formatUsd(s.all_cloud_cost_usd)}); spent $${formatUsd(s.cost_usd)}`;
}
