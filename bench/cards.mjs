// Card benchmarks (issue 03): render time and HTML size of each card type for a synthetic one-hour
// transcript (9,000 words), and what @card adds to a task in a whole run.
import fs from 'node:fs';
import { median, tempRoot, timeCli, table, fmt } from './lib.mjs';
import { FlowDatastore } from '../dist/datastore/store.js';
import { cardHtml } from '../dist/cards/render.js';
import { defaultCardBody } from '../dist/cards/types/default-body.js';
import { WordCloud } from '../dist/cards/components/word-cloud.js';
import { EmbeddingPlot } from '../dist/cards/components/embedding-plot.js';
import { ModelComparison } from '../dist/cards/components/model-comparison.js';
import { TranscriptSideBySide } from '../dist/cards/components/transcript-side-by-side.js';
import { RunTimeline } from '../dist/cards/components/run-timeline.js';
import { ResourceReport } from '../dist/cards/components/resource-report.js';
import { mulberry32, tokenize, isStopword, wordFrequencies, trainWord2Vec, pca2d, alignWords } from '../dist/text/index.js';

const REPS = Number(process.env.BENCH_REPS ?? 7);

// a Zipf-distributed vocabulary of 3,000 words: 9,000 words of "speech"
const rand = mulberry32(1);
const syllables = ['ka', 'lo', 'mi', 'ne', 'ra', 'to', 'su', 've', 'di', 'po', 'an', 'er', 'in', 'ul'];
const vocab = Array.from({ length: 3000 }, (_, i) => {
  let w = '';
  for (let k = 0; k < 2 + (i % 3); k++) w += syllables[Math.floor(rand() * syllables.length)];
  return w + (i < 100 ? '' : String.fromCharCode(97 + (i % 26)));
});
const zipf = vocab.map((_, i) => 1 / (i + 1));
const total = zipf.reduce((a, b) => a + b, 0);
const pick = () => {
  let r = rand() * total;
  for (let i = 0; i < zipf.length; i++) if ((r -= zipf[i]) <= 0) return vocab[i];
  return vocab[0];
};
const transcript = Array.from({ length: 9000 }, pick).join(' ');
const smaller = tokenize(transcript).map((w) => (rand() < 0.1 ? pick() : w)).filter(() => rand() > 0.03).join(' ');

// what the step computes (not part of a card's render): reported once
let t0 = performance.now();
const frequencies = wordFrequencies([transcript]);
const w2v = trainWord2Vec([tokenize(transcript).filter((w) => !isStopword(w))], { dim: 32, minCount: 2, epochs: 5, seed: 42 });
const pca = pca2d(w2v.vectors);
const embedding = w2v.vocab.map((word, k) => ({ word, x: pca.points[k][0], y: pca.points[k][1], count: w2v.counts[k] }));
const stepSeconds = (performance.now() - t0) / 1000;
t0 = performance.now();
const ops = alignWords(transcript, smaller);
const alignSeconds = (performance.now() - t0) / 1000;

// a finished task in a real datastore, for the default card
const root = tempRoot();
const store = new FlowDatastore(root, 'CardBench');
const graph = { order: ['start', 'transcribe', 'postprocess', 'end'], nodes: { start: { type: 'split-foreach', out: ['transcribe'], foreach: 'tasks' }, transcribe: { type: 'linear', out: ['postprocess'] }, postprocess: { type: 'join', out: ['end'] }, end: { type: 'end', out: [] } } };
const run = await store.createRun({ status: 'running', createdAt: new Date().toISOString(), user: 'bench', tags: [], systemTags: [], params: {}, flowFile: 'x.ts', sourceSha: 'x', host: 'h', pid: 1, graph });
const artifacts = {};
for (const [name, value] of Object.entries({ transcript, frequencies, embedding, title: 'one hour', rows: [{ title: 'video', words: 9000 }] })) artifacts[name] = await store.putArtifact(name, value);
const resources = { wallSeconds: 3600, cpuUserSeconds: 3000, cpuSystemSeconds: 20, peakRssBytes: 2 ** 30, host: 'h', pid: 1, worker: 'local-1', requested: { cpu: 1, memory: 4096 } };
const done = { pathspec: `CardBench/${run.runId}/postprocess/2`, step: 'postprocess', taskId: '2', attempt: 0, artifacts, foreachStack: [], inputs: [], startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), key: 'postprocess', resources };

const tasks = Array.from({ length: 100 }, (_, i) => ({ pathspec: `CardBench/1/transcribe/${i + 2}`, step: 'transcribe', taskId: String(i + 2), status: 'done', startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i * 3)).toISOString(), finishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i * 3 + 5)).toISOString(), where: `local-${(i % 2) + 1} @ h`, resources: { ...resources, wallSeconds: 5, cpuUserSeconds: 4 + (i % 7) } }));
const models = ['tiny', 'base', 'small', 'medium', 'large-v3'].map((m, i) => ({ title: 'one hour', model: m, audioSeconds: 3600, wallSeconds: 60 * (i + 1) ** 1.6, rtf: (i + 1) ** 1.6 / 60, cpus: 8, wer: 0.2 / (i + 1) }));

const cards = {
  default: async () => cardHtml(await defaultCardBody(store, done, { model: 'tiny' }), { title: 'default' }),
  'word cloud': async () => cardHtml([new WordCloud(frequencies)], { title: 'wc' }),
  embedding: async () => cardHtml([new EmbeddingPlot(embedding)], { title: 'emb' }),
  'word cloud + embedding (one card)': async () => cardHtml([new WordCloud(frequencies), new EmbeddingPlot(embedding)], { title: 'both' }),
  'model comparison (5 models)': async () => cardHtml([new ModelComparison(models)], { title: 'cmp' }),
  'side by side (9,000-word diff)': async () => cardHtml([new TranscriptSideBySide({ large: 'large', small: 'tiny', ops })], { title: 'sbs' }),
  'timeline (100 tasks)': async () => cardHtml([new RunTimeline(tasks)], { title: 'tl' }),
  'resources (100 tasks)': async () => cardHtml([new ResourceReport(tasks)], { title: 'res' }),
};
const targets = { default: '≤ 0.1 s', 'word cloud + embedding (one card)': '≤ 2 s' };

const rows = [];
const pages = {};
for (const [name, render] of Object.entries(cards)) {
  const times = [];
  let html = '';
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    html = await render();
    times.push((performance.now() - t) / 1000);
  }
  pages[name] = `${root}/${name.replace(/[^a-z0-9]+/g, '-')}.html`;
  fs.writeFileSync(pages[name], html);
  rows.push([name, fmt(times[0]), fmt(median(times.slice(1))), `${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB`, targets[name] ?? '']);
}

// in the browser: from navigation to every chart drawn (Debian's Chromium, when installed)
if (fs.existsSync('/usr/bin/chromium')) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  for (const [i, name] of Object.keys(cards).entries()) {
    const times = [];
    for (let k = 0; k < 3; k++) {
      const page = await browser.newPage();
      const t = performance.now();
      await page.goto(`file://${pages[name]}`);
      await page.waitForFunction(() => [...document.querySelectorAll('.fb-vega')].every((el) => el.hasAttribute('data-rendered')));
      times.push((performance.now() - t) / 1000);
      await page.close();
    }
    rows[i].splice(4, 0, fmt(median(times)));
  }
  await browser.close();
} else for (const r of rows) r.splice(4, 0, '(no chromium)');
table(`Card render, synthetic one-hour transcript: ${tokenize(transcript).length} words, ${frequencies.length} distinct, ${embedding.length} embedded (first render in the process, then median of ${REPS - 1}; in Chromium: load to charts drawn, median of 3)`, ['card', 'first', 'median', 'HTML', 'in Chromium', 'target'], rows);
console.log(`\nnot in the render times (the step's own work): word counts + word2vec (5 epochs) + PCA ${fmt(stepSeconds)}; word alignment of 9,000 × 8,700 words ${fmt(alignSeconds)}`);

// a whole run: TrivialFlow vs the same flow with a default card on both steps
const plain = [], carded = [];
timeCli(['show', 'bench/flows/carded.ts'], { root: tempRoot() });
timeCli(['show', 'bench/flows/trivial.ts'], { root: tempRoot() });
for (let i = 0; i < Math.max(REPS, 5); i++) {
  plain.push(timeCli(['run', 'bench/flows/trivial.ts', '--quiet'], { root: tempRoot() }));
  carded.push(timeCli(['run', 'bench/flows/carded.ts', '--quiet'], { root: tempRoot() }));
}
const perTask = (median(carded) - median(plain)) / 2;
table('What @card costs a task (whole run of start → end, median)', ['run', 'wall', 'per task', 'Metaflow'], [
  ['no cards', fmt(median(plain)), '', ''],
  ['default card on both steps', fmt(median(carded)), `+${fmt(perTask)}`, '+0.86 s per task, 1.1 MB HTML'],
]);
fs.rmSync(root, { recursive: true, force: true });
