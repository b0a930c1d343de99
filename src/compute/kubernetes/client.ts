// The Kubernetes client (@kubernetes/client-node 1.4): loaded only when a run uses Kubernetes,
// configured by the default loader (KUBECONFIG, ~/.kube/config, or in-cluster service account).
import fs from 'node:fs';
import { STATUS_CODES } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { KubernetesError } from '../../errors.js';

export const k8sApi = () => import('@kubernetes/client-node');

export function loadKubeConfig(api: typeof import('@kubernetes/client-node')): import('@kubernetes/client-node').KubeConfig {
  const kc = new api.KubeConfig();
  // loadFromDefault() falls back to http://localhost:8080 when it finds nothing: say so instead
  const files = (process.env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  const home = path.join(os.homedir(), '.kube', 'config');
  const inCluster = !!process.env.KUBERNETES_SERVICE_HOST && fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
  if (!files.length && !fs.existsSync(home) && !inCluster) {
    throw new KubernetesError('no Kubernetes cluster configured: set KUBECONFIG or create ~/.kube/config (kind, minikube, or your cloud\'s CLI write one)', { reason: 'NotConfigured' });
  }
  try {
    kc.loadFromDefault();
  } catch (err: any) {
    throw new KubernetesError(`cannot read the kubeconfig (${process.env.KUBECONFIG ?? '~/.kube/config'}): ${err?.message ?? err}`, { cause: err, reason: 'InvalidConfig' });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new KubernetesError('no Kubernetes cluster configured: set KUBECONFIG or create ~/.kube/config (kind, minikube, or your cloud\'s CLI write one)', { reason: 'NotConfigured' });
  }
  return kc;
}

/** an API answer's body: the Status object when it is JSON text, else as it came */
function parsedBody(body: unknown): any {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    return body; // plain text
  }
}

/** One line for an API failure: what Kubernetes said, or why it could not be reached. */
export function explainApiError(err: any, what: string, server: string): KubernetesError {
  let detail: string;
  if (typeof err?.code === 'number' && err.code >= 100) {
    const body = parsedBody(err.body);
    const msg = body?.message ?? (typeof body === 'string' ? body : err.message);
    detail = err.code === 401 || err.code === 403 ? `not allowed (HTTP ${err.code}): ${msg}` : `HTTP ${err.code}: ${msg}`;
  } else {
    const cause = err?.cause?.code ?? err?.code;
    detail = cause === 'ECONNREFUSED' || cause === 'ENOTFOUND' ? `cannot reach the Kubernetes API at ${server}` : String(err?.message ?? err);
  }
  return new KubernetesError(`${what}: ${detail}`, { cause: err, reason: apiReason(err) });
}

/** the Status reasons Kubernetes gives with these HTTP codes (k8s.io/apimachinery metav1.StatusReason) */
const STATUS_REASONS: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 410: 'Gone', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };

/**
 * KubernetesError.reason for an API failure: the Status reason the API sent (`AlreadyExists`,
 * `Forbidden`…), else the one Kubernetes gives with the HTTP code, else the status's name in one
 * word (`BadGateway`); `Unreachable` when no answer came (a connection error: ECONNREFUSED,
 * ENOTFOUND, ECONNRESET…).
 */
export function apiReason(err: any): string {
  if (typeof err?.code === 'number' && err.code >= 100) {
    const body = parsedBody(err.body);
    if (typeof body?.reason === 'string' && body.reason) return body.reason;
    const words = (STATUS_CODES[err.code] ?? '').replace(/'/g, '').split(/[^A-Za-z]+/).filter(Boolean);
    return STATUS_REASONS[err.code] ?? (words.map((w) => w[0].toUpperCase() + w.slice(1)).join('') || 'Unknown');
  }
  const code = err?.cause?.code ?? err?.code;
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code) ? 'Unreachable' : 'Unknown';
}

/** an HTTP answer that asking again will not change (401, 403, 404 …; not 410 Gone, 429 or 5xx) */
export function isRefusal(err: any): boolean {
  const code = typeof err?.statusCode === 'number' ? err.statusCode : typeof err?.code === 'number' ? err.code : undefined;
  return code !== undefined && code >= 400 && code < 500 && code !== 410 && code !== 429 && code !== 408;
}

/** One line naming the verb and the resource Kubernetes refused. */
export function refusal(err: any, verb: string, resource: string, namespace: string, server: string): Error {
  const code = err?.statusCode ?? err?.code;
  let body = err?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = { message: body };
    }
  }
  // the client's own message is several lines ("HTTP-Code: 403\nMessage: …"): the server's, or the status's name
  const text = String(err?.message ?? '');
  const message = body?.message ?? (text.startsWith('HTTP-Code:') || !text ? (STATUS_CODES[code] ?? `HTTP ${code}`) : text.split('\n')[0]);
  return explainApiError({ code, body: { message, reason: body?.reason } }, `Kubernetes refused to ${verb} ${resource} in namespace ${namespace}`, server);
}

export const describeNetError = (err: any): string => String(err?.cause?.code ?? err?.code ?? err?.message ?? err ?? 'the connection closed');
