// `flowbook models pull|list|verify`: the shared Whisper model cache.
import path from 'node:path';
import { fallbackModelsDir, listModels, modelsDir, pullModel, sha256Problem, verifyModel } from '../transcribe/models.js';
import { findModel } from '../transcribe/catalog.js';
import { downloadProgressLines } from '../transcribe/progress.js';
import { FlowbookError, IntegrityError } from '../errors.js';

function bar(received: number, total?: number): string {
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  if (!total) return `${mb(received)} MiB`;
  const w = 30;
  const done = Math.round((received / total) * w);
  return `[${'#'.repeat(done)}${'.'.repeat(w - done)}] ${((received / total) * 100).toFixed(0).padStart(3)}% ${mb(received)}/${mb(total)} MiB`;
}

export async function pullCommand(names: string[], flags: { sha256?: string }): Promise<number> {
  // bad input fails before any download
  if (flags.sha256 !== undefined) {
    const problem = sha256Problem(flags.sha256);
    if (problem) throw new FlowbookError(problem);
    if (names.length > 1) throw new FlowbookError('--sha256 is the hash of one file: pull one model at a time with it');
  }
  for (const name of names) findModel(name);
  for (const name of names) {
    const tty = process.stderr.isTTY;
    let last = 0;
    // not on a TTY (a log, CI, a pod): a line every 10% or every few seconds instead of the bar
    const lines = tty ? undefined : downloadProgressLines(name);
    const r = await pullModel(name, {
      sha256: flags.sha256,
      onProgress: ({ received, total }) => {
        if (lines) return lines({ received, total });
        const now = Date.now();
        if (now - last < 100) return;
        last = now;
        process.stderr.write(`\r${name} ${bar(received, total)}`);
      },
    });
    if (tty) process.stderr.write('\r\x1b[K');
    console.log(`${name}: ${r.downloaded ? 'downloaded and verified' : 'already present and verified'} (sha256 ${r.sha256.slice(0, 16)}…) → ${r.file}`);
  }
  return 0;
}

export async function listCommand(flags: { all?: boolean }): Promise<number> {
  const rows = listModels().filter((m) => flags.all || m.present || !m.testModel);
  console.log(`model cache: ${modelsDir()}`);
  if (rows.some((m) => m.present && path.dirname(m.file) !== modelsDir())) console.log(`  (and ${fallbackModelsDir()}, where pulls went while the cache was not writable)`);
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const m of rows) {
    const state = m.present ? (m.verified ? 'present, verified' : 'present, NOT verified') : 'not downloaded';
    const hash = m.officialSha256 ? '' : '  (no official sha256 known: pull with --sha256)';
    console.log(`  ${m.name.padEnd(w)}  ${state}${m.bytes ? `  ${(m.bytes / 2 ** 20).toFixed(1)} MiB` : ''}${hash}`);
  }
  console.log('  sphinx-en-us'.padEnd(w + 4) + '  offline pocketsphinx engine (Debian package, no download)');
  return 0;
}

export async function verifyCommand(names: string[]): Promise<number> {
  const targets = names.length ? names : listModels().filter((m) => m.present).map((m) => m.name);
  if (!targets.length) {
    console.log(`no models in ${modelsDir()}`);
    return 0;
  }
  let bad = 0;
  for (const name of targets) {
    const r = await verifyModel(name);
    if (r.ok) console.log(`${name}: ok (sha256 ${r.sha256})`);
    else {
      bad++;
      console.log(`${name}: FAILED — sha256 ${r.sha256}, expected ${r.expected ?? '(no official hash known)'}`);
    }
  }
  if (bad) throw new IntegrityError(`${bad} model(s) failed verification; pull them again`);
  return 0;
}


