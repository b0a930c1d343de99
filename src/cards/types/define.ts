// defineCardType() and what a card type receives: kept apart from the catalog (catalog.ts) so
// that flowbook's own types (default.ts, blank.ts, …) and a project's can import it without a cycle.
import type { ResourceUse, TaskDone } from '../../datastore/metadata.js';
import type { FlowDatastore } from '../../datastore/store.js';
import type { CardComponent } from '../components/component.js';
import type { CardComponents } from '../components/all.js';

/** The task a card is rendered for. */
export interface CardTask {
  pathspec: string;
  flowName: string;
  runId: string;
  step: string;
  id: string;
  /** the run's parameters (secrets replaced) */
  params: Record<string, unknown>;
  /** the task's artifacts, read when awaited: `await task.data.transcript` */
  data: Record<string, Promise<unknown>>;
  /** the names of its artifacts */
  artifacts: string[];
  resources?: ResourceUse;
  startedAt: string;
  finishedAt: string;
}

/** What flowbook's own types need besides the task (not part of the public contract). */
export interface CardInternals {
  store: FlowDatastore;
  done: TaskDone;
}

export interface CardTypeDefinition {
  /** the name @card({ type }) uses: lowercase letters, digits, '-' or '_' */
  type: string;
  /** one line for `flowbook card types` */
  description?: string;
  render(task: CardTask, c: CardComponents, internals: CardInternals): CardComponent[] | Promise<CardComponent[]>;
}

const MARK = Symbol.for('flowbook.cardType');
export const CARD_TYPE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/** Declare a card type (in a module of your project's `cards/` folder). */
export function defineCardType(def: CardTypeDefinition): CardTypeDefinition {
  if (!def || typeof def.type !== 'string' || !CARD_TYPE_NAME.test(def.type)) {
    throw new TypeError(`defineCardType: type ${JSON.stringify(def?.type)} must be lowercase letters, digits, '-' or '_', starting with a letter`);
  }
  if (typeof def.render !== 'function') throw new TypeError(`defineCardType('${def.type}'): render must be a function (task, components) => components[]`);
  return Object.defineProperty({ ...def }, MARK, { value: true });
}

export const isCardType = (v: unknown): v is CardTypeDefinition => !!v && typeof v === 'object' && (v as any)[MARK] === true;
