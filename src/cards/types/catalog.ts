// The catalog of card types a flow can use: what `@card({ type })` puts on a card before the
// components a step appends. The built-in types (builtin.ts: default, blank, timeline, resources)
// are defined with the same `defineCardType()` a team uses for its own: modules in a `cards/`
// folder of its project (the nearest one above the flow file, up to the project root), or in the
// folders and files listed in FLOWBOOK_CARDS (card-folders.ts). A module exports card types
// (default or named exports); a module that fails to load, or a type that fails to render,
// becomes an error card naming the file — never a failed task.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CARD_MODULE, cardFolders } from './card-folders.js';
import { isCardType, type CardTypeDefinition } from './define.js';
import { BUILTIN_CARD_TYPES } from './builtin.js';

export interface FoundCardType {
  def: CardTypeDefinition;
  /** the module it came from (undefined: built in) */
  file?: string;
}

export interface CardTypeCatalog {
  types: Map<string, FoundCardType>;
  /** `file: why` for modules that could not be loaded or types that clash */
  errors: string[];
  /** where user types were looked for */
  searched: string[];
}

const catalogs = new Map<string, Promise<CardTypeCatalog>>();

/** Built-in and user card types for a flow file or project directory (loaded once per process). */
export function cardTypeCatalog(from: string): Promise<CardTypeCatalog> {
  const folders = cardFolders(from);
  const key = folders.join('\0');
  let c = catalogs.get(key);
  if (!c) catalogs.set(key, (c = loadCatalog(folders)));
  return c;
}

async function loadCatalog(folders: string[]): Promise<CardTypeCatalog> {
  const types = new Map<string, FoundCardType>(BUILTIN_CARD_TYPES.map((def) => [def.type, { def }]));
  const errors: string[] = [];
  const files = folders.flatMap((f) => (fs.statSync(f, { throwIfNoEntry: false })?.isFile() ? [f] : fs.existsSync(f) ? fs.readdirSync(f).filter((n) => CARD_MODULE.test(n)).sort().map((n) => path.join(f, n)) : []));
  if (files.length) (await import('../../flow/load.js')).registerTsHooks();
  for (const file of files) {
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(file).href);
    } catch (err: any) {
      errors.push(`${file}: ${String(err?.message ?? err).split('\n')[0]}`);
      continue;
    }
    const defs = Object.values(mod).filter(isCardType);
    if (!defs.length) errors.push(`${file}: exports no card type (export default defineCardType({ type, render }))`);
    for (const def of defs) {
      const seen = types.get(def.type);
      if (seen) errors.push(`${file}: card type '${def.type}' is already defined ${seen.file ? `in ${seen.file}` : 'by flowbook'}`);
      else types.set(def.type, { def, file });
    }
  }
  return { types, errors, searched: folders };
}
