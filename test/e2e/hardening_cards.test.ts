// Cards under attack, in Chromium: every component, every built-in card and every option that
// reaches HTML gets hostile strings; opened as a file and through `flowbook card server`, no
// dialog may fire and the charts must still draw (the strict, hash-only CSP must not break them).
// A card with deliberately unescaped markup checks the CSP alone: a missed escape cannot run.
// The card server refuses foreign Host headers (DNS rebinding) and bad percent-encoding.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { REPO, flowbookAsync, tempDir } from './helpers.js';
import { launchBrowser, openCard, type PageReport } from './browser.js';
import type * as Components from '../../src/cards/components/basic.js';
import type * as Render from '../../src/cards/render.js';
import type * as Vega from '../../src/cards/components/vega-lite.js';
import type * as DefaultCard from '../../src/cards/types/default-body.js';
import type * as GraphSvg from '../../src/cards/types/graph-svg.js';
import type * as Store from '../../src/datastore/store.js';
import type { RunTask } from '../../src/cards/run-records.js';
import type { TaskDone } from '../../src/datastore/metadata.js';

// the CLI and the vendored vega-interpreter live in dist/: cards are rendered by the built code
const dist = (p: string) => import(pathToFileURL(path.join(REPO, 'dist', p)).href);

const HOSTILE = ['"><img src=x onerror=alert(1)>', '</script><script>alert(1)</script>', 'javascript:alert(1)', `'"><svg onload=alert(1)>`];
const FLOW = 'Hardening';
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

interface Mods {
  c: typeof Components;
  render: typeof Render;
  vega: typeof Vega;
  builtin: Record<string, any>;
  defaultCard: typeof DefaultCard;
  graph: typeof GraphSvg;
  store: typeof Store;
}

async function load(): Promise<Mods> {
  const builtin: Record<string, any> = {};
  for (const f of ['word-cloud', 'embedding-plot', 'model-comparison', 'transcript-side-by-side', 'run-timeline', 'resource-report']) Object.assign(builtin, await dist(`cards/components/${f}.js`));
  return { c: await dist('cards/components/basic.js'), render: await dist('cards/render.js'), vega: await dist('cards/components/vega-lite.js'), builtin, defaultCard: await dist('cards/types/default-body.js'), graph: await dist('cards/types/graph-svg.js'), store: await dist('datastore/store.js') };
}

function records(h: string): RunTask[] {
  const rec = (step: string, id: string, start: number, wall: number): RunTask => ({
    pathspec: `${FLOW}/1/${step}/${id}`, step, taskId: id, status: 'done', where: `${h} @ ${h}`,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, start)).toISOString(), finishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, start + wall)).toISOString(),
    resources: { wallSeconds: wall, cpuUserSeconds: wall * 3, cpuSystemSeconds: 0, peakRssBytes: 50 * 2 ** 20, host: h, pid: 1, worker: h, requested: { cpu: 1, memory: 4096 } },
  });
  return [rec('start', '1', 0, 2), rec(`work${h}`, '2', 2, 3)];
}

/** One card with every component and built-in card, each user-controlled field set to `h`. */
async function hostileCard(m: Mods, h: string, store: Store.FlowDatastore): Promise<{ html: string; charts: number }> {
  const { c, builtin: b } = m;
  const done: TaskDone = {
    pathspec: `${FLOW}/1/${h}/1`, step: h, taskId: h, attempt: 0, artifacts: {}, inputs: [h], key: h, origin: h, next: [h],
    foreachStack: [{ step: h, index: 0, count: 1, field: h } as any], startedAt: h, finishedAt: h,
    resources: { wallSeconds: 1, cpuUserSeconds: 1, cpuSystemSeconds: 0, peakRssBytes: 1, host: h, pid: 1, worker: h, requested: { cpu: h as any, memory: h as any } },
  };
  const graph = { order: ['start', h, 'end'], nodes: { start: { type: 'split-foreach', out: [h], foreach: h }, [h]: { type: 'linear', out: ['end'] }, end: { type: 'end', out: [] } } };
  const ops = [{ op: 'equal', ref: h, hyp: h }, { op: 'substitute', ref: h, hyp: 'x' }, { op: 'delete', ref: h }, { op: 'insert', hyp: h }];
  const parts: Components.CardComponent[] = [
    new c.Markdown(`# ${h}\n\n${h} [link](${h}) [js](javascript:alert(1)) <javascript:alert(1)> ![pic](${h}) ![svg](data:image/svg+xml,${encodeURIComponent(h)})\n\n<div>${h}</div>\n\n\`${h}\``),
    new c.Table([{ [h]: h, n: 1.5, nested: { [h]: h } }, { [h]: { render: h }, n: h }]),
    new c.Table([[h, 1]], { headers: [h, h] }),
    new c.Image(PNG, { label: h }),
    new c.Image(h, { label: h, mime: 'image/svg+xml' }),
    new c.ProgressBar({ label: h, value: h as any, max: h as any }),
    new c.Artifact({ [h]: h }, h),
    new c.Error(new Error(h), h),
    new m.vega.VegaLite({ title: h, mark: 'point', encoding: { x: { field: 'a', type: 'nominal', title: h }, tooltip: [{ field: 'a' }] } }, { data: [{ a: h }, { a: 'b' }], caption: h }),
    new b.WordCloud(`${h} ${h} whisper model model`, { title: h }),
    new b.EmbeddingPlot([{ word: h, x: 0, y: 0, count: 3 }, { word: 'b', x: 1, y: 1, count: 1 }], { title: h }),
    new b.ModelComparison([{ title: h, model: h, audioSeconds: 10, wallSeconds: 2, rtf: 0.2, cpus: 1, wer: 0.1, note: h }], { title: h, currency: h }),
    new b.TranscriptSideBySide({ title: h, large: h, small: h, ops }),
    new b.RunTimeline(records(h), { title: h }),
    new b.ResourceReport(records(h), { title: h }),
    ...(await m.defaultCard.defaultCardBody(store, done, { [h]: h })),
    { render: () => m.graph.graphSvg(graph, h) },
  ];
  return { html: m.render.cardHtml(parts, { title: h, subtitle: h }), charts: 6 };
}

/** Options that reach markup as numbers or attributes, given strings: rejected, never written raw. */
function hostileOptions(m: Mods, h: string): string {
  const parts: Components.CardComponent[] = [];
  const tryAdd = (make: () => Components.CardComponent) => {
    try {
      parts.push(make());
    } catch (err) {
      parts.push(new m.c.Error(err, 'rejected'));
    }
  };
  tryAdd(() => new m.c.Image(PNG, { mime: `image/png;base64,AA${h}` }));
  tryAdd(() => new m.c.Image(PNG, { mime: h }));
  tryAdd(() => new m.builtin.WordCloud('a b c', { width: h as any, height: h as any }));
  tryAdd(() => new m.builtin.WordCloud('a b c', { width: 300, height: `200${h}` as any }));
  tryAdd(() => new m.c.Table([[1]], { maxRows: h as any }));
  return m.render.cardHtml(parts, { title: h });
}

/** Markup no component should ever produce: the CSP alone must stop it. */
const MISSED_ESCAPE = [
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)></svg>',
  '<script>alert(1)</script>',
  '<a id="js" href="javascript:alert(1)">click</a>',
  '<div onmouseover="alert(1)" id="hover" style="width:200px;height:40px">hover</div>',
].join('\n');

async function noActiveContent(r: PageReport): Promise<void> {
  expect(r.dialogs).toEqual([]);
  const bad = await r.page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) out.push(`${el.tagName} ${a.name}`);
        if (/^(href|src|xlink:href|action|formaction)$/i.test(a.name) && /^\s*javascript:/i.test(a.value)) out.push(`${el.tagName} ${a.name}=${a.value}`);
      }
      if (el.tagName === 'IMG' && !/^data:/.test(el.getAttribute('src') ?? '')) out.push(`img ${el.getAttribute('src')}`);
    }
    // only the page's own scripts: the vega bundles, the interpreter, the bootstrap
    for (const s of document.querySelectorAll('script:not([type="application/json"])')) if (/alert\(1\)/.test(s.textContent ?? '')) out.push('script alert');
    return out;
  });
  expect(bad).toEqual([]);
}

function scriptSrc(csp: string): string {
  return csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src')) ?? '';
}

describe('hardened cards in Chromium', () => {
  let m: Mods;
  let browser: Browser;
  let root: string;
  let server: ReturnType<typeof flowbookAsync>;
  let url: string;
  let port: number;
  const cards: { name: string; h: string; charts: number }[] = [];

  beforeAll(async () => {
    m = await load();
    root = tempDir();
    const store = new m.store.FlowDatastore(root, FLOW);
    const write = (name: string, html: string) => {
      const file = path.join(root, store.taskKey('1', 'start', '1'), 'cards', `${name}.html`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, html);
    };
    for (const [i, h] of HOSTILE.entries()) {
      const { html, charts } = await hostileCard(m, h, store);
      write(`all-${i}`, html);
      cards.push({ name: `all-${i}`, h, charts });
      write(`options-${i}`, hostileOptions(m, h));
      cards.push({ name: `options-${i}`, h, charts: 0 });
    }
    // as an older flowbook wrote it (scripts allowed inline): the server's header CSP must still hold
    write('legacy', `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="script-src 'unsafe-inline'"></head><body>${MISSED_ESCAPE}</body></html>`);
    write('missed', m.render.cardHtml([{ render: () => MISSED_ESCAPE }, new m.vega.VegaLite({ mark: 'bar', encoding: { x: { field: 'a' } } }, { data: [{ a: 1 }] })], { title: 'missed escape' }));
    browser = await launchBrowser();
    server = flowbookAsync(['card', 'server', '--port', '0'], { root });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d) => {
        out += d;
        const hit = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (hit) resolve(hit[0]);
      });
      server.once('exit', (code) => reject(new Error(`card server exited ${code}`)));
    });
    port = Number(new URL(url).port);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
  });

  const fileUrl = (name: string) => pathToFileURL(path.join(root, FLOW, 'runs/1/start/1/cards', `${name}.html`)).href;
  const serverUrl = (name: string) => `${url}card/${FLOW}/1/start/1/${name}`;

  it('every component and built-in card: hostile strings stay text, charts still draw (file:// and card server)', async () => {
    for (const { name, h, charts } of cards.filter((x) => x.name.startsWith('all-'))) {
      for (const where of [fileUrl(name), serverUrl(name)]) {
        const r = await openCard(browser, where);
        await noActiveContent(r);
        expect(r.problems, `${where}`).toEqual([]);
        expect(r.requests).toEqual([]);
        expect(r.charts, where).toBe(charts);
        expect(r.marks).toBeGreaterThan(10);
        expect(r.words).toBeGreaterThanOrEqual(3);
        expect(r.text).toContain(h);
        // the tooltip shows the hostile datum as text
        await r.page.locator('.fb-vega g.mark-symbol.role-mark path').first().hover();
        await r.page.waitForTimeout(50);
        await noActiveContent(r);
        expect(scriptSrc(await r.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content') ?? '')).not.toMatch(/unsafe/);
        await r.page.close();
      }
    }
  }, 120_000);

  it('options that reach attributes or numbers are rejected with a one-line error naming the option', async () => {
    for (const { name } of cards.filter((x) => x.name.startsWith('options-'))) {
      for (const where of [fileUrl(name), serverUrl(name)]) {
        const r = await openCard(browser, where);
        await noActiveContent(r);
        expect(r.problems).toEqual([]);
        expect(r.text).toMatch(/Image: option mime must be one of image\/png, image\/jpeg, image\/gif, image\/webp, image\/svg\+xml/);
        expect(r.text).toMatch(/WordCloud: option width must be a positive number/);
        expect(r.text).toMatch(/WordCloud: option height must be a positive number/);
        await r.page.close();
      }
    }
  }, 60_000);

  it('a missed escape cannot run: inline handlers, scripts and javascript: links are refused by the CSP', async () => {
    for (const where of [fileUrl('missed'), serverUrl('missed')]) {
      const r = await openCard(browser, where);
      await r.page.locator('#js').click();
      await r.page.locator('#hover').hover();
      await r.page.waitForTimeout(100);
      expect(r.dialogs).toEqual([]);
      // the refusals are reported, and the chart still draws
      expect(r.problems.join('\n')).toMatch(/Content Security Policy/);
      expect(r.charts).toBe(1);
      await r.page.close();
    }
  }, 60_000);

  it('card server: its CSP header alone stops a card that allows inline scripts itself', async () => {
    const r = await openCard(browser, serverUrl('legacy'));
    await r.page.locator('#js').click();
    await r.page.locator('#hover').hover();
    await r.page.waitForTimeout(100);
    expect(r.dialogs).toEqual([]);
    expect(r.problems.join('\n')).toMatch(/Content Security Policy/);
    await r.page.close();
  }, 30_000);

  it('card server: strict CSP headers without unsafe-inline scripts; the viewer still polls', async () => {
    const card = await fetch(serverUrl('all-0'));
    const cardCsp = card.headers.get('content-security-policy') ?? '';
    expect(scriptSrc(cardCsp)).toMatch(/^script-src( 'sha256-[A-Za-z0-9+/=]+')+$/);
    const view = await fetch(`${url}view/${FLOW}/1/start/1/all-0`);
    expect(scriptSrc(view.headers.get('content-security-policy') ?? '')).toMatch(/^script-src( 'sha256-[A-Za-z0-9+/=]+')+$/);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => void (msg.type() === 'error' && problems.push(msg.text())));
    await page.goto(`${url}view/${FLOW}/1/start/1/all-0`);
    await expect.poll(() => page.locator('#stamp').innerText(), { timeout: 10_000 }).toMatch(/updated/);
    await expect.poll(() => page.frameLocator('iframe#card').locator('.fb-vega[data-rendered]').count(), { timeout: 20_000 }).toBe(6);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('card server: a foreign Host is refused (DNS rebinding); bad percent-encoding is a 400', async () => {
    const get = (p: string, host?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: p, headers: host === undefined ? {} : { host } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const card = `/card/${FLOW}/1/start/1/all-0`;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`, '127.0.0.1']) {
      for (const p of ['/', card, `/stamp/${FLOW}/1/start/1/all-0`]) {
        const r = await get(p, host);
        expect([421, 403], `${host} ${p}`).toContain(r.status);
        expect(r.body.trim().split('\n')).toHaveLength(1);
        expect(r.body).not.toContain('<');
      }
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) expect((await get(card, host)).status, host).toBe(200);
    for (const p of ['/card/%zz/1/start/1/x', `/view/${FLOW}/1/start/1/%zz`, `/stamp/${FLOW}/%E0%A4%A/start/1/x`]) {
      const r = await get(p, `127.0.0.1:${port}`);
      expect(r.status, p).toBe(400);
      expect(r.body.trim().split('\n')).toHaveLength(1);
    }
  }, 30_000);
});
