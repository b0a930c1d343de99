import { FlowSpec, step } from 'flowbook';

export class TrivialFlow extends FlowSpec {
  @step async start() { this.next(this.end); }
  @step async end() {}
}
