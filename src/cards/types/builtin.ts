// The registry of flowbook's own card types, each a small module beside this one defined with
// the same defineCardType() a project uses for its own (catalog.ts adds those).
import type { CardTypeDefinition } from './define.js';
import defaultType from './default.js';
import blank from './blank.js';
import timeline from './timeline.js';
import resources from './resources.js';

export const BUILTIN_CARD_TYPES: CardTypeDefinition[] = [defaultType, blank, timeline, resources];
