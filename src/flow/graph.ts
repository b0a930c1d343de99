// The flow graph: parse (graph-parse.ts), validate (graph-validate.ts), and loadFlowGraph, which
// caches the graph of a flow file by the source's sha256 so that a run of an unchanged flow never
// loads the TypeScript compiler (≈150 ms of a 0.4 s budget). Importing this module is cheap:
// graph-parse.ts loads the compiler only when it parses.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlowFileError } from '../errors.js';
import { cacheDir } from './cache-dir.js';
import type { FlowGraph } from './graph-types.js';

import { parseFlowSourceWith } from './graph-parse.js';

export { parseFlowSource } from './graph-parse.js';
export { validateGraph } from './graph-validate.js';
export type { FlowGraph, GraphNode, GraphDecorator, NodeType } from './graph-types.js';

/** Bump when the parser's output changes, so old cache entries are ignored. */
export const PARSER_VERSION = 3;

export { cacheDir } from './cache-dir.js';

function readCached(file: string): FlowGraph | undefined {
  try {
    const graph = JSON.parse(fs.readFileSync(file, 'utf8')) as FlowGraph;
    return graph && typeof graph === 'object' && graph.nodes && Array.isArray(graph.order) ? graph : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The validated graph of a flow file (throws FlowFileError if it cannot be read, GraphError if
 * invalid). `flowName` picks the flow class of a file that has several (`--flow NAME`).
 */
export async function loadFlowGraph(file: string, flowName?: string): Promise<FlowGraph> {
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (err: any) {
    if (err?.code === 'ENOENT' || err?.code === 'EISDIR' || err?.code === 'ENOTDIR') {
      throw new FlowFileError(`flow file not found: ${file}`, { cause: err });
    }
    throw new FlowFileError(`cannot read flow file ${file}: ${err?.message}`, { cause: err });
  }
  const sha = crypto.createHash('sha256').update(source).digest('hex');
  const cached = path.join(cacheDir(), 'graph', `${sha}-v${PARSER_VERSION}${flowName ? `-${flowName}` : ''}.json`);
  const hit = readCached(cached);
  if (hit) return { ...hit, file };

  // miss: load the compiler now, parse and validate (a GraphError means nothing is cached)
  const { default: ts } = await import('typescript');
  const graph = parseFlowSourceWith(ts, source, file, flowName);
  const tmp = `${cached}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(graph));
    fs.renameSync(tmp, cached);
  } catch {
    // a read-only or full cache only costs speed
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* nothing to clean */
    }
  }
  return graph;
}
