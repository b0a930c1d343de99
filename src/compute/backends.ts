// The places a task can run besides this machine's pool, asked in this order which steps of a
// run they take. A new backend (AWS Batch, a Ray cluster…) is a folder beside kubernetes/ with
// an Executor and a Backend, added here.
import type { Backend } from './executor.js';
import { kubernetesBackend } from './kubernetes/backend.js';

export const BACKENDS: readonly Backend[] = [kubernetesBackend];
