// @cache where the datastore is S3 (a real S3 server, s3rver) and where steps run as pods (the
// Kubernetes API double): entries are S3 objects, and a hit is found in the runner before any Job
// is submitted — the cached tasks' Jobs are never created (counted at the API double).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbookAsyncResult as flowbook, fixture, runIdOf } from './helpers.js';
import { startPodTestbed, type PodTestbed } from './pod-testbed.js';

let bed: PodTestbed;

beforeAll(async () => {
  bed = await startPodTestbed('cache');
});
afterAll(async () => {
  await bed?.close();
});

const workCount = (out: string) => (out.match(/work ran on/g) ?? []).length;
const cachedCount = (err: string) => (err.match(/\/work\/\d+: cached ← CachedFlow\/\d+\/work\/\d+/g) ?? []).length;

describe('@cache on S3 and for pod steps', () => {
  it('a second run on the S3 datastore reuses the cached tasks; the entries are S3 objects', async () => {
    const env = bed.env();
    const first = await flowbook(['run', fixture('cached.ts')], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(workCount(first.stdout)).toBe(3);
    const second = await flowbook(['run', fixture('cached.ts')], { env });
    expect(second.code, second.stderr).toBe(0);
    expect([workCount(second.stdout), cachedCount(second.stderr)]).toEqual([0, 3]);
    expect(second.stderr).toContain(`datastore s3://${bed.s3.bucket}/cache`);
    const dir = path.join(bed.s3.dir, bed.s3.bucket, 'cache/CachedFlow/cache/work');
    const objects = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('._S3rver_object'));
    expect(objects).toHaveLength(3);
  });

  it('steps as pods: a hit submits no Job, and a pod task that ran is reused', async () => {
    const env = bed.env();
    const jobsOf = (runId: string) => bed.cluster.jobs().filter((j) => j.metadata.labels['flowbook/run-id'] === runId);
    // --recompute: the work tasks run in pods (and refresh their entries)
    const ran = await flowbook(['run', fixture('cached.ts'), '--with', 'kubernetes', '--recompute', 'work'], { env, timeoutMs: 300_000 });
    expect(ran.code, ran.stderr).toBe(0);
    const ranId = runIdOf(ran.stderr);
    expect(jobsOf(ranId).map((j) => j.metadata.labels['flowbook/step-name']).sort()).toEqual(['end', 'join', 'start', 'work', 'work', 'work']);
    const hit = await flowbook(['run', fixture('cached.ts'), '--with', 'kubernetes'], { env, timeoutMs: 300_000 });
    expect(hit.code, hit.stderr).toBe(0);
    const hitId = runIdOf(hit.stderr);
    expect(cachedCount(hit.stderr)).toBe(3);
    expect(hit.stderr).toContain(`cached ← CachedFlow/${ranId}/work/`);
    // the lookup happened before submission: no Job for a cached task
    expect(jobsOf(hitId).map((j) => j.metadata.labels['flowbook/step-name']).sort()).toEqual(['end', 'join', 'start']);
    expect(hit.stderr).toMatch(/\(tasks: 3 ran, 3 cached\)/);
  });
});
