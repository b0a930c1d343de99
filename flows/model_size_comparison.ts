// The Kubernetes article's flow: the same videos through several model sizes, compared on
// quality (WER against a reference transcript `<clip>.txt`, or, without one, disagreement with
// the largest model that produced text), latency and real-time factor.
//
//   npx flowbook run flows/model_size_comparison.ts --urls samples --models sphinx-en-us,tiny.en
import fs from 'node:fs';
import path from 'node:path';
import { FlowSpec, step, param, resources, card, current, ModelComparison, TranscriptSideBySide, type Inputs } from 'flowbook';
import { resolveSources, fetchAudio, decodeAudio, getTranscriber, findModel, resolveModelPath, SPHINX_MODEL, type TranscriptionTask, type Transcript } from 'flowbook/transcribe';
import { tokenize, wordErrorRate, alignWords, type AlignOp } from 'flowbook/text';

/** Rough size order of the model families, to find "the largest" for agreement. */
export function modelRank(name: string): number {
  const order = ['sphinx', 'for-tests', 'tiny', 'base', 'small', 'medium', 'large-v1', 'large-v2', 'large-v3-turbo', 'large-v3', 'large'];
  const i = order.findIndex((p) => name.startsWith(p));
  return i < 0 ? order.length : i;
}

export interface ComparisonRow {
  title: string;
  url: string;
  model: string;
  engine: string;
  audioSeconds: number;
  wallSeconds: number;
  rtf: number;
  cpus: number;
  words: number;
  /**
   * WER against the reference transcript, when there is one (Whisper-style normalization first);
   * null without one, or when the text is not a transcript (a weightless test model)
   */
  wer: number | null;
  /** the same WER of the texts as written */
  rawWer: number | null;
  /**
   * Without a reference: the word-error formula against `comparedWith`'s text — how much two
   * models disagree, not how wrong either is. Null for that model itself and for rows without text.
   */
  disagreement: number | null;
  /** the largest model that produced text on this clip, when `disagreement` was measured */
  comparedWith: string | null;
  note: string;
}

/** A text that is a transcript: a test model's empty text (its note says so) is not one. */
const isText = (t: Transcript) => !t.note && tokenize(t.text).length > 0;

/**
 * One clip's models compared: WER against the reference when there is one; without it,
 * disagreement with the largest model that produced text (never with an empty one, which would
 * make every other model "100% wrong"); and the word diff of the smallest and largest with text.
 */
export function compareModels(
  video: TranscriptionTask,
  reference: string | null,
  byModel: { model: string; transcript: Transcript; cpus: number }[],
): { rows: ComparisonRow[]; diff: { small: string; large: string; ops: AlignOp[] } | null } {
  const withText = byModel.filter((m) => isText(m.transcript)).sort((a, b) => modelRank(a.model) - modelRank(b.model));
  const anchor = withText.at(-1);
  const compared = (model: string, t: Transcript) => reference === null && anchor !== undefined && model !== anchor.model && isText(t);
  const rows = byModel.map(({ model, transcript: t, cpus }) => ({
    title: video.title,
    url: video.url,
    model,
    engine: t.engine,
    audioSeconds: t.audioSeconds,
    wallSeconds: t.wallSeconds,
    rtf: t.rtf,
    cpus,
    words: tokenize(t.text).length,
    // normalized as Whisper's English normalizer does, so writing ("20" vs "twenty") is no error
    wer: reference !== null && !t.note ? wordErrorRate(reference, t.text, { normalize: 'english' }).wer : null,
    rawWer: reference !== null && !t.note ? wordErrorRate(reference, t.text).wer : null,
    disagreement: compared(model, t) ? wordErrorRate(anchor!.transcript.text, t.text, { normalize: 'english' }).wer : null,
    comparedWith: compared(model, t) ? anchor!.model : null,
    note: t.note ?? '',
  }));
  const smallest = withText[0];
  const diff = !anchor || smallest.model === anchor.model ? null : { small: smallest.model, large: anchor.model, ops: alignWords(anchor.transcript.text, smallest.transcript.text) };
  return { rows, diff };
}

export class ModelSizeComparison extends FlowSpec {
  url = param.string('url', { default: '', help: 'a YouTube URL, an audio URL, a file or directory' });
  urls = param.string('urls', { default: '', help: 'a file of URLs, or a directory of audio (samples/ when neither --url nor --urls is given)' });
  models = param.string('models', { default: 'tiny,large', help: 'comma-separated model names, smallest to largest (large means large-v3)' });
  cpuPrice = param.float('cpu-price', { default: 0.04, help: 'price of one cpu for an hour, for the cost column' });

  modelList!: string[];
  tasks!: TranscriptionTask[];
  video!: TranscriptionTask;
  audioPath!: string;
  reference!: string | null;
  modelName!: string;
  cpus!: number;
  transcript!: Transcript;
  comparison!: ComparisonRow[];
  diff!: { small: string; large: string; ops: AlignOp[] } | null;
  table!: ComparisonRow[];
  diffs!: { title: string; small: string; large: string; ops: AlignOp[] }[];

  /** Check every model before anything runs; resolve the videos. */
  @step
  async start() {
    // an alias (`large`) is reported as the model it means (large-v3)
    this.modelList = this.models.split(',').map((m) => m.trim()).filter(Boolean).map((m) => (m === SPHINX_MODEL ? m : findModel(m).name));
    if (!this.modelList.length) throw new Error('--models is empty: give e.g. tiny,large');
    for (const m of this.modelList) if (m !== SPHINX_MODEL) resolveModelPath(m);
    // samples/ only when nothing was given: `--url mydir` transcribes mydir alone
    const given = [this.url, this.urls].filter(Boolean);
    if (!given.length) console.log('no --url or --urls: transcribing samples/');
    const resolved = await resolveSources(given.length ? given : ['samples']);
    for (const s of resolved.skipped) console.log(`skipping ${s.url}: ${s.reason}`);
    for (const f of resolved.failed) console.log(`failed: ${f.reason}`);
    this.tasks = resolved.tasks;
    console.log(`${this.tasks.length} video(s) × ${this.modelList.length} model(s): ${this.modelList.join(', ')}`);
    this.next(this.fetch, { foreach: 'tasks' });
  }

  /** One video: download it once for all models, and read its reference if it has one. */
  @step
  async fetch() {
    this.video = this.input;
    this.audioPath = await fetchAudio(this.video, path.join(current.datastoreRoot, 'downloads'));
    this.reference = this.video.referencePath && fs.existsSync(this.video.referencePath) ? fs.readFileSync(this.video.referencePath, 'utf8') : null;
    this.next(this.transcribe, { foreach: 'modelList' });
  }

  /**
   * One video × one model, with the task's cpus as threads. One cpu per task packs best on a
   * small machine (pocketsphinx is single-threaded; two 1-thread whisper tasks keep 2 cores as
   * busy as one 2-thread task); on a big node raise it, as the seed did (cpu 8 / 22).
   */
  @resources({ cpu: 1, memory: 4096 })
  @step
  async transcribe() {
    this.modelName = this.input;
    this.cpus = current.resources.cpu;
    const audio = await decodeAudio(this.audioPath);
    this.transcript = await getTranscriber(this.modelName).transcribe(audio, { threads: current.resources.cpu });
    console.log(`${this.video.title} × ${this.modelName}: ${this.transcript.wallSeconds.toFixed(2)} s, rtf ${this.transcript.rtf.toFixed(2)}`);
    this.next(this.compare);
  }

  /** Per video: quality and speed of each model, and the word diff of the smallest vs the largest. */
  @card({ type: 'blank', id: 'comparison' })
  @step
  async compare(inputs: Inputs) {
    this.mergeArtifacts(inputs, { include: ['video', 'reference', 'audioPath', 'modelList', 'tasks'] });
    const byModel = inputs.map((i) => ({ model: i.modelName as string, transcript: i.transcript as Transcript, cpus: i.cpus as number }));
    ({ rows: this.comparison, diff: this.diff } = compareModels(this.video, this.reference, byModel));
    current.card.append(new ModelComparison(this.comparison, { pricePerCpuHour: this.cpuPrice, title: `${this.video.title}: model sizes compared` }));
    if (this.diff) current.card.append(new TranscriptSideBySide({ title: `${this.diff.large} vs ${this.diff.small}`, ...this.diff }));
    this.next(this.postjoin);
  }

  /** Over all videos: one table of video × model. */
  @card({ type: 'blank', id: 'comparison' })
  @step
  async postjoin(inputs: Inputs) {
    this.mergeArtifacts(inputs, { include: ['modelList', 'tasks'] });
    this.table = inputs.flatMap((i) => i.comparison as ComparisonRow[]);
    this.diffs = inputs.filter((i) => i.diff).map((i) => ({ title: (i.video as TranscriptionTask).title, ...(i.diff as { small: string; large: string; ops: AlignOp[] }) }));
    current.card.append(new ModelComparison(this.table, { pricePerCpuHour: this.cpuPrice, title: 'All videos × models' }));
    this.next(this.end);
  }

  @card({ type: 'timeline', id: 'timeline' })
  @card({ type: 'resources', id: 'resources' })
  @step
  async end() {
    const fmt = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
    console.log(['video', 'model', 'WER', 'disagreement', 'wall s', 'rtf', 'note'].join('\t'));
    for (const r of this.table) {
      const vs = r.comparedWith ? ` vs ${r.comparedWith}` : '';
      console.log([r.title, r.model, fmt(r.wer), `${fmt(r.disagreement)}${vs}`, r.wallSeconds.toFixed(2), r.rtf.toFixed(2), r.note].join('\t'));
    }
  }
}
