// The public surface of flowbook (DESIGN.md): authoring, the client, card components and card
// types, errors, the metadata types. Nothing else: internals that tests, benches and the
// notebook helpers share are in internal.ts ('flowbook/internal'), which promises nothing.
//
// Only `export { … } from` lines, every name spelled out (no `export *`): a prepared flow bundles
// this file and keeps only the names it uses (flow/prepare.ts), so a worker loads the card code
// only for a flow that draws cards and the client only for a flow that reads other runs.
export { FlowSpec, type Inputs, type InputView } from './flow/flowspec.js';
export { step, resources, kubernetes, retry, timeout, catchErrors, card, cache, schedule } from './flow/decorators.js';
export type { ResourcesSpec, KubernetesSpec, RetrySpec, TimeoutSpec, CatchSpec, CardSpec, CacheSpec, ScheduleSpec } from './flow/decorators.js';
export { param, type ParamOptions } from './flow/params.js';
export { current } from './flow/current.js';
export { Flow, Run, Step, Task, DataArtifact, flows, FlowObject, RunObject, StepObject, TaskObject, DataArtifactObject } from './client/index.js';
export { namespace, getNamespace, defaultNamespace, setDatastoreRoot, datastoreRoot, type DataFields, type RunData } from './client/index.js';
export { Markdown, Table, Image, ProgressBar, Artifact, Error, type CardComponent } from './cards/index.js';
export { VegaLite, WordCloud, EmbeddingPlot, ModelComparison, TranscriptSideBySide, RunTimeline, ResourceReport } from './cards/index.js';
export type { EmbeddingPoint, ComparisonInput, ComparisonOptions, SideBySideInput } from './cards/index.js';
export { defineCardType, type CardTypeDefinition, type CardTask, type CardComponents } from './cards/index.js';
export { FlowbookError, GraphError, ParamError, SerializationError, IntegrityError, NotFoundError, NameError, TaskFailedError, TimeoutError } from './errors.js';
export { MergeConflictError, ForeachError, FlowUsageError, FlowFileError, NotebookCellError, DatastoreError, KubernetesError } from './errors.js';
export type { ErrorInfo, FlowbookErrorOptions, NotFoundOptions, TaskFailedOptions, TimeoutOptions, KubernetesErrorOptions } from './errors.js';
export type { ForeachFrame, ResourceUse, RunMeta, ArtifactRef } from './datastore/metadata.js';
