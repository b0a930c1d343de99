// What a step asks of Kubernetes: its @resources and @kubernetes, `--with kubernetes:k=v,…`
// (applies to every step) and the FLOWBOOK_KUBERNETES_* environment, merged in that order of
// precedence: the step's decorator, then --with, then the environment.
import { FlowUsageError } from '../../errors.js';
import type { KubernetesSpec, StepMeta } from '../../flow/decorators.js';

export interface ResolvedKubernetes extends KubernetesSpec {
  image: string;
  namespace: string;
  cpu: number;
  memory: number;
  gpu: number;
}

/** The environment's defaults: image, namespace, service account, secrets. */
function envDefaults(): KubernetesSpec {
  const e = process.env;
  return {
    ...(e.FLOWBOOK_KUBERNETES_IMAGE ? { image: e.FLOWBOOK_KUBERNETES_IMAGE } : {}),
    ...(e.FLOWBOOK_KUBERNETES_NAMESPACE ? { namespace: e.FLOWBOOK_KUBERNETES_NAMESPACE } : {}),
    ...(e.FLOWBOOK_KUBERNETES_SERVICE_ACCOUNT ? { serviceAccount: e.FLOWBOOK_KUBERNETES_SERVICE_ACCOUNT } : {}),
    ...(e.FLOWBOOK_KUBERNETES_SECRETS ? { secrets: e.FLOWBOOK_KUBERNETES_SECRETS.split(/[,;]/).filter(Boolean) } : {}),
  };
}

/** undefined: the step runs locally. */
export function kubernetesFor(meta: StepMeta | undefined, withSpec: KubernetesSpec | undefined): ResolvedKubernetes | undefined {
  if (!meta?.kubernetes && !withSpec) return undefined;
  const env = envDefaults();
  const k: KubernetesSpec = { ...env, ...withSpec, ...meta?.resources, ...meta?.kubernetes };
  // @resources wins over --with for the amounts (Metaflow: the larger of the two)
  for (const key of ['cpu', 'memory', 'gpu'] as const) {
    const vals = [withSpec?.[key], meta?.resources?.[key], meta?.kubernetes?.[key]].filter((v): v is number => v !== undefined);
    if (vals.length) k[key] = Math.max(...vals);
  }
  if (!k.image) {
    throw new FlowUsageError(`step '${meta?.name}' runs on Kubernetes but has no image: set FLOWBOOK_KUBERNETES_IMAGE, --with kubernetes:image=…, or @kubernetes({ image })`);
  }
  const secrets = [...new Set([...(env.secrets ?? []), ...(withSpec?.secrets ?? []), ...(meta?.kubernetes?.secrets ?? [])])];
  return { ...k, secrets, image: k.image, namespace: k.namespace ?? 'default', cpu: k.cpu ?? 1, memory: k.memory ?? 4096, gpu: k.gpu ?? 0 };
}
