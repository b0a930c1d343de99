// The PNGs of docs/cards/: run the two seed flows on the samples (pocketsphinx, and whisper.cpp's
// test model when ../shared/data has it), then photograph each built-in card in Chromium.
//   node scripts/screenshots.mjs        (after scripts/setup.sh --test and scripts/make-samples.sh)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(REPO, 'docs/cards');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-shots-'));
const models = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-shots-models-'));
const testModel = path.join(REPO, '../shared/data/models/for-tests-ggml-tiny.en.bin');
const haveTestModel = fs.existsSync(testModel);
if (haveTestModel) fs.copyFileSync(testModel, path.join(models, path.basename(testModel)));
const env = { ...process.env, FLOWBOOK_HOME: root, FLOWBOOK_MODELS: models };

function flowbook(...args) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/flowbook.js'), ...args], { cwd: REPO, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`flowbook ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

flowbook('run', 'flows/youtube_transcription.ts', '--urls', 'samples', '--model', 'sphinx-en-us', '--quiet');
flowbook('run', 'flows/model_size_comparison.ts', '--urls', 'samples', '--models', haveTestModel ? 'sphinx-en-us,for-tests-tiny.en' : 'sphinx-en-us', '--quiet');
const card = (pathspec, id) => {
  const file = path.join(root, `${id}.html`);
  flowbook('card', 'get', pathspec, '--id', id, file);
  return file;
};

const shots = {
  'analysis.png': card('YouTubeVideoTranscription/latest/postprocess', 'analysis'),
  'default.png': flowbook('card', 'list', 'YouTubeVideoTranscription/latest/transcribe').split('\n')[0].split(/\s+/)[2],
  'timeline.png': card('YouTubeVideoTranscription/latest/end', 'timeline'),
  'resources.png': card('YouTubeVideoTranscription/latest/end', 'resources'),
  'comparison.png': flowbook('card', 'list', 'ModelSizeComparison/latest/compare').split('\n')[0].split(/\s+/)[2],
};

fs.mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
for (const [png, html] of Object.entries(shots)) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  await page.goto(`file://${html}`);
  await page.waitForFunction(() => [...document.querySelectorAll('.fb-vega')].every((el) => el.hasAttribute('data-rendered')));
  await page.screenshot({ path: path.join(OUT, png), fullPage: true });
  await page.close();
  console.log(`docs/cards/${png}`);
}
await browser.close();
fs.rmSync(root, { recursive: true, force: true });
fs.rmSync(models, { recursive: true, force: true });
