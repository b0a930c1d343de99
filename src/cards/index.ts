// Cards: one self-contained HTML file per card, rendered in the task's own process. This file is
// the folder's public face (what 'flowbook' re-exports); the folder is laid out as
//
//   components/   what goes on a card: CardComponent (component.ts), the general components
//                 (basic.ts: Markdown, Table, Image, ProgressBar, Artifact, Error; vega-lite.ts)
//                 and flowbook's built-in charts and reports (WordCloud, EmbeddingPlot,
//                 ModelComparison, TranscriptSideBySide, RunTimeline, ResourceReport); all.ts
//                 gathers them into the set a card type's render receives.
//   types/        card types, what @card({ type }) puts on a card: defineCardType (define.ts), the
//                 built-in types (default, blank, timeline, resources) and their registry
//                 (builtin.ts), a project's own types (card-folders.ts, catalog.ts).
//   usage/        requested vs used, judged per step (right-size.ts): what the resources card,
//                 `flowbook advise` and resourceReport() in a notebook say.
//   the top       the rendering machinery: render.ts (a task's cards, live and final), html.ts
//                 (escaping, the page, its CSP), templates.ts (the top-level cards/ templates
//                 folder), vega-scripts.ts (the chart scripts a page carries), collector.ts
//                 (current.card), run-records.ts (a run's tasks for run-level cards), server.ts.
//
// Dependencies point one way: the top → types → components → html/templates; usage/ reads
// run-records.ts and is read by components/resource-report.ts. Nothing imports this file but
// src/index.ts, so it can never close a cycle.
export type { CardComponent } from './components/component.js';
export { Markdown, Table, Image, ProgressBar, Artifact, Error } from './components/basic.js';
export { VegaLite } from './components/vega-lite.js';
export { WordCloud } from './components/word-cloud.js';
export { EmbeddingPlot, type EmbeddingPoint } from './components/embedding-plot.js';
export { ModelComparison, type ComparisonInput, type ComparisonOptions } from './components/model-comparison.js';
export { TranscriptSideBySide, type SideBySideInput } from './components/transcript-side-by-side.js';
export { RunTimeline } from './components/run-timeline.js';
export { ResourceReport } from './components/resource-report.js';
export type { CardComponents } from './components/all.js';
export { defineCardType, type CardTypeDefinition, type CardTask } from './types/define.js';
