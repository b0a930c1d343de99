// `flowbook show FILE`: the graph as parsed from source, plus the parameters.
import { formatGraph } from '../flow/graph-format.js';
import { loadFlowFile } from '../flow/load.js';

export async function showCommand(file: string, flags: { flow?: string } = {}): Promise<number> {
  const { graph, flow } = await loadFlowFile(file, flags.flow);
  const params = flow.params.map((p) => ({ name: p.name, type: p.type, help: p.options.help, default: p.options.default }));
  process.stdout.write(formatGraph(graph, params).replace(/\n*$/, '\n'));
  return 0;
}
