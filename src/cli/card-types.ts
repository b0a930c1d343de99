// `flowbook card types [PATH]`: which card types a flow there can use — flowbook's and the
// project's own — and any module in its cards/ folder that could not be loaded.
import { cardTypeCatalog } from '../cards/types/catalog.js';
import { alignedColumns } from './columns.js';

export async function typesCommand(from: string | undefined): Promise<number> {
  const catalog = await cardTypeCatalog(from ?? process.cwd());
  const rows = [...catalog.types.values()].map((t) => [t.def.type, t.file ? 'yours' : 'built-in', t.def.description ?? '', t.file ?? '']);
  console.log(alignedColumns([['TYPE', 'FROM', 'DESCRIPTION', 'FILE'], ...rows]));
  console.error(catalog.searched.length ? `looked for your card types in ${catalog.searched.join(', ')}` : 'no cards/ folder above this path and FLOWBOOK_CARDS is unset: only built-in types');
  for (const e of catalog.errors) console.error(`error: ${e}`);
  return catalog.errors.length ? 1 : 0;
}
