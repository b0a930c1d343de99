// Every component class in one object: the set a card type's render receives (its second
// argument), so a project's card type needs no import of flowbook. Adding a component to the
// folder means adding it here too.
import * as basic from './basic.js';
import { VegaLite } from './vega-lite.js';
import { WordCloud } from './word-cloud.js';
import { EmbeddingPlot } from './embedding-plot.js';
import { ModelComparison } from './model-comparison.js';
import { TranscriptSideBySide } from './transcript-side-by-side.js';
import { RunTimeline } from './run-timeline.js';
import { ResourceReport } from './resource-report.js';

/** Every component class, handed to a card type's render (no import of flowbook needed). */
export const cardComponents = { ...basic, VegaLite, WordCloud, EmbeddingPlot, ModelComparison, TranscriptSideBySide, RunTimeline, ResourceReport };
export type CardComponents = typeof cardComponents;
