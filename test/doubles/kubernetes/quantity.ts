// Kubernetes resource quantities ("500m", "1.5", "12288Mi", "8Gi", "1G", "1e3", 42) as plain numbers:
// cores for cpu, bytes for memory, units for extended resources. Same grammar as
// k8s.io/apimachinery/pkg/api/resource, so a quantity the real apiserver refuses is refused here too.

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** The quantity's value, or null when it does not parse (the apiserver answers 422 for those). */
export function parseQuantity(q: unknown): number | null {
  if (typeof q === 'number') return Number.isFinite(q) ? q : null;
  if (typeof q !== 'string') return null;
  const m = RE.exec(q);
  if (!m) return null;
  const num = Number(m[2]) * (m[1] === '-' ? -1 : 1);
  const suf = m[3] ?? '';
  const mult = suf in SUFFIX ? SUFFIX[suf] : 10 ** Number(suf.slice(1));
  return num * mult;
}

/** Resource names the apiserver accepts: the standard ones, or fully qualified extended resources. */
export function isValidResourceName(name: string): boolean {
  if (['cpu', 'memory', 'ephemeral-storage', 'storage', 'pods'].includes(name)) return true;
  if (name.startsWith('hugepages-')) return parseQuantity(name.slice('hugepages-'.length)) !== null;
  // extended resources must be domain-prefixed (nvidia.com/gpu), and not in the kubernetes.io domain
  const slash = name.indexOf('/');
  return slash > 0 && !name.startsWith('kubernetes.io/') && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
}

/** Native resources can be overcommitted and fractional; extended ones (nvidia.com/gpu) cannot. */
export const isExtendedResource = (name: string) => name.includes('/') && !name.startsWith('hugepages-');
