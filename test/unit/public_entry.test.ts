// The package entry ('flowbook') is only `export { … } from` lines (flow/prepare.ts bundles it so a
// worker loads just the modules a flow uses), and spelling every name out lost none of them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../e2e/helpers.js';
import * as entry from '../../src/index.js';
import * as client from '../../src/client/index.js';
import * as errors from '../../src/errors.js';
import * as cards from '../../src/cards/index.js';

describe("the 'flowbook' entry", () => {
  it('holds nothing but named re-exports', () => {
    const code = fs.readFileSync(path.join(REPO, 'src/index.ts'), 'utf8').replace(/\/\/.*$/gm, '');
    const statements = code.split(';').map((s) => s.trim()).filter(Boolean);
    expect(statements.filter((s) => !/^export (type )?\{[^}]*\} from '[^']+'$/.test(s))).toEqual([]);
  });

  it('exports every value of the client, the errors and the card components, as the same objects', () => {
    for (const mod of [client, errors, cards] as Record<string, unknown>[]) {
      for (const [name, value] of Object.entries(mod)) expect((entry as Record<string, unknown>)[name], name).toBe(value);
    }
  });
});
