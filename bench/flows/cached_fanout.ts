// bench/cache.mjs: a foreach of n trivial tasks whose step has @cache.
import { FlowSpec, step, param, cache, type Inputs } from 'flowbook';

export class CachedFanoutFlow extends FlowSpec {
  n = param.int('n', { default: 1000 });
  xs!: number[];
  y!: number;
  total!: number;
  @step async start() { this.xs = Array.from({ length: this.n }, (_, i) => i); this.next(this.work, { foreach: 'xs' }); }
  @cache @step async work() { this.y = this.input * 2; this.next(this.join); }
  @step async join(inputs: Inputs) { this.total = inputs.reduce((s, i) => s + i.y, 0); this.next(this.end); }
  @step async end() {}
}
