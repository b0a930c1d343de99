// `flowbook show`: the graph as text, like Metaflow's `show` (no colours).
//
//   Step start  (line 8)
//       Make the list.
//       => square (foreach over xs)
//
//   Step square  (line 9)
//       @resources({ cpu: 2 })
//       => join
//
//   Step join  (line 10)
//       joins the foreach of start
//       => end
import type { FlowGraph, GraphNode } from './graph-types.js';

export interface FormatParam {
  name: string;
  type: string;
  help?: string;
  default?: unknown;
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ');

function transition(n: GraphNode): string | undefined {
  if (n.name === 'end' || !n.out.length) return undefined;
  if (n.foreach !== undefined) return `=> ${n.out[0]} (foreach over ${n.foreach})`;
  if (n.condition !== undefined) {
    const cases = Object.entries(n.switchCases ?? {}).map(([k, v]) => `${JSON.stringify(k)}: ${v}`);
    return `=> ${n.out.join(', ')} (switch on ${n.condition}: ${cases.join(', ')})`;
  }
  if (n.out.length > 1) return `=> ${n.out.join(', ')} (branches, joined at ${n.matchingJoin ?? '?'})`;
  return `=> ${n.out[0]}`;
}

function joinInfo(graph: FlowGraph, n: GraphNode): string | undefined {
  if (!n.isJoin) return undefined;
  const split = n.splitParents.at(-1);
  if (!split) return 'joins its inputs';
  return graph.nodes[split]?.foreach !== undefined
    ? `joins the foreach of ${split} (over ${graph.nodes[split].foreach})`
    : `joins the branches of ${split}: ${n.in.join(', ')}`;
}

export function formatGraph(graph: FlowGraph, params: FormatParam[] = []): string {
  const lines = [`Flow ${graph.flowName}  (${graph.file})`, ''];
  if (params.length) {
    lines.push('Parameters:');
    for (const p of params) {
      const def = p.default === undefined ? '' : ` (default ${JSON.stringify(p.default)})`;
      lines.push(`    --${p.name} <${p.type}>${def}${p.help ? `  ${p.help}` : ''}`);
    }
    lines.push('');
  }
  for (const name of graph.order) {
    const n = graph.nodes[name];
    lines.push(`Step ${name}  (line ${n.line})`);
    if (n.doc) lines.push(`    ${n.doc}`);
    const decos = n.decorators.filter((d) => d.name !== 'step').map((d) => `@${d.name}${d.args !== undefined ? `(${oneLine(d.args)})` : ''}`);
    if (decos.length) lines.push(`    ${decos.join(' ')}`);
    const join = joinInfo(graph, n);
    if (join) lines.push(`    ${join}`);
    const next = transition(n);
    if (next) lines.push(`    ${next}`);
    lines.push('');
  }
  return lines.join('\n');
}
