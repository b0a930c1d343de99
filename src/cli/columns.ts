// Rows of text as aligned columns (two spaces apart, no trailing blanks): what `advise`,
// `argo-workflows list-runs` and `card types` print.
export function alignedColumns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
