// Card pieces that need no browser: the resource judgement, the chart spec's escaping, the word
// cloud's determinism, @card's checks, a card's timeout.
import { describe, it, expect } from 'vitest';
import { taskUse, resourceAdvice, stepUsage } from '../../src/internal.js';
import { WordCloud } from '../../src/cards/components/word-cloud.js';
import { VegaLite, inertJson } from '../../src/cards/components/vega-lite.js';
import { cardHtml } from '../../src/cards/render.js';
import { card } from '../../src/flow/decorators.js';
import type { RunTask } from '../../src/cards/run-records.js';
import { Image, ProgressBar, Table } from '../../src/cards/components/basic.js';
import { page, scriptHash } from '../../src/cards/html.js';
import { cardFrameHtml } from '../../src/notebook/html.js';

function rec(task: string, o: { wall: number; cpuSec: number; reqCpu: number; rssMiB: number; reqMiB: number }): RunTask {
  return {
    pathspec: `F/1/${task}`,
    step: task.split('/')[0],
    taskId: task.split('/')[1],
    status: 'done',
    startedAt: '2026-01-01T00:00:00Z',
    where: 'local-1 @ host',
    resources: { wallSeconds: o.wall, cpuUserSeconds: o.cpuSec, cpuSystemSeconds: 0, peakRssBytes: o.rssMiB * 2 ** 20, host: 'h', pid: 1, worker: 'local-1', requested: { cpu: o.reqCpu, memory: o.reqMiB } },
  };
}

describe('resources: requested vs used', () => {
  it('warns above 1.5x and below 0.3x, and recommends values with headroom', () => {
    const over = taskUse(rec('transcribe/2', { wall: 10, cpuSec: 25, reqCpu: 1, rssMiB: 900, reqMiB: 1024 }))!;
    expect(over.cpuUsed).toBeCloseTo(2.5);
    expect(over.warnings).toEqual(['CPU: used 2.5 cores on a request of 1 (2.5x): a pod would be throttled to its request']);
    const idle = taskUse(rec('transcribe/3', { wall: 10, cpuSec: 2, reqCpu: 8, rssMiB: 100, reqMiB: 12288 }))!;
    expect(idle.warnings).toEqual(['CPU: used 0.2 of 8 cores requested (3%): the rest sat idle', 'memory: peak 100 of 12288 MiB requested (1%)']);
    const fine = taskUse(rec('end/4', { wall: 10, cpuSec: 10, reqCpu: 1, rssMiB: 500, reqMiB: 1000 }))!;
    expect(fine.warnings).toEqual([]);
    // too short to judge CPU; no memory request: nothing to judge
    expect(taskUse(rec('start/1', { wall: 0.2, cpuSec: 0.01, reqCpu: 4, rssMiB: 80, reqMiB: 0 }))!.warnings).toEqual([]);
    const advice = resourceAdvice([over, idle, fine]);
    expect(advice.map((a) => a.step)).toEqual(['transcribe']);
    // busiest task 2.5 cores × 1.2 → 3; peak 900 of 1024 MiB is within the band: memory keeps its 1024
    expect(advice[0].recommended).toEqual({ cpu: 3, memory: 1024 });
    expect(advice[0].decorator).toBe('@resources({ cpu: 3, memory: 1024 })  or  @kubernetes({ cpu: 3, memory: 1024 })');
    expect(advice[0].warnings).toHaveLength(3);
  });
});

describe('resources per step (flowbook advise, the run\'s notes)', () => {
  it('judges each step on its busiest task with the same thresholds and names the decorator to paste', () => {
    const uses = [
      rec('transcribe/2', { wall: 10, cpuSec: 25, reqCpu: 1, rssMiB: 900, reqMiB: 1024 }),
      rec('transcribe/3', { wall: 10, cpuSec: 5, reqCpu: 1, rssMiB: 100, reqMiB: 1024 }),
      rec('join/4', { wall: 0.2, cpuSec: 0.1, reqCpu: 4, rssMiB: 100, reqMiB: 4096 }),
      // a record from before the task's own peak was kept apart: still judged on peakRssBytes
      rec('end/5', { wall: 10, cpuSec: 10, reqCpu: 1, rssMiB: 500, reqMiB: 1000 }),
    ].map((r) => taskUse(r)!);
    uses[1].kubernetes = uses[0].kubernetes = true;
    const [transcribe, join, end] = stepUsage(uses);
    expect(transcribe).toMatchObject({ step: 'transcribe', tasks: 2, cpu: 'under-requested', memory: 'ok', verdict: 'under-requested', maxCores: 2.5, peakMiB: 900 });
    expect(transcribe.avgCores).toBeCloseTo(1.5);
    expect(transcribe.decorator).toBe('@kubernetes({ cpu: 3, memory: 1024 })');
    // too short to judge CPU; 100 of 4096 MiB
    expect(join).toMatchObject({ cpu: undefined, memory: 'over-requested', verdict: 'over-requested', decorator: '@resources({ cpu: 4, memory: 256 })' });
    expect(end.verdict).toBe('ok');
  });

  it('memory advice is for a process of its own: a local task\'s rise plus a fresh worker\'s baseline', () => {
    const withBase = (r: RunTask, base: number) => ({ ...r, resources: { ...r.resources!, baselineRssBytes: base * 2 ** 20 } });
    const uses = [
      withBase(rec('start/1', { wall: 1, cpuSec: 0.5, reqCpu: 1, rssMiB: 20, reqMiB: 0 }), 80), // a fresh worker: Node and the flow
      withBase(rec('transcribe/2', { wall: 10, cpuSec: 10, reqCpu: 1, rssMiB: 172, reqMiB: 4096 }), 450), // a warm worker that held more
    ].map((r) => taskUse(r)!);
    const [, transcribe] = stepUsage(uses);
    // (172 + 80) × 1.25 = 315 MiB → 512 in steps of 256; the task's rise alone (215 → 256) would be OOM-killed in a pod
    expect(transcribe.recommended.memory).toBe(512);
    expect(transcribe.peakMiB).toBe(172);
  });
});

describe('chart specs and the word cloud', () => {
  it('a spec cannot close its script element', () => {
    const html = new VegaLite({ mark: 'point' }, { data: [{ word: '</script><script>alert(1)</script>' }] }).render();
    expect(html).not.toContain('</script><script>alert');
    expect(html).toContain('\\u003c/script>');
    expect(JSON.parse(inertJson({ a: '</script>' }))).toEqual({ a: '</script>' });
    expect(() => new VegaLite([] as any)).toThrow('VegaLite: the spec must be an object');
  });

  it('the same counts and seed give the same cloud; most frequent words are the largest', () => {
    const text = 'whisper whisper whisper whisper model model model tiny large cost latency quality';
    const a = new WordCloud(text).render();
    expect(new WordCloud(text).render()).toBe(a);
    expect(new WordCloud(text, { seed: 7 }).render()).not.toBe(a);
    const sizes = [...a.matchAll(/font-size="([\d.]+)"[^>]*><title>(\w+): (\d+)<\/title>/g)].map((m) => ({ size: +m[1], word: m[2], count: +m[3] }));
    expect(sizes.map((s) => s.word).sort()).toEqual(["cost", "large", "latency", "model", "quality", "tiny", "whisper"]);
    expect(sizes.find((s) => s.word === 'whisper')!.size).toBe(Math.max(...sizes.map((s) => s.size)));
    expect(new WordCloud([]).render()).toContain('No words to draw.');
  });
});

describe('@card and rendering', () => {
  it('rejects type names that cannot be card types, and unsafe ids, when the flow is defined', () => {
    // a name like 'wordcloud' may be the project's own type: it is looked up when the card renders
    expect(() => card({ type: 'wordcloud' })).not.toThrow();
    expect(() => card({ type: '../x' })).toThrow("@card: type '../x' is not a card type name (built-in: default, blank, timeline, resources; your own: lowercase letters, digits, '-' or '_', defined in your project's cards/ folder)");
    expect(() => card({ id: '../x' })).toThrow("@card: id '../x' must be letters, digits, '_' or '-'");
  });

  it('a component that throws becomes an error box; past the deadline the rest is skipped and said so', () => {
    const boom = { render: () => { throw new Error('boom <b>'); } };
    const html = cardHtml([{ render: () => '<p>one</p>' }, boom], { title: 't' });
    expect(html).toContain('<p>one</p>');
    expect(html).toContain('A component failed to render');
    expect(html).toContain('boom &lt;b&gt;');
    const late = cardHtml([{ render: () => '<p>one</p>' }, { render: () => '<p>two</p>' }], { title: 't', deadline: performance.now() - 1 });
    expect(late).not.toContain('<p>one</p>');
    expect(late).toContain('the card&#39;s timeout passed: 2 of 2 components not rendered');
  });
});

describe('hardening: options that reach markup', () => {
  const HOSTILE = '"><img src=x onerror=alert(1)>';

  it('Image: mime must be one of the allowed image types, with a one-line error naming the option', () => {
    const msg = 'Image: option mime must be one of image/png, image/jpeg, image/gif, image/webp, image/svg+xml, got "image/png;base64,AA\\"><img src=x onerror=alert(1)>"';
    expect(() => new Image(Buffer.from('x'), { mime: `image/png;base64,AA${HOSTILE}` })).toThrow(msg);
    expect(() => new Image(Buffer.from('x'), { mime: 'text/html' })).toThrow(/^Image: option mime must be one of .*, got "text\/html"$/);
    // changed after construction: refused at render, never written
    const img = new Image(Buffer.from('x'), { mime: 'image/png' });
    (img.opts as { mime?: string }).mime = HOSTILE;
    expect(() => img.render()).toThrow('Image: option mime');
    expect(new Image(Buffer.from('GIF89a'), {}).render()).toContain('src="data:image/gif;base64,');
    expect(new Image(Buffer.from('<svg/>'), { mime: 'image/svg+xml', label: HOSTILE }).render()).not.toContain('<img src=x');
  });

  it('WordCloud: width and height must be numbers; ProgressBar and the notebook frame coerce theirs', () => {
    expect(() => new WordCloud('a b', { width: `1${HOSTILE}` as any })).toThrow('WordCloud: option width must be a positive number, got "1\\"><img src=x onerror=alert(1)>"');
    expect(() => new WordCloud('a b', { height: -3 })).toThrow('WordCloud: option height must be a positive number, got -3');
    const bar = new ProgressBar({ max: HOSTILE as any, value: HOSTILE as any, label: HOSTILE }).render();
    expect(bar).not.toContain('<img');
    expect(bar).toContain('style="width:0.0%"');
    const frame = cardFrameHtml('<p>x</p>', { height: `1px;" onload="alert(1)` as any });
    expect(frame).toContain('height:520px;');
    expect(frame).not.toContain('onload="');
  });

  it('Table: data with a `render` key is data, not a component', () => {
    const html = new Table([{ a: { render: HOSTILE } }]).render();
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img');
  });

  it('a card page allows its own scripts by hash only', () => {
    const html = page({ title: HOSTILE, body: '', scripts: ['var a = "</script>";'], tailScripts: ['run()\r\n'] });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1];
    const scriptSrc = csp.split('; ').find((d) => d.startsWith('script-src'))!;
    expect(scriptSrc).toBe(`script-src ${scriptHash('var a = "</script>";')} ${scriptHash('run()\r\n')}`);
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    // the hash is of the body as written (escaped, line breaks normalized)
    expect(scriptHash('run()\r\n')).toBe(scriptHash('run()\n'));
    expect(html).toContain('<script>var a = "<\\/script>";</script>');
    expect(page({ title: 't', body: '' })).toContain("script-src 'none'");
  });
});
