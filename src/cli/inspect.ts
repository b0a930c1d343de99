// `flowbook logs` and `flowbook dump`: read a run back through the client. Tables (DataFrames,
// Arrow tables, arrays of records) print as tables, long arrays as their length and first items;
// `dump … --out file` exports a table for other tools.
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { Run, Step, Task, DataArtifact } from '../client/index.js';
import { arrowFileBytes, columnsToArrow, columnsToRecords, isArrowTable, isDanfoFrame, isRecords, tableColumns } from '../client/dataframe.js';
import { arrowToParquet, columnsToParquet } from '../client/parquet.js';
import { tableText } from '../client/table-text.js';
import type { Columns } from '../client/table.js';
import type { AttemptMeta } from '../datastore/metadata.js';
import { NameError, NotFoundError } from '../errors.js';
import { readAnyNamespace, resolvePathspec } from './pathspec.js';

function setup(flags: { datastoreRoot?: string }): void {
  readAnyNamespace(flags.datastoreRoot);
}

const depth = (p: string) => p.split('/').filter(Boolean).length;

/** `--attempt N` counts from 1, as the run's lines and the headers below do; undefined: all. */
function attemptFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new NameError(`--attempt takes a number ≥ 1 (attempt 1 is a task's first run, as \`flowbook run\` counts them), got ${JSON.stringify(v)}`);
  return Number(v) - 1;
}

const attemptStatus = (a: AttemptMeta) => (a.status === 'done' ? (a.error ? 'failed, caught by @catchErrors' : 'succeeded') : a.status);

export async function logsCommand(given: string, flags: { stdout?: boolean; stderr?: boolean; attempt?: string; datastoreRoot?: string }): Promise<number> {
  setup(flags);
  const wanted = attemptFlag(flags.attempt);
  const pathspec = await resolvePathspec(given);
  const n = depth(pathspec);
  if (n !== 3 && n !== 4) throw new NameError(`logs takes Flow/run/step or Flow/run/step/task (run may be 'latest' or 'latest-successful'), got ${JSON.stringify(given)}`);
  const tasks = n === 4 ? [Task(pathspec)] : await Step(pathspec).tasks();
  const both = !flags.stdout && !flags.stderr;
  const streams = (['stdout', 'stderr'] as const).filter((s) => both || flags[s]);
  // the markers go with the output: on stdout, or on stderr when only stderr is shown
  const mark = (line: string) => process[streams[0]].write(`${line}
`);
  let shown = 0;
  for (const task of tasks) {
    // a task cloned by resume printed (and retried) where it ran
    const attempts = await (task.origin ? Task(task.origin) : task).attempts;
    const chosen = wanted === undefined ? attempts : attempts.filter((a) => a.attempt === wanted);
    if (wanted !== undefined && !chosen.length) continue;
    shown++;
    if (tasks.length > 1) mark(`--- ${task.pathspec}`);
    // no attempt recorded yet (a task that just started): what it has printed so far
    if (!chosen.length) {
      for (const s of streams) process[s].write(await task.log(s));
      continue;
    }
    for (const a of chosen) {
      // every attempt is shown, each under a marker, when there was more than one
      if (wanted === undefined && attempts.length > 1) mark(`--- attempt ${a.attempt + 1} of ${attempts.length} (${attemptStatus(a)}) ---`);
      for (const s of streams) process[s].write(await task.log(s, a.attempt));
    }
  }
  if (wanted !== undefined && !shown) {
    const most = Math.max(0, ...(await Promise.all(tasks.map(async (t) => (await (t.origin ? Task(t.origin) : t).attempts).length))));
    throw new NotFoundError(`${pathspec} has no attempt ${wanted + 1}: ${tasks.length > 1 ? 'its tasks have at most' : 'it has'} ${most} attempt${most === 1 ? '' : 's'}`, { pathspec });
  }
  return 0;
}

// ---------- previews

/** How much of a value a preview shows (dump, spin). */
export interface Look {
  width: number;
  head: number;
  tail: number;
  maxCell: number;
}
const LONG_ARRAY = 20;
const tableKind = (v: unknown) => (isDanfoFrame(v) ? 'DataFrame' : isArrowTable(v) ? 'Arrow table' : isRecords(v) ? 'array of records' : undefined);

/** What inspect() shows in place of a table or a long array inside another value. */
function summary(v: unknown): unknown {
  const kind = tableKind(v);
  if (kind) {
    const [rows, cols]: [number, string[]] = isDanfoFrame(v)
      ? [(v as any).shape[0], (v as any).columns]
      : isArrowTable(v)
        ? [(v as any).numRows, (v as any).schema.fields.map((f: any) => f.name)]
        : [(v as unknown[]).length, Object.keys((v as any[])[0])];
    const text = `<${kind}: ${rows} rows × ${cols.length} columns: ${cols.slice(0, 6).join(', ')}${cols.length > 6 ? ', …' : ''}>`;
    return { [inspect.custom]: () => text };
  }
  if (Array.isArray(v)) return v.map(summary);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, summary(x)]));
  return v;
}

/** A value as `dump` prints it: a table as a table, a long array as its length and first items. */
export async function preview(v: unknown, look: Look): Promise<string> {
  const kind = tableKind(v);
  if (kind) return tableText(await tableColumns(v, ''), { what: kind, ...look });
  const opts = { depth: 3, maxArrayLength: 10, maxStringLength: 300, breakLength: look.width, colors: false };
  const list = Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  if (list && (v as ArrayLike<unknown>).length > LONG_ARRAY) {
    const a = v as ArrayLike<unknown>;
    const name = Array.isArray(v) ? 'array' : v!.constructor.name;
    const types = Array.isArray(v) ? [...new Set(v.slice(0, 1000).map((x) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x)))].map((t) => `${t}s`).join('/') : 'numbers';
    const first = Array.from({ length: 10 }, (_, i) => inspect(summary(a[i]), { ...opts, depth: 1, breakLength: Infinity }));
    return `${name} of ${a.length.toLocaleString('en-US')} ${types}, first 10: [ ${first.join(', ')}, … ]`;
  }
  return inspect(summary(v), opts);
}

// ---------- JSON

/** JSON for values JSON cannot hold as is (tables, Map, Set, BigInt, typed arrays). */
async function jsonOf(v: unknown): Promise<unknown> {
  if (isDanfoFrame(v) || isArrowTable(v)) return columnsToRecords(await tableColumns(v, ''));
  return v;
}
function jsonSafe(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Map) return Object.fromEntries(v);
  if (v instanceof Set) return [...v];
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}
const toJson = (v: unknown) => JSON.stringify(v, jsonSafe, 1) + '\n';

// ---------- export

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

async function writeTable(file: string, cols: Columns, original: unknown, what: string): Promise<string> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc') {
    // an Arrow table artifact is written as it is; anything else with the types from table.ts
    const table = isArrowTable(original) ? original : await columnsToArrow(cols);
    fs.writeFileSync(file, await arrowFileBytes(table));
    return 'Arrow IPC file';
  }
  if (ext === '.parquet') {
    // as toParquet() writes it: an Arrow table artifact as it is, anything else as .arrow types it
    fs.writeFileSync(file, isArrowTable(original) ? await arrowToParquet(original, what) : await columnsToParquet(cols, what));
    return 'Parquet';
  }
  const records = columnsToRecords(cols);
  if (ext === '.csv') {
    const names = cols.columns.map((c) => c.name);
    fs.writeFileSync(file, [names.map(csvCell).join(','), ...records.map((r) => names.map((n) => csvCell(r[n])).join(','))].join('\n') + '\n');
    return 'CSV';
  }
  if (ext === '.json') {
    fs.writeFileSync(file, toJson(records));
    return 'JSON records';
  }
  throw new NameError(`--out ${JSON.stringify(file)}: the file's extension says the format: .arrow (Arrow IPC file), .parquet, .csv or .json`);
}

async function stepTable(pathspec: string, fields?: string[]): Promise<Columns> {
  return tableColumns(await Step(pathspec).toArrow(fields), Step(pathspec).id);
}

// ---------- dump

interface DumpFlags {
  json?: boolean;
  out?: string;
  fields?: string;
  datastoreRoot?: string;
}

export async function dumpCommand(given: string, flags: DumpFlags): Promise<number> {
  setup(flags);
  const pathspec = await resolvePathspec(given);
  const n = depth(pathspec);
  const fields = flags.fields?.split(',').map((f) => f.trim()).filter(Boolean);
  const width = process.stdout.isTTY ? process.stdout.columns : 100;
  const one: Look = { width, head: 5, tail: 5, maxCell: 40 };

  if (flags.out) {
    let cols: Columns;
    let original: unknown;
    if (n === 5) cols = await tableColumns((original = await DataArtifact(pathspec).data()), DataArtifact(pathspec).name);
    else if (n === 3) cols = await stepTable(pathspec, fields);
    else throw new NameError(`--out exports a table artifact (Flow/run/step/task/artifact) or a step's tasks (Flow/run/step), got ${JSON.stringify(given)}`);
    const format = await writeTable(flags.out, cols, original, n === 5 ? `artifact '${DataArtifact(pathspec).name}'` : `step ${pathspec}`);
    console.log(`wrote ${cols.numRows} rows × ${cols.columns.length} columns to ${flags.out} (${format})`);
    return 0;
  }
  if (n === 5) {
    const value = await DataArtifact(pathspec).data();
    process.stdout.write(flags.json ? toJson(await jsonOf(value)) : (await preview(value, one)) + '\n');
    return 0;
  }
  if (n === 3) {
    const cols = await stepTable(pathspec, fields);
    const cached = (await Step(pathspec).tasks()).filter((t) => t.cachedFrom).length;
    if (cached) console.error(`${pathspec}: ${cached} task(s) cached by @cache (reused from earlier runs, not run; see flowbook dump ${pathspec}/TASK)`);
    process.stdout.write(flags.json ? toJson(columnsToRecords(cols)) : tableText(cols, { what: `${pathspec} tasks`, ...one }) + '\n');
    return 0;
  }
  if (n !== 2 && n !== 4) {
    throw new NameError(`dump takes Flow/run, Flow/run/step, Flow/run/step/task or Flow/run/step/task/artifact (run may be 'latest' or 'latest-successful'), got ${JSON.stringify(given)}`);
  }
  // a run's data is its end task's artifacts
  const run = n === 2 ? Run(pathspec) : undefined;
  if (run) console.error(`${run.pathspec}: ${run.status}${run.status === 'killed' ? ` (its runner is gone; continue it with: flowbook resume FLOW_FILE --origin-run-id ${run.id})` : ''}`);
  const task = n === 4 ? Task(pathspec) : await run!.endTask;
  if (!task) throw new NotFoundError(`run ${pathspec} has no finished end step (status: ${run?.status}); dump one of its tasks`, { pathspec });
  if (task.cachedFrom) console.error(`${task.pathspec}: cached ← ${task.cachedFrom} (@cache: its results are that task's; it did not run)`);
  const arts = await task.artifacts;
  const values = await Promise.all(arts.map((a) => a.data()));
  if (flags.json) {
    const plain = await Promise.all(values.map(jsonOf));
    process.stdout.write(toJson(Object.fromEntries(arts.map((a, i) => [a.name, plain[i]]))));
    return 0;
  }
  // many artifacts: shorter tables; one-line values first, then the multi-line ones
  const many: Look = { width, head: 3, tail: 2, maxCell: 24 };
  const shown = await Promise.all(
    arts.map(async (a, i) => ({ head: `${a.name} (${a.type}, ${a.size} bytes, sha256 ${a.sha.slice(0, 12)}):`, text: await preview(values[i], many) })),
  );
  const short = shown.filter((s) => !s.text.includes('\n'));
  const long = shown.filter((s) => s.text.includes('\n'));
  for (const s of short) process.stdout.write(`${s.head} ${s.text}\n`);
  for (const s of long) process.stdout.write(`${s.head}\n${s.text.replace(/^(?=.)/gm, '  ')}\n`);
  if (run) console.error(`one artifact: flowbook dump ${task.pathspec}/NAME; a step's tasks as a table: flowbook dump ${run.pathspec}/STEP [--out tasks.arrow]`);
  return 0;
}
