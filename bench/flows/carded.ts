import { FlowSpec, step, card } from 'flowbook';

// TrivialFlow with the default card on both steps: the difference is what a card costs a task.
export class CardedFlow extends FlowSpec {
  @card() @step async start() { this.next(this.end); }
  @card() @step async end() {}
}
