// Cards rendered in the task's process at task end, stored beside the task, read by the CLI;
// every user string escaped, nothing loaded from outside the file.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';

describe('cards', () => {
  it('a step with @card writes its cards; list, get and view find them', async () => {
    const root = tempDir();
    const r = flowbook(['run', fixture('cards.ts'), '--quiet'], { root });
    expect(r.code, r.stderr).toBe(0);
    setDatastoreRoot(root);
    namespace(null);
    const run = (await Flow('CardFlow').latestSuccessfulRun)!;
    const task = (await run.step('start').task)!;
    const cards = await task.cards;
    expect(cards.map((c) => c.id)).toEqual(['default-0', 'notes']);

    const list = flowbook(['card', 'list', run.pathspec], { root });
    expect(list.stdout.trim().split('\n')).toHaveLength(2);
    const out = path.join(root, 'card.html');
    expect(flowbook(['card', 'get', task.pathspec, out], { root }).code).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    // escaped, never live
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('javascript:');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
    expect(html).not.toMatch(/(src|href)="https?:/);
    // the default card: task, artifacts and resources
    expect(html).toContain('<h2>Artifacts</h2>');
    expect(html).toContain('<h2>Resources</h2>');
    expect(html).toContain(task.pathspec);

    const notes = flowbook(['card', 'get', task.pathspec, '--id', 'notes'], { root });
    expect(notes.stdout).toContain('class="progress"');
    expect(notes.stdout).toContain('data:image/svg+xml;base64,');
    expect(notes.stdout).not.toContain('<script>alert');
    const view = flowbook(['card', 'view', task.pathspec], { root, env: { DISPLAY: '' } });
    expect(view.stdout.trim()).toBe(cards[0].path);
    const none = flowbook(['card', 'get', `${run.pathspec}/end/2`], { root });
    expect(none.code).toBe(1);
    expect(errorLine(none)).toBe(`error: task ${run.pathspec}/end/2 has no cards (add @card to its step)`);
  });
});
