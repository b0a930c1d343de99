// Where a project's own card types are (catalog.ts loads them; the code package ships them to
// pods). Kept free of the card machinery so the runner can ask without loading it.
import fs from 'node:fs';
import path from 'node:path';

/** The folders with user card types for a flow file (or a directory): FLOWBOOK_CARDS, then the nearest `cards/`. */
export function cardFolders(from: string): string[] {
  const out = (process.env.FLOWBOOK_CARDS ?? '').split(path.delimiter).filter(Boolean).map((p) => path.resolve(p));
  let dir = fs.existsSync(from) && fs.statSync(from).isDirectory() ? path.resolve(from) : path.dirname(path.resolve(from));
  for (;;) {
    const cards = path.join(dir, 'cards');
    if (fs.existsSync(cards) && fs.statSync(cards).isDirectory()) {
      out.push(cards);
      break;
    }
    // the project root (or a pod's code package root) ends the search
    if (fs.existsSync(path.join(dir, 'package.json')) || path.dirname(dir) === dir) break;
    dir = path.dirname(dir);
  }
  return [...new Set(out)];
}

/** a module file of a cards/ folder (declarations and dot files are not) */
export const CARD_MODULE = /^[^.].*(?<!\.d)\.(ts|mts|js|mjs)$/;
