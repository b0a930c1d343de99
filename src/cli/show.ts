// `flowbook show FILE`: the graph as parsed from source, plus the parameters.
import { loadFlowGraph } from '../flow/graph.js';
import { formatGraph } from '../flow/graph-format.js';

export async function showCommand(file: string): Promise<number> {
  const graph = await loadFlowGraph(file);
  process.stdout.write(formatGraph(graph).replace(/\n?$/, '\n'));
  return 0;
}
