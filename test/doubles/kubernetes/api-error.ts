// What a client-node call against the API double rejected with: the tests of the double (pods,
// jobs, Argo's custom resources) check the Status errors a real apiserver would send.
import { expect } from 'vitest';
import { ApiException } from '@kubernetes/client-node';

export async function apiError(p: Promise<unknown>): Promise<ApiException<any>> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  );
  expect(e).toBeInstanceOf(ApiException);
  return e as ApiException<any>;
}
