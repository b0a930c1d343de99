// The look of every card lives in the top-level `cards/` folder as plain files a person can read
// and change: the page shell (page.html), the stylesheet (style.css) and one declarative spec per
// built-in chart (charts/*.vl.json, vega-lite; charts/wordcloud.json, the cloud's layout). The
// code here finds them and fills them with data; nothing about how a card looks is in TypeScript.
//
// FLOWBOOK_CARD_TEMPLATES points at another folder with the same files (a team's own look).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowbookError } from '../errors.js';

/** `cards/` of the installed package: two levels up from src/cards or dist/cards. */
const PACKAGE_CARDS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cards');

export function templatesDir(): string {
  return process.env.FLOWBOOK_CARD_TEMPLATES ? path.resolve(process.env.FLOWBOOK_CARD_TEMPLATES) : PACKAGE_CARDS;
}

const cache = new Map<string, string>();

/** A template's text (read once per process). */
export function template(name: string): string {
  const file = path.join(templatesDir(), name);
  let text = cache.get(file);
  if (text === undefined) {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err: any) {
      throw new FlowbookError(`card template ${file} cannot be read (${err?.code ?? err?.message}): flowbook's cards/ folder is missing or FLOWBOOK_CARD_TEMPLATES is wrong`);
    }
    cache.set(file, text);
  }
  return text;
}

/** A chart's declarative spec, parsed afresh (callers fill it in place). */
export function chartSpec<T = Record<string, any>>(name: string): T {
  const file = `charts/${name}`;
  try {
    return JSON.parse(template(file)) as T;
  } catch (err) {
    if (err instanceof FlowbookError) throw err;
    throw new FlowbookError(`card template ${path.join(templatesDir(), file)} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * `{{name}}` → values[name]. The values are inserted as they are: the caller escapes what is
 * user text. A placeholder with no value is left empty.
 */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => values[k] ?? '');
}
