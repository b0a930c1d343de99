// The public surface of flowbook: authoring, the client, card components, errors.
export { FlowSpec, type Inputs, type InputView } from './flow/flowspec.js';
export { step, resources, kubernetes, retry, timeout, catchErrors, card, schedule } from './flow/decorators.js';
export type { ResourcesSpec, KubernetesSpec, RetrySpec, TimeoutSpec, CatchSpec, CardSpec, ScheduleSpec } from './flow/decorators.js';
export { param, type ParamOptions } from './flow/params.js';
export { current } from './flow/current.js';
export * from './client/index.js';
export { Markdown, Table, Image, ProgressBar, Artifact, Error, type CardComponent } from './cards/components.js';
export { VegaLite } from './cards/vega.js';
export { WordCloud } from './cards/builtin/wordcloud.js';
export { EmbeddingPlot, type EmbeddingPoint } from './cards/builtin/embedding.js';
export { ModelComparison, type ComparisonInput, type ComparisonOptions } from './cards/builtin/comparison.js';
export { defineCardType, type CardTypeDefinition, type CardTask, type CardComponents } from './cards/card-types.js';
export { TranscriptSideBySide, type SideBySideInput } from './cards/builtin/side-by-side.js';
export { RunTimeline } from './cards/builtin/timeline.js';
export { ResourceReport, resourceAdvice, taskUse, stepUsage, type StepAdvice, type StepUsage, type TaskUse, type Verdict } from './cards/builtin/resources.js';
export * from './errors.js';
export type { ForeachFrame, ResourceUse, RunMeta, ArtifactRef } from './datastore/metadata.js';
