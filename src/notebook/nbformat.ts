// Reading and writing .ipynb files: nbformat 4, upgraded to 4.5 (every cell gets an id), outputs
// in the shapes Jupyter writes. Written through a temp file and a rename: a crash never leaves
// half a notebook.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { FlowUsageError } from '../errors.js';

export interface Output {
  output_type: 'stream' | 'display_data' | 'execute_result' | 'error';
  [k: string]: unknown;
}

export interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  id: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, any>;
  cells: Cell[];
}

export const sourceText = (c: Cell) => (Array.isArray(c.source) ? c.source.join('') : c.source ?? '');

export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err: any) {
    throw new FlowUsageError(err?.code === 'ENOENT' ? `notebook not found: ${file}` : `cannot read ${file}: ${err?.message}`, { cause: err });
  }
  let nb: Notebook;
  try {
    nb = JSON.parse(text);
  } catch (err: any) {
    throw new FlowUsageError(`${file} is not a notebook: ${err?.message}`, { cause: err });
  }
  if (!nb || nb.nbformat !== 4 || !Array.isArray(nb.cells)) throw new FlowUsageError(`${file} is not an nbformat 4 notebook`);
  // nbformat 4.5: cell ids (unique, [a-zA-Z0-9-_]{1,64})
  const seen = new Set<string>();
  for (const c of nb.cells) {
    if (typeof c.id !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(c.id) || seen.has(c.id)) c.id = crypto.randomBytes(4).toString('hex');
    seen.add(c.id);
    c.metadata ??= {};
    if (c.cell_type === 'code') {
      c.outputs = [];
      c.execution_count = null;
    }
  }
  nb.nbformat_minor = Math.max(5, nb.nbformat_minor ?? 0);
  nb.metadata ??= {};
  return nb;
}

/** Jupyter's layout: one-space indent, multi-line strings as lists of lines. */
export function writeNotebook(file: string, nb: Notebook): void {
  const lines = (s: unknown) => (typeof s === 'string' ? s.split(/(?<=\n)/) : s);
  const out = {
    ...nb,
    cells: nb.cells.map((c) => ({
      ...c,
      source: lines(sourceText(c)),
      ...(c.outputs
        ? {
            outputs: c.outputs.map((o) => {
              if (o.output_type === 'stream') return { ...o, text: lines(o.text) };
              if (o.data) return { ...o, data: Object.fromEntries(Object.entries(o.data as Record<string, unknown>).map(([k, v]) => [k, k.startsWith('image/png') ? v : lines(v)])) };
              return o;
            }),
          }
        : {}),
    })),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(out, null, 1) + '\n');
  fs.renameSync(tmp, file);
}
