/** `s` with RegExp metacharacters escaped, to embed a path or name in a pattern (RegExp.escape needs Node.js 24). */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
