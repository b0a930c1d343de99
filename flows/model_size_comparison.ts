// The Kubernetes article's flow: the same videos through several model sizes, compared on
// quality (WER against a reference transcript `<clip>.txt`, or, without one, disagreement with
// the largest model that produced text), latency and real-time factor.
//
//   npx flowbook run flows/model_size_comparison.ts --urls samples --models sphinx-en-us,tiny.en
import fs from 'node:fs';
import path from 'node:path';
import { FlowSpec, step, param, resources, card, cache, current, ModelComparison, TranscriptSideBySide, type Inputs } from 'flowbook';
import {
  resolveSources, fetchAudio, decodeAudio, getTranscriber, findModel, resolveModelPath, compareModels, SPHINX_MODEL, transcriptionCacheKey, type TranscriptionTask, type Transcript, type ComparisonRow,
} from 'flowbook/transcribe';
import type { AlignOp } from 'flowbook/text';

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
   * busy as one 2-thread task); on a big node raise it, as the seed did (cpu 8 / 22). Never
   * twice: @cache reuses an earlier transcription of the same source, engine and model file, so
   * adding a model to a finished comparison transcribes only with the new one.
   */
  @cache({ key: (self: ModelSizeComparison) => transcriptionCacheKey(self.video, self.input) })
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
