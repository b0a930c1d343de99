// current.card: what a step appends to its cards while it runs. Cards are rendered in the task's
// own process when the task ends and stored beside the task (one root for writer and client);
// refresh() writes a live version for the card server while the task is still running.
import type { CardSpec } from '../flow/decorators.js';
import type { CardComponent } from './components/component.js';

export interface CardHandle {
  append(c: CardComponent): void;
  extend(cs: CardComponent[]): void;
  clear(): void;
  /** write this card as it is now, so `card server` shows the task's progress */
  refresh(): void;
  readonly components: CardComponent[];
}

export class CardCollector {
  readonly cards: { spec: CardSpec; handle: CardHandle }[];
  /** set by the task runner: writes a live card (throttled) */
  onRefresh?: (h: CardHandle) => void;
  constructor(specs: CardSpec[]) {
    this.cards = specs.map((spec) => ({ spec, handle: this.handle() }));
  }
  private handle(): CardHandle {
    const components: CardComponent[] = [];
    const h: CardHandle = {
      components,
      append: (c) => void components.push(c),
      extend: (cs) => void components.push(...cs),
      clear: () => void components.splice(0),
      refresh: () => this.onRefresh?.(h),
    };
    return h;
  }
  /** the card appended to by default: the first without an id (Metaflow's editable card) */
  private get main(): CardHandle {
    return (this.cards.find((c) => !c.spec.id) ?? this.cards[0]).handle;
  }
  append(c: CardComponent): void {
    this.main.append(c);
  }
  extend(cs: CardComponent[]): void {
    this.main.extend(cs);
  }
  clear(): void {
    this.main.clear();
  }
  refresh(): void {
    this.main.refresh();
  }
  get(id: string): CardHandle {
    const c = this.cards.find((x) => x.spec.id === id);
    if (!c) throw new Error(`no card with id '${id}' on this step (ids: ${this.cards.map((x) => x.spec.id ?? '(none)').join(', ')})`);
    return c.handle;
  }
}
