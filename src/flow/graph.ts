// loadFlowGraph: the graph of a flow file, cached by the source's sha256 so that a run of an
// unchanged flow never loads the TypeScript compiler (≈150 ms of a 0.4 s budget).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlowFileError } from '../errors.js';
import type { FlowGraph } from './graph-types.js';

/** Bump when the parser's output changes, so old cache entries are ignored. */
export const PARSER_VERSION = 1;

export function cacheDir(): string {
  return process.env.FLOWBOOK_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'flowbook');
}

export async function loadFlowGraph(file: string): Promise<FlowGraph> {
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (err: any) {
    if (err?.code === 'ENOENT' || err?.code === 'EISDIR') throw new FlowFileError(`flow file not found: ${file}`, { cause: err });
    throw new FlowFileError(`cannot read flow file ${file}: ${err?.message}`, { cause: err });
  }
  const sha = crypto.createHash('sha256').update(source).digest('hex');
  const cached = path.join(cacheDir(), 'graph', `${sha}-v${PARSER_VERSION}.json`);
  try {
    const graph = JSON.parse(fs.readFileSync(cached, 'utf8')) as FlowGraph;
    return { ...graph, file };
  } catch {
    /* miss */
  }
  const { parseFlowSource } = await import('./graph-parse.js');
  const graph = parseFlowSource(source, file); // throws GraphError: invalid graphs are never cached
  try {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(graph));
    fs.renameSync(tmp, cached);
  } catch {
    /* a read-only cache only costs speed */
  }
  return graph;
}
