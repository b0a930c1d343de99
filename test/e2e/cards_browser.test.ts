// The built-in cards in a real browser (Debian's Chromium through playwright-core): no console
// errors, no network request, charts drawn, hostile strings shown as text with no dialog; the
// card server serves them and refreshes a live card while its task runs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { flowbook, flowbookAsync, fixture, tempDir } from './helpers.js';
import { launchBrowser, openCard } from './browser.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';

const XSS_SCRIPT = '<script>alert(1)</script>';
const XSS_IMG = '<img src=x onerror=alert(1)>';

async function cardPath(root: string, step: string, id: string, index = 0): Promise<string> {
  setDatastoreRoot(root);
  namespace(null);
  const run = (await Flow('BuiltinCards').latestRun)!;
  const task = (await run.step(step).tasks())[index];
  const card = (await task.cards).find((c) => c.id === id);
  if (!card) throw new Error(`no card ${id} on ${task.pathspec}`);
  return card.path;
}

describe('built-in cards in Chromium', () => {
  let browser: Browser;
  let root: string;
  const open = async (step: string, id: string) => openCard(browser, pathToFileURL(await cardPath(root, step, id)).href);

  beforeAll(async () => {
    root = tempDir();
    const r = flowbook(['run', fixture('builtin_cards.ts'), '--quiet'], { root });
    expect(r.code, r.stderr).toBe(0);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => browser?.close());

  it('analysis: a word cloud and an embedding are drawn, hostile text stays text', async () => {
    const r = await open('start', 'analysis');
    expect(r.problems).toEqual([]);
    expect(r.requests).toEqual([]);
    expect(r.dialogs).toEqual([]);
    expect(r.words).toBeGreaterThanOrEqual(8);
    expect(r.charts).toBe(1);
    // 3 points + 3 labels
    expect(await r.page.locator('.fb-vega g.mark-symbol.role-mark path').count()).toBe(3);
    expect(await r.page.locator('.fb-vega g.mark-text.role-mark text').count()).toBe(3);
    expect(r.text).toContain(XSS_SCRIPT);
    expect(r.text).toContain(XSS_IMG);
    expect(await r.page.locator('img[src="x"]').count()).toBe(0);
  });

  it('comparison: the per-model summary and its bars, the table, a point per model, and the marked word diff', async () => {
    const r = await open('compare', 'comparison');
    expect(r.problems).toEqual([]);
    expect(r.requests).toEqual([]);
    expect(r.dialogs).toEqual([]);
    expect(r.charts).toBe(2);
    expect(await r.page.locator('.fb-vega g.mark-rect.role-mark path').count()).toBeGreaterThanOrEqual(1);
    expect(await r.page.locator('.fb-vega g.mark-symbol.role-mark path').count()).toBeGreaterThanOrEqual(2);
    // one row per model in the summary, one per video × model below it
    expect(await r.page.locator('table tbody tr').count()).toBe(4);
    // "ask not what" vs "ask what": a deletion; "your" → "the": a substitution
    expect(await r.page.locator('.side-by-side .del').count()).toBeGreaterThan(0);
    expect(await r.page.locator('.side-by-side .sub').count()).toBeGreaterThan(0);
    expect(r.text).toContain(`large ${XSS_SCRIPT}`);
    expect(r.text).toContain('$0.5 per cpu-hour');
  });

  it('timeline: a bar per task; resources: bars, a warning and the recommended decorator', async () => {
    const t = await open('end', 'timeline');
    expect(t.problems).toEqual([]);
    expect(t.requests).toEqual([]);
    // start, work ×2, compare, end
    expect(await t.page.locator('.fb-vega g.mark-rect.role-mark path').count()).toBe(5);
    const r = await open('end', 'resources');
    expect(r.problems).toEqual([]);
    expect(r.requests).toEqual([]);
    expect(await r.page.locator('.fb-vega g.mark-rect.role-mark path').count()).toBeGreaterThanOrEqual(10);
    // `work` asks for 4096 MiB and uses a fraction of it
    expect(r.text).toMatch(/step work: \d warnings? over 2 tasks/);
    expect(r.text).toMatch(/@resources\(\{ cpu: [\d.]+, memory: \d+ \}\)\s+or\s+@kubernetes/);
  });

  it('default card: the flow graph as SVG with the step highlighted', async () => {
    const r = await open('end', 'default-2');
    expect(r.problems).toEqual([]);
    // start → work (foreach) → compare → end
    expect(await r.page.locator('svg.flow-graph g.step').count()).toBe(4);
    expect(await r.page.locator('svg.flow-graph path.edge').count()).toBe(3);
    expect(await r.page.locator('svg.flow-graph path.edge[stroke-dasharray]').count()).toBe(1);
    expect(await r.page.locator('svg.flow-graph rect[fill="#3b6fd8"] + text').textContent()).toBe('end');
  });

  it('card server: index, sandboxed viewer, live refresh while the task runs, bad paths refused', async () => {
    const root2 = tempDir();
    const server = flowbookAsync(['card', 'server', '--port', '0'], { root: root2 });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d) => {
        out += d;
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (m) resolve(m[0]);
      });
      server.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    const run = flowbookAsync(['run', fixture('builtin_cards.ts'), '--quiet', '--slow-seconds', '6'], { root: root2 });
    const runExit = new Promise<number | null>((r) => run.once('exit', r));
    try {
      // wait for the live card of the first `work` task to appear
      let live = '';
      for (let i = 0; i < 100 && !live; i++) {
        await new Promise((r) => setTimeout(r, 100));
        live = await cardPath(root2, 'work', 'live').catch(() => '');
      }
      expect(live).not.toBe('');
      // <root>/BuiltinCards/runs/<run>/<step>/<task>/cards/live.html
      const [flowName, , runId, step, taskId] = live.split('/').slice(-7);
      expect(flowName).toBe('BuiltinCards');
      const ref = `${flowName}/${runId}/${step}/${taskId}/live`;
      const index = await (await fetch(url)).text();
      expect(index).toContain(`/view/${ref}`);
      expect(index).toContain('running');

      const page = await browser.newPage();
      await page.goto(`${url}view/${ref}`);
      const frame = page.frameLocator('iframe#card');
      await expect.poll(() => frame.locator('body').innerText(), { timeout: 15_000 }).toMatch(/progress \d of 5/);
      // the task finishes: the viewer reloads the frame with the final card
      await expect.poll(() => frame.locator('body').innerText(), { timeout: 30_000 }).toContain('finished');
      expect(await page.locator('iframe#card').getAttribute('sandbox')).toBe('allow-scripts');

      const raw = await fetch(`${url}card/${ref}`);
      expect(raw.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await raw.text()).not.toContain('task running');
      expect((await fetch(`${url}card/..%2F..%2Fetc/1/x/1/passwd`)).status).toBe(400);
      expect((await fetch(`${url}card/${flowName}/${runId}/${step}/${taskId}/nope`)).status).toBe(404);
      expect(await runExit).toBe(0);
    } finally {
      run.kill();
      server.kill('SIGTERM');
    }
    expect(await new Promise((r) => server.once('exit', r))).toBe(0);
  }, 90_000);
});
