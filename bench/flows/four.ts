import { FlowSpec, step } from 'flowbook';

// start → a → b → end; b fails while FOUR_FAIL is set, so the bench can resume it.
export class FourStepFlow extends FlowSpec {
  x!: number;
  @step async start() { this.x = 1; this.next(this.a); }
  @step async a() { this.x += 1; this.next(this.b); }
  @step async b() {
    if (process.env.FOUR_FAIL) throw new Error('b fails on purpose');
    this.x *= 3;
    this.next(this.end);
  }
  @step async end() {}
}
