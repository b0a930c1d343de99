// What a notebook shows for a value as a cell's last expression: the flowbook kernel
// (kernels/tslab-kernel.cjs) asks mimeBundle() — an object's own display (a card, a run), or a
// table as client/table-display.ts renders it.
import { DISPLAY, isTable, tableBundle, type MimeBundle } from '../client/table-display.js';

export { DISPLAY, type MimeBundle };

/** What a notebook shows for a value as a cell's last expression; undefined: print it as tslab does. */
export function mimeBundle(x: any): MimeBundle | undefined {
  if (x !== null && (typeof x === 'object' || typeof x === 'function') && typeof x[DISPLAY] === 'function') return x[DISPLAY]();
  return isTable(x) ? tableBundle(x) : undefined;
}

