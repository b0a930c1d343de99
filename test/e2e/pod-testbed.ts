// What the tests of steps as pods share: a real S3 server (s3rver), the Kubernetes API double with
// one 4-core node whose kubelet runs this checkout as the image, the Secret that alone gives pods
// the S3 credentials, and the environment that points the CLI at all three.
import { REPO } from './helpers.js';
import { startS3, type TestS3 } from '../doubles/s3/server.js';
import { startFakeCluster, type FakeCluster } from '../doubles/kubernetes/cluster.js';

export const TEST_IMAGE = 'registry.example.com/flowbook:test';

export interface PodTestbed {
  s3: TestS3;
  cluster: FakeCluster;
  /** the CLI's environment: the S3 datastore under `prefix`, the cluster (or another kubeconfig, a proxy's), the image and Secret */
  env(kubeconfig?: string): Record<string, string>;
  close(): Promise<void>;
}

export async function startPodTestbed(prefix: string, image = TEST_IMAGE): Promise<PodTestbed> {
  const s3 = await startS3();
  const cluster = await startFakeCluster({
    nodes: [{ name: 'node-a', cpu: 4, memoryMiB: 16384 }],
    images: { [image]: REPO },
    // pods get the S3 credentials only from this Secret (envFrom), never from the runner
    secrets: { 'default/flowbook-s3': { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } },
  });
  return {
    s3,
    cluster,
    env: (kubeconfig = cluster.kubeconfigPath) => ({ ...s3.env(prefix), KUBECONFIG: kubeconfig, FLOWBOOK_KUBERNETES_IMAGE: image, FLOWBOOK_KUBERNETES_SECRETS: 'flowbook-s3' }),
    close: async () => {
      await cluster.close();
      await s3.close();
    },
  };
}
