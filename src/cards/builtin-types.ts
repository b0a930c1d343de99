// flowbook's own card types, each a small module in types/ defined with the same
// defineCardType() a project uses for its own (card-types.ts).
import type { CardTypeDefinition } from './define.js';
import defaultType from './types/default.js';
import blank from './types/blank.js';
import timeline from './types/timeline.js';
import resources from './types/resources.js';

export const BUILTIN_CARD_TYPES: CardTypeDefinition[] = [defaultType, blank, timeline, resources];
