// The graph's shape as a run record keeps it (steps in order, their successors, foreach and
// switch fields): enough for the default card's picture of a run without its flow file.
import type { RunMeta } from '../datastore/metadata.js';
import type { FlowGraph } from './graph-types.js';

export function graphShape(graph: FlowGraph): NonNullable<RunMeta['graph']> {
  return {
    order: graph.order,
    nodes: Object.fromEntries(
      graph.order.map((n) => {
        const { type, out, foreach, condition } = graph.nodes[n];
        return [n, { type, out, ...(foreach ? { foreach } : {}), ...(condition ? { condition } : {}) }];
      }),
    ),
  };
}
