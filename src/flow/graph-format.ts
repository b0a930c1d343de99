// `flowbook show`: the graph as text, like Metaflow's `show`.
import type { FlowGraph, GraphNode } from './graph-types.js';

function transition(n: GraphNode): string {
  if (n.type === 'end') return '(end of the flow)';
  if (n.foreach !== undefined) return `=> ${n.out[0]} (foreach over ${n.foreach})`;
  if (n.condition !== undefined) {
    const cases = Object.entries(n.switchCases ?? {}).map(([k, v]) => `${k} → ${v}`).join(', ');
    return `=> switch on ${n.condition}: ${cases}`;
  }
  if (n.out.length > 1) return `=> ${n.out.join(', ')} (branches)`;
  return `=> ${n.out[0]}`;
}

export function formatGraph(graph: FlowGraph, params: { name: string; type: string; help?: string; default?: unknown }[] = []): string {
  const lines = [`Flow ${graph.flowName}  (${graph.file})`, ''];
  if (params.length) {
    lines.push('Parameters:');
    for (const p of params) {
      const def = p.default === undefined ? '' : ` (default ${JSON.stringify(p.default)})`;
      lines.push(`  --${p.name} <${p.type}>${def}${p.help ? `  ${p.help}` : ''}`);
    }
    lines.push('');
  }
  for (const name of graph.order) {
    const n = graph.nodes[name];
    const decos = n.decorators.filter((d) => d.name !== 'step').map((d) => `@${d.name}${d.args !== undefined ? `(${d.args})` : ''}`);
    const kind = n.isJoin ? `join of ${n.splitParents.at(-1)}` : n.type;
    lines.push(`Step ${name}  [${kind}, line ${n.line}]`);
    if (n.doc) lines.push(`    ${n.doc}`);
    if (decos.length) lines.push(`    ${decos.join(' ')}`);
    lines.push(`    ${transition(n)}`, '');
  }
  return lines.join('\n');
}
