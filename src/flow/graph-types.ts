// The flow graph as parsed from source, before anything runs (like Metaflow's FlowGraph).
// It is plain JSON so it can be cached by the source's sha256 and sent to workers.

export type NodeType =
  | 'start' // the `start` step (may also be a split)
  | 'linear' // one successor
  | 'split-static' // this.next(this.a, this.b)
  | 'split-foreach' // this.next(this.a, { foreach: 'field' })
  | 'split-switch' // this.next({ x: this.a, y: this.b }, { condition: 'field' })
  | 'join' // a step declared with an `inputs` parameter
  | 'end';

export interface GraphDecorator {
  /** decorator name as written: step, resources, kubernetes, retry, timeout, catchErrors, card, ... */
  name: string;
  line: number;
  /** source text of the arguments, for display only (runtime values come from the module) */
  args?: string;
}

export interface GraphNode {
  name: string;
  /** the transition this step makes; `start` and `end` keep their own type unless start splits */
  type: NodeType;
  /** successor step names in source order (for a switch: the distinct case targets) */
  out: string[];
  /** predecessor step names */
  in: string[];
  /** whether the method declares a parameter (`inputs`): a join */
  isJoin: boolean;
  /** foreach field name for split-foreach */
  foreach?: string;
  /** condition field for split-switch, and the case → step map */
  condition?: string;
  switchCases?: Record<string, string>;
  /** 1-based line of the method name in the source file */
  line: number;
  decorators: GraphDecorator[];
  /** the stack of split steps that this step is nested in (outermost first), Metaflow's split_parents */
  splitParents: string[];
  /** for split-static / split-foreach: the join step that closes it */
  matchingJoin?: string;
  /** first line of the method's doc comment, if any */
  doc?: string;
}

export interface FlowGraph {
  /** the class name, which is the flow name */
  flowName: string;
  file: string;
  /** sha256 of the source text */
  sourceSha: string;
  nodes: Record<string, GraphNode>;
  /** step names in a topological order starting at `start` (ties: source order) */
  order: string[];
}
