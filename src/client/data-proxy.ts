// `run.data` and `task.data`: artifacts read by name, one at a time, on first use. A concern of its
// own because a proxy must answer every probe an inspector, `await` or a test matcher makes
// without a storage lookup, and Run and Task share it.
import { inspect } from 'node:util';

/**
 * Names that inspectors, `await` and test matchers probe on any object: never artifact lookups
 * (an artifact by one of these names is read with `task.artifact(name)`).
 */
const NOT_ARTIFACTS = new Set(['then', 'constructor', 'toJSON', 'inspect', 'asymmetricMatch', 'nodeType', 'tagName', '$$typeof', '@@__IMMUTABLE_ITERABLE__@@', '@@__IMMUTABLE_RECORD__@@', '__proto__', 'prototype']);
const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

export interface DataSource {
  /** what the data is of, for printing: `ForeachFlow/1733…/end/7` */
  label: string;
  /** the artifact names, when they can be told without loading anything (undefined: cannot) */
  names(): string[] | undefined;
  load(name: string): Promise<unknown>;
}

/**
 * `await x.data.name` loads one artifact; nothing else is read. `Object.keys(x.data)` and
 * `'name' in x.data` list the artifacts, console.log prints their names; any other probe
 * (`then`, `constructor`, symbols…) is undefined, never a storage lookup.
 */
export function dataProxy<T = Record<string, Promise<any>>>(src: DataSource): T {
  const describe = () => {
    const names = src.names();
    return names ? `Data ${src.label} { ${names.join(', ')} }` : `Data ${src.label}: no artifacts`;
  };
  // util.inspect looks at a proxy's target, not through its traps: the target prints the names
  const target = Object.defineProperties(Object.create(null), {
    // configurable: a proxy may then list only the artifact names as its keys
    [inspect.custom]: { value: () => describe(), configurable: true },
    [Symbol.toStringTag]: { value: 'Data', configurable: true },
    toString: { value: () => describe(), configurable: true },
  });
  const has = (name: string) => !NOT_ARTIFACTS.has(name) && (src.names() ?? []).includes(name);
  return new Proxy(target, {
    get: (t, name) => {
      if (typeof name !== 'string' || NOT_ARTIFACTS.has(name)) return typeof name === 'symbol' ? Reflect.get(t, name) : undefined;
      if (OBJECT_MEMBERS.has(name) && !has(name)) return name === 'toString' ? t.toString : (Object.prototype as any)[name];
      return src.load(name);
    },
    has: (_t, name) => typeof name === 'string' && has(name),
    ownKeys: () => src.names() ?? [],
    getOwnPropertyDescriptor: (_t, name) => (typeof name === 'string' && has(name) ? { configurable: true, enumerable: true, get: () => src.load(name) } : undefined),
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  }) as T;
}
