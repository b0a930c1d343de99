// A big plain array of numbers, end to end: stored binary ('numbers', not JSON: 60M numbers took
// minutes in JSON and then failed with a bare RangeError), read back as a plain Array inside the
// next step, through the client and by `flowbook dump`.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, tempDir, REPO } from './helpers.js';

describe('a big number array artifact', () => {
  it('is stored as numbers and reads back as a plain array in the next step, the client and dump', () => {
    const root = tempDir();
    const file = path.join(tempDir(), 'numbers.ts');
    fs.writeFileSync(
      file,
      `import { FlowSpec, step } from 'flowbook';
export class NumbersFlow extends FlowSpec {
  xs!: number[];
  @step async start() { this.xs = Array.from({ length: 1_000_000 }, (_, i) => i * 0.5); this.next(this.end); }
  @step async end() { console.log('in end:', Array.isArray(this.xs), this.xs.length, this.xs.at(-1)); }
}
`,
    );
    const r = flowbook(['run', file], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('in end: true 1000000 499999.5');
    const runId = /NumbersFlow\/(\d+) succeeded/.exec(r.stderr)![1];

    const code = `import { Flow, namespace } from 'flowbook'; namespace(null);
      const run = await Flow('NumbersFlow').run('${runId}');
      const task = await run.endTask;
      const a = (await task.artifacts).find((x) => x.name === 'xs');
      const xs = await a.data();
      console.log(JSON.stringify({ serializer: a.serializer, type: a.type, isArray: Array.isArray(xs), length: xs.length, first: xs[0], last: xs.at(-1) }));`;
    const c = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, env: { ...process.env, FLOWBOOK_HOME: root }, encoding: 'utf8', timeout: 60_000 });
    expect(c.status, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toEqual({ serializer: 'numbers', type: 'array', isArray: true, length: 1_000_000, first: 0, last: 499999.5 });

    const d = flowbook(['dump', `NumbersFlow/${runId}`], { root });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('xs (array, 8000008 bytes');
    // a plain array's preview (not a Float64Array's): its length and first items
    expect(d.stdout).toMatch(/xs \(array, 8000008 bytes, sha256 [0-9a-f]{12}\): array of 1,000,000 numbers, first 10: \[ 0, 0\.5, 1, 1\.5, 2, 2\.5, 3, 3\.5, 4, 4\.5, … \]\n/);
  }, 120_000);
});
