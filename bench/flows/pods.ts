import { FlowSpec, step, param, kubernetes, type Inputs } from 'flowbook';

// n trivial tasks as pods (the rest local): bench/kubernetes.mjs times n = 2 and n = 8 one pod at
// a time, so the difference is what each pod task costs.
export class PodsFlow extends FlowSpec {
  n = param.int('n', { default: 2 });
  xs!: number[];
  y!: number;
  @step async start() {
    this.xs = Array.from({ length: this.n }, (_, i) => i);
    this.next(this.work, { foreach: 'xs' });
  }
  @kubernetes({ cpu: 1, memory: 512 })
  @step async work() {
    this.y = this.input * 2;
    this.next(this.join);
  }
  @step async join(inputs: Inputs) {
    this.y = inputs.length;
    this.next(this.end);
  }
  @step async end() {}
}
