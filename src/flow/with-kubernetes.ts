// `--with kubernetes:k=v,…`: the @kubernetes options as text, with lists (`secrets=a;b`) and maps
// (`persistentVolumeClaims=claim:/mount`) the generic k=v parser of with.ts cannot spell.
import { FlowUsageError } from '../errors.js';
import type { KubernetesSpec } from './decorators.js';

const NUMERIC = new Set(['cpu', 'memory', 'gpu', 'disk', 'sharedMemory']);
const STRING = new Set(['image', 'namespace', 'serviceAccount', 'gpuVendor', 'computePool']);

/** `cpu=4,memory=8192,image=repo/img:tag,secrets=a;b` → a KubernetesSpec (secrets split on ';'). */
export function parseKubernetesWith(args: string): KubernetesSpec {
  const out: Record<string, unknown> = {};
  for (const part of args.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new FlowUsageError(`--with kubernetes: expected key=value, got ${JSON.stringify(part)}`);
    const key = part.slice(0, eq).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = part.slice(eq + 1);
    if (NUMERIC.has(key)) {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw new FlowUsageError(`--with kubernetes: ${key} must be a positive number, got ${JSON.stringify(value)}`);
      out[key] = n;
    } else if (STRING.has(key)) out[key] = value;
    else if (key === 'secrets') out.secrets = value.split(';').filter(Boolean);
    else if (key === 'persistentVolumeClaims') {
      // claim:/mount/path;other:/path
      out.persistentVolumeClaims = Object.fromEntries(
        value.split(';').filter(Boolean).map((pair) => {
          const [claim, mount] = pair.split(':');
          if (!claim || !mount?.startsWith('/')) throw new FlowUsageError(`--with kubernetes: persistentVolumeClaims takes claim:/mount/path, got ${JSON.stringify(pair)}`);
          return [claim, mount];
        }),
      );
    } else throw new FlowUsageError(`--with kubernetes: unknown option ${JSON.stringify(key)} (known: ${[...NUMERIC, ...STRING, 'secrets', 'persistentVolumeClaims'].join(', ')})`);
  }
  return out as KubernetesSpec;
}

