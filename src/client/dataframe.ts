// DataFrame and Arrow adapters. danfojs-node (seconds to import: tfjs) and apache-arrow are
// imported only here, and only when a frame is asked for.
import { FlowbookError } from '../errors.js';

let danfo: any;
async function dfd(): Promise<any> {
  danfo ??= await import('danfojs-node');
  return danfo.default ?? danfo;
}

/** Columns with mixed types become strings (danfo needs one dtype per column); null stays null. */
function normalize(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const mixed = new Set(
    cols.filter((c) => new Set(rows.map((r) => r[c]).filter((v) => v !== null && v !== undefined).map((v) => typeof v)).size > 1),
  );
  return rows.map((r) =>
    Object.fromEntries(
      cols.map((c) => {
        const v = r[c] ?? null;
        if (v !== null && typeof v === 'object') return [c, JSON.stringify(v)];
        return [c, mixed.has(c) && v !== null ? String(v) : v];
      }),
    ),
  );
}

export async function rowsToDataFrame(rows: Record<string, unknown>[]): Promise<any> {
  const { DataFrame } = await dfd();
  return new DataFrame(normalize(rows));
}

export async function rowsToArrow(rows: Record<string, unknown>[]): Promise<any> {
  const { tableFromJSON } = await import('apache-arrow');
  return tableFromJSON(normalize(rows) as any);
}

const isArrowTable = (v: any) => v && typeof v === 'object' && v.constructor?.name === 'Table' && 'schema' in v && 'batches' in v;
const isDanfoFrame = (v: any) => v && typeof v === 'object' && v.constructor?.name === 'DataFrame' && 'columns' in v;
const isRecords = (v: unknown): v is Record<string, unknown>[] =>
  Array.isArray(v) && v.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r));

export async function valueToDataFrame(v: unknown, name: string): Promise<any> {
  if (isDanfoFrame(v)) return v;
  if (isArrowTable(v)) return rowsToDataFrame((v as any).toArray().map((r: any) => r.toJSON()));
  if (isRecords(v)) return rowsToDataFrame(v);
  throw new FlowbookError(`artifact '${name}' is not a table: toDataFrame() takes an array of records, an Arrow table or a DataFrame`);
}

export async function valueToArrow(v: unknown, name: string): Promise<any> {
  if (isArrowTable(v)) return v;
  if (isDanfoFrame(v)) return rowsToArrow(danfoRows(v));
  if (isRecords(v)) return rowsToArrow(v);
  throw new FlowbookError(`artifact '${name}' is not a table: toArrow() takes an array of records, an Arrow table or a DataFrame`);
}

function danfoRows(df: any): Record<string, unknown>[] {
  const cols: string[] = df.columns;
  return (df.values as unknown[][]).map((row) => Object.fromEntries(cols.map((c, i) => [c, row[i]])));
}
