// What the parser (graph-parse.ts) saw beyond the graph itself, handed to validation
// (graph-validate.ts): its own file so the two share the shape without importing each other.

/** One `this.next(...)` call in a step's body. */
export interface NextCall {
  line: number;
  /** the distinct target steps, in source order */
  targets: string[];
  foreach?: string;
  condition?: string;
  cases?: Record<string, string>;
}

/** What the parser saw beyond the graph, for validation. */
export interface ParseFacts {
  /** line of the flow class's name */
  classLine: number;
  /** fields assigned anywhere in the class (this.x = …) or declared with an initializer */
  assigned: Set<string>;
  /** the next() calls of each step, in source order */
  nextCalls: Map<string, NextCall[]>;
  /** methods of the class that are not @step methods: name → line */
  plainMethods: Map<string, number>;
}
