const formats: (Intl.NumberFormat | undefined)[] = [];

/**
 * `n` with en-US grouping and at most `digits` decimals. One formatter per precision, made on
 * first use: `toLocaleString` would build one per call, and building the first one sets up
 * ICU's number formatting (tens of milliseconds), which start-up should not pay for messages
 * that are written later, if ever.
 */
export function formatNumber(n: number, digits: 0 | 1): string {
  let f = formats[digits];
  if (!f) formats[digits] = f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits });
  return f.format(n);
}
