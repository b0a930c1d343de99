// The public surface of flowbook (DESIGN.md): authoring, the client, card components and card
// types, errors, the metadata types. Nothing else: internals that tests, benches and the
// notebook helpers share are in internal.ts ('flowbook/internal'), which promises nothing.
export { FlowSpec, type Inputs, type InputView } from './flow/flowspec.js';
export { step, resources, kubernetes, retry, timeout, catchErrors, card, cache, schedule } from './flow/decorators.js';
export type { ResourcesSpec, KubernetesSpec, RetrySpec, TimeoutSpec, CatchSpec, CardSpec, CacheSpec, ScheduleSpec } from './flow/decorators.js';
export { param, type ParamOptions } from './flow/params.js';
export { current } from './flow/current.js';
export * from './client/index.js';
export { Markdown, Table, Image, ProgressBar, Artifact, Error, type CardComponent } from './cards/index.js';
export { VegaLite, WordCloud, EmbeddingPlot, ModelComparison, TranscriptSideBySide, RunTimeline, ResourceReport } from './cards/index.js';
export type { EmbeddingPoint, ComparisonInput, ComparisonOptions, SideBySideInput } from './cards/index.js';
export { defineCardType, type CardTypeDefinition, type CardTask, type CardComponents } from './cards/index.js';
export * from './errors.js';
export type { ForeachFrame, ResourceUse, RunMeta, ArtifactRef } from './datastore/metadata.js';
