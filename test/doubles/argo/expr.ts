// The three small languages of an Argo DAG, as the workflow-controller reads them:
// - `{{…}}` template variables (substituted textually in every string, like Argo's fasttemplate pass
//   over the template JSON);
// - `depends` — enhanced depends logic: task results combined with && || ! and parentheses;
// - `when` — a govaluate expression where bare words count as strings (Argo turns govaluate
//   VARIABLE tokens into STRING tokens so `{{x}} == heads` works unquoted).

export const VAR = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Every `{{name}}` referenced anywhere inside `value` (strings of a JSON-like tree). */
export function variables(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') for (const m of value.matchAll(VAR)) out.add(m[1]);
  else if (Array.isArray(value)) value.forEach((v) => variables(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => variables(v, out));
  return out;
}

/** Substitute `{{name}}` in every string of `value`; names missing from `scope` are left as they are and reported. */
export function substitute<T>(value: T, scope: Record<string, string>, unresolved = new Set<string>()): T {
  const walk = (v: any): any => {
    if (typeof v === 'string')
      return v.replace(VAR, (whole, name: string) => {
        if (Object.prototype.hasOwnProperty.call(scope, name)) return scope[name];
        unresolved.add(name);
        return whole;
      });
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value);
}

// ---- depends ---------------------------------------------------------------------------------

export interface TaskResult {
  phase: string; // Succeeded, Failed, Error, Skipped, Omitted, Running, …
  /** for a TaskGroup (withParam/withItems): the phases of its expanded children */
  children?: string[];
}
const RESULTS = ['Succeeded', 'Failed', 'Errored', 'Skipped', 'Omitted', 'Daemoned', 'AnySucceeded', 'AllFailed'];

function tokenize(src: string, re: RegExp, what: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    if (/\s/.test(src[i])) {
      i++;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m || m.index !== i) throw new Error(`invalid ${what} expression '${src}': unexpected '${src.slice(i)}'`);
    out.push(m[0]);
    i += m[0].length;
  }
  return out;
}

/** The task names a depends expression refers to. */
export function dependsTasks(expr: string): string[] {
  const toks = tokenize(expr, /&&|\|\||!|\(|\)|[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z]+)?/y, 'depends');
  return [...new Set(toks.filter((t) => /^[A-Za-z0-9_]/.test(t)).map((t) => t.split('.')[0]))];
}

/** Evaluate a depends expression; every task it names must be fulfilled (finished) in `results`. */
export function evalDepends(expr: string, results: Record<string, TaskResult>): boolean {
  const toks = tokenize(expr, /&&|\|\||!|\(|\)|[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z]+)?/y, 'depends');
  let pos = 0;
  const atom = (t: string): boolean => {
    const [task, result] = t.split('.');
    const r = results[task];
    if (!r) throw new Error(`invalid depends expression '${expr}': unknown task '${task}'`);
    const p = r.phase;
    if (!result) return p === 'Succeeded' || p === 'Skipped' || p === 'Daemoned';
    if (!RESULTS.includes(result)) throw new Error(`invalid depends expression '${expr}': unknown result '${result}'`);
    if (result === 'Errored') return p === 'Error';
    if (result === 'AnySucceeded') return (r.children ?? []).some((c) => c === 'Succeeded');
    if (result === 'AllFailed') return (r.children ?? []).length > 0 && (r.children ?? []).every((c) => c === 'Failed');
    return p === result;
  };
  const primary = (): boolean => {
    const t = toks[pos++];
    if (t === '!') return !primary();
    if (t === '(') {
      const v = or();
      if (toks[pos++] !== ')') throw new Error(`invalid depends expression '${expr}': missing ')'`);
      return v;
    }
    if (t === undefined || t === ')' || t === '&&' || t === '||') throw new Error(`invalid depends expression '${expr}'`);
    return atom(t);
  };
  const and = (): boolean => {
    let v = primary();
    while (toks[pos] === '&&') {
      pos++;
      v = primary() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (toks[pos] === '||') {
      pos++;
      v = and() || v;
    }
    return v;
  };
  const v = or();
  if (pos !== toks.length) throw new Error(`invalid depends expression '${expr}'`);
  return v;
}

/** The legacy `dependencies` list as a depends expression (continueOn lets failures through too). */
export function legacyDepends(deps: string[], continueOn: (task: string) => { failed?: boolean; error?: boolean } | undefined): string {
  return deps
    .map((d) => {
      const c = continueOn(d) ?? {};
      return `(${[`${d}.Succeeded`, `${d}.Skipped`, `${d}.Daemoned`, ...(c.failed ? [`${d}.Failed`] : []), ...(c.error ? [`${d}.Errored`] : [])].join(' || ')})`;
    })
    .join(' && ');
}

// ---- when ------------------------------------------------------------------------------------

type Val = string | number | boolean;

/** govaluate subset: numbers, 'quoted' / "quoted" / bare strings, true/false, == != < > <= >= =~ !~ ! && || ( ). */
export function evalWhen(expr: string): boolean {
  const toks = tokenize(expr, /'[^']*'|"[^"]*"|&&|\|\||==|!=|<=|>=|=~|!~|<|>|!|\(|\)|-?\d+(\.\d+)?(?![A-Za-z_])|[A-Za-z_][A-Za-z0-9_.-]*/y, 'when');
  let pos = 0;
  const fail = (m: string) => new Error(`Invalid 'when' expression '${expr}': ${m}`);
  const value = (): Val => {
    const t = toks[pos++];
    if (t === undefined) throw fail('unexpected end of expression');
    if (t === '(') {
      const v = or();
      if (toks[pos++] !== ')') throw fail("missing ')'");
      return v;
    }
    if (t === '!') {
      const v = value();
      if (typeof v !== 'boolean') throw fail('! needs a boolean');
      return !v;
    }
    if (/^['"]/.test(t)) return t.slice(1, -1);
    if (/^-?\d/.test(t)) return Number(t);
    if (t === 'true' || t === 'false') return t === 'true';
    if (/^[A-Za-z_]/.test(t)) return t; // a bare word: a string, as Argo makes it
    throw fail(`unexpected token '${t}'`);
  };
  const cmp = (): Val => {
    const a = value();
    const op = toks[pos];
    if (!['==', '!=', '<', '>', '<=', '>=', '=~', '!~'].includes(op)) return a;
    pos++;
    const b = value();
    switch (op) {
      case '==':
        return a === b;
      case '!=':
        return a !== b;
      case '=~':
        return new RegExp(String(b)).test(String(a));
      case '!~':
        return !new RegExp(String(b)).test(String(a));
    }
    if (typeof a !== typeof b || typeof a === 'boolean') throw fail(`cannot compare ${JSON.stringify(a)} ${op} ${JSON.stringify(b)}`);
    return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  };
  const bool = (v: Val): boolean => {
    if (typeof v !== 'boolean') throw fail(`value ${JSON.stringify(v)} cannot be used with && / ||`);
    return v;
  };
  const and = (): Val => {
    let v = cmp();
    while (toks[pos] === '&&') {
      pos++;
      const r = bool(cmp());
      v = bool(v) && r;
    }
    return v;
  };
  const or = (): Val => {
    let v = and();
    while (toks[pos] === '||') {
      pos++;
      const r = bool(and());
      v = bool(v) || r;
    }
    return v;
  };
  const v = or();
  if (pos !== toks.length) throw fail(`unexpected '${toks[pos]}'`);
  if (typeof v !== 'boolean') throw fail('expected a boolean result');
  return v;
}
