// Every card, held to real data: espeak-ng reads two public-domain texts (bench/texts/, about 3.5
// minutes of speech) and pocketsphinx transcribes them with jfk.wav, through both seed flows; then
// each card the runs made is opened in Chromium and checked — every chart drawn, no script or CSP
// error, no error box. `--screenshots` also rewrites docs/cards/*.png from these runs.
//   node bench/cards-real.mjs [--screenshots]      (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { REPO, BIN, table } from './lib.mjs';

const SHOTS = process.argv.includes('--screenshots');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-cards-real-'));
const clips = path.join(work, 'clips');
const models = path.join(work, 'models');
fs.mkdirSync(clips);
fs.mkdirSync(models);
for (const name of ['gettysburg', 'declaration']) {
  const text = fs.readFileSync(path.join(REPO, 'bench/texts', `${name}.txt`), 'utf8');
  fs.writeFileSync(path.join(clips, `${name}.txt`), text);
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '140', '-w', path.join(clips, `${name}.wav`), text]);
}
const shared = path.join(REPO, '../shared/data');
if (fs.existsSync(path.join(shared, 'audio/jfk.wav'))) for (const f of ['jfk.wav', 'jfk.txt']) fs.copyFileSync(path.join(shared, 'audio', f), path.join(clips, f));
const testModel = path.join(shared, 'models/for-tests-ggml-tiny.en.bin');
if (fs.existsSync(testModel)) fs.copyFileSync(testModel, path.join(models, path.basename(testModel)));
const env = { ...process.env, FLOWBOOK_HOME: path.join(work, 'store'), FLOWBOOK_MODELS: models };
const audioSeconds = fs.readdirSync(clips).filter((f) => f.endsWith('.wav')).reduce((s, f) => s + Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path.join(clips, f)]).toString()), 0);

function flowbook(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`flowbook ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}
const timed = (label, ...args) => {
  const t0 = performance.now();
  flowbook(...args);
  return [label, `${((performance.now() - t0) / 1000).toFixed(1)} s`];
};

const runs = [
  timed('YouTubeVideoTranscription (pocketsphinx)', 'run', 'flows/youtube_transcription.ts', '--urls', clips, '--model', 'sphinx-en-us', '--quiet'),
  timed('ModelSizeComparison', 'run', 'flows/model_size_comparison.ts', '--urls', clips, '--models', fs.existsSync(testModel) ? 'sphinx-en-us,for-tests-tiny.en' : 'sphinx-en-us', '--quiet'),
];
table(`Seed flows over ${(audioSeconds / 60).toFixed(1)} minutes of real speech (${fs.readdirSync(clips).filter((f) => f.endsWith('.wav')).join(', ')})`, ['run', 'wall'], runs);

// every card of both runs: `card list` prints pathspec, card id, file
const cards = ['YouTubeVideoTranscription/latest', 'ModelSizeComparison/latest'].flatMap((run) =>
  flowbook('card', 'list', run)
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/))
    .map(([pathspec, id, file]) => ({ pathspec, id, file })),
);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
const rows = [];
let failures = 0;
for (const c of cards) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const t0 = performance.now();
  await page.goto(`file://${c.file}`);
  await page.waitForFunction(() => [...document.querySelectorAll('.fb-vega')].every((el) => el.hasAttribute('data-rendered') || el.classList.contains('error')), null, { timeout: 30_000 });
  const ms = performance.now() - t0;
  const charts = await page.locator('.fb-vega').count();
  const broken = await page.locator('.fb-vega.error, .error').count();
  const words = await page.locator('svg text.word').count();
  const ok = !problems.length && !broken;
  if (!ok) failures++;
  rows.push([`${c.pathspec.split('/').slice(2).join('/')} ${c.id}`, charts, words || '', `${Math.round(ms)} ms`, `${(fs.statSync(c.file).size / 1024).toFixed(0)} KiB`, ok ? 'ok' : `FAIL: ${[...problems, broken ? `${broken} error box(es)` : ''].filter(Boolean).join('; ')}`]);
  await page.close();
}
table(`Every card in Chromium (${cards.length} cards)`, ['card', 'charts', 'cloud words', 'load + draw', 'size', 'check'], rows);

if (SHOTS) {
  const file = (run, step, id) => cards.find((c) => c.pathspec.startsWith(run) && c.pathspec.split('/')[2] === step && c.id === id)?.file;
  const shots = {
    'analysis.png': file('YouTubeVideoTranscription', 'postprocess', 'analysis'),
    'default.png': cards.find((c) => c.pathspec.split('/')[2] === 'transcribe' && c.id.startsWith('default'))?.file,
    'timeline.png': file('YouTubeVideoTranscription', 'end', 'timeline'),
    'resources.png': file('YouTubeVideoTranscription', 'end', 'resources'),
    'comparison.png': file('ModelSizeComparison', 'postjoin', 'comparison'),
  };
  const out = path.join(REPO, 'docs/cards');
  fs.mkdirSync(out, { recursive: true });
  for (const [png, html] of Object.entries(shots)) {
    if (!html) throw new Error(`no card for docs/cards/${png}`);
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(`file://${html}`);
    await page.waitForFunction(() => [...document.querySelectorAll('.fb-vega')].every((el) => el.hasAttribute('data-rendered')));
    await page.screenshot({ path: path.join(out, png), fullPage: true });
    await page.close();
    console.log(`docs/cards/${png}`);
  }
}
await browser.close();
fs.rmSync(work, { recursive: true, force: true });
if (failures) {
  console.error(`${failures} card(s) failed the check`);
  process.exit(1);
}
