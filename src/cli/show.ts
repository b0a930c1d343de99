// `flowbook show FILE`: the graph as parsed from source, plus the parameters.
import { loadFlowGraph } from '../flow/graph.js';
import { formatGraph } from '../flow/graph-format.js';
import { loadFlow } from '../flow/load.js';

export async function showCommand(file: string): Promise<number> {
  const graph = await loadFlowGraph(file);
  const flow = await loadFlow(file, graph.flowName);
  const params = flow.params.map((p) => ({ name: p.name, type: p.type, help: p.options.help, default: p.options.default }));
  process.stdout.write(formatGraph(graph, params).replace(/\n*$/, '\n'));
  return 0;
}
