// A container's environment as the kubelet builds it: runtime/image env, then envFrom (later
// sources win), then env (wins over envFrom), with `$(VAR)` references expanded against what is
// defined so far — the same expansion is applied to command and args, a classic surprise for
// shell snippets that contain `$(...)`. Errors carry the kubelet's CreateContainerConfigError text.
import { parseQuantity } from './quantity.js';

export class ConfigError extends Error {}

export interface EnvContext {
  pod: any;
  container: any;
  secrets: Record<string, Record<string, string>>;
  /** node allocatable, for resourceFieldRef of an unset limit */
  nodeAllocatable: Record<string, number>;
}

/** $(VAR) → value when VAR is defined; $$(VAR) → literal $(VAR); anything else untouched. */
export function expand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name?: string) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name] : m;
  });
}

function fieldRef(path: string, pod: any): string {
  const m = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
  if (m) return pod.metadata[m[1]]?.[m[2]] ?? '';
  const simple: Record<string, () => string> = {
    'metadata.name': () => pod.metadata.name,
    'metadata.namespace': () => pod.metadata.namespace,
    'metadata.uid': () => pod.metadata.uid,
    'spec.nodeName': () => pod.spec.nodeName ?? '',
    'spec.serviceAccountName': () => pod.spec.serviceAccountName ?? 'default',
    'status.hostIP': () => '127.0.0.1',
    'status.hostIPs': () => '127.0.0.1',
    'status.podIP': () => '127.0.0.1',
    'status.podIPs': () => '127.0.0.1',
    'metadata.labels': () => Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n'),
    'metadata.annotations': () => Object.entries(pod.metadata.annotations ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n'),
  };
  return simple[path]?.() ?? '';
}

function resourceFieldRef(ref: any, ctx: EnvContext): string {
  const [kind, res] = String(ref.resource).split('.') as ['limits' | 'requests', string];
  const q = ctx.container.resources?.[kind]?.[res];
  const divisor = parseQuantity(ref.divisor ?? '1') || 1;
  // an unset limit reads as the node's allocatable, as the downward API does
  const v = q !== undefined ? (parseQuantity(q) ?? 0) : kind === 'limits' ? (ctx.nodeAllocatable[res] ?? 0) : 0;
  return String(Math.ceil(v / divisor));
}

function secret(ctx: EnvContext, name: string): Record<string, string> | undefined {
  return ctx.secrets[`${ctx.pod.metadata.namespace}/${name}`];
}

/** The container-defined part of the env (envFrom + env), expanded. Throws ConfigError. */
export function containerEnv(ctx: EnvContext, base: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...base };
  for (const src of ctx.container.envFrom ?? []) {
    if (src.secretRef) {
      const s = secret(ctx, src.secretRef.name);
      if (!s) {
        if (src.secretRef.optional) continue;
        throw new ConfigError(`secret "${src.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(s)) env[(src.prefix ?? '') + k] = v;
    } else if (src.configMapRef && !src.configMapRef.optional) {
      // the double serves no ConfigMaps: a required one is missing, as on a cluster without it
      throw new ConfigError(`configmap "${src.configMapRef.name}" not found`);
    }
  }
  for (const e of ctx.container.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) env[e.name] = expand(e.value ?? '', env);
    else if (vf.fieldRef) env[e.name] = fieldRef(vf.fieldRef.fieldPath, ctx.pod);
    else if (vf.resourceFieldRef) env[e.name] = resourceFieldRef(vf.resourceFieldRef, ctx);
    else if (vf.secretKeyRef) {
      const { name, key, optional } = vf.secretKeyRef;
      const s = secret(ctx, name);
      if (!s) {
        if (optional) continue;
        throw new ConfigError(`secret "${name}" not found`);
      }
      if (!(key in s)) {
        if (optional) continue;
        throw new ConfigError(`couldn't find key ${key} in Secret ${ctx.pod.metadata.namespace}/${name}`);
      }
      env[e.name] = s[key];
    } else if (vf.configMapKeyRef && !vf.configMapKeyRef.optional) {
      throw new ConfigError(`configmap "${vf.configMapKeyRef.name}" not found`);
    }
  }
  return env;
}
