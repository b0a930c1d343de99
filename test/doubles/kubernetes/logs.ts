// One container's log as the kubelet keeps it: stdout and stderr interleaved in arrival order,
// each chunk stamped with its arrival time (for sinceSeconds/timestamps), plus subscribers for
// `follow=true` and an end marker once the container's output is closed.

export interface LogOptions {
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  limitBytes?: number;
  timestamps?: boolean;
}

export class LogBuffer {
  private chunks: { t: number; data: Buffer }[] = [];
  ended = false;
  private subs = new Set<(c: { t: number; data: Buffer } | null) => void>();

  push(data: Buffer) {
    if (this.ended) return;
    const c = { t: Date.now(), data };
    this.chunks.push(c);
    for (const fn of [...this.subs]) fn(c);
  }
  end() {
    if (this.ended) return;
    this.ended = true;
    for (const fn of [...this.subs]) fn(null);
    this.subs.clear();
  }
  text(): string {
    return Buffer.concat(this.chunks.map((c) => c.data)).toString('utf8');
  }

  /**
   * Stream the log as the kubelet does: existing content filtered by the options, then (follow)
   * every new chunk until the container's output ends. Returns an unsubscribe function.
   */
  stream(opts: LogOptions, follow: boolean, write: (s: Buffer) => void, end: () => void): () => void {
    let budget = opts.limitBytes && opts.limitBytes > 0 ? opts.limitBytes : Infinity;
    let atLineStart = true;
    const since = opts.sinceTime ? Date.parse(opts.sinceTime) : opts.sinceSeconds ? Date.now() - opts.sinceSeconds * 1000 : 0;
    let done = false;
    let unsub = () => {};
    const finish = () => {
      if (!done) {
        done = true;
        unsub();
        end();
      }
    };
    const emit = (t: number, data: Buffer) => {
      let out = data;
      if (opts.timestamps) {
        const ts = new Date(t).toISOString().replace('Z', '000000Z') + ' ';
        const s = data.toString('utf8').replace(/[^\n]*\n|[^\n]+$/g, (line) => {
          const r = (atLineStart ? ts : '') + line;
          atLineStart = line.endsWith('\n');
          return r;
        });
        out = Buffer.from(s);
      }
      if (out.length > budget) out = out.subarray(0, budget);
      budget -= out.length;
      if (out.length) write(out);
      if (budget <= 0) finish();
    };
    let existing = this.chunks.filter((c) => c.t >= since);
    if (opts.tailLines !== undefined && opts.tailLines >= 0) existing = tail(existing, opts.tailLines);
    for (const c of existing) if (!done) emit(c.t, c.data);
    if (done) return unsub;
    if (!follow || this.ended) {
      finish();
      return unsub;
    }
    const fn = (c: { t: number; data: Buffer } | null) => (c ? emit(c.t, c.data) : finish());
    this.subs.add(fn);
    unsub = () => this.subs.delete(fn);
    return () => {
      done = true;
      unsub();
    };
  }
}

/** The chunks that hold the last n lines (a trailing partial line counts as a line, as in the kubelet). */
function tail(chunks: { t: number; data: Buffer }[], n: number): { t: number; data: Buffer }[] {
  if (n === 0) return [];
  const out: { t: number; data: Buffer }[] = [];
  let lines = 0;
  for (let i = chunks.length - 1; i >= 0; i--) {
    const d = chunks[i].data;
    for (let j = d.length - 1; j >= 0; j--) {
      // a newline that ends the whole log does not start a new line
      if (d[j] === 0x0a && !(i === chunks.length - 1 && j === d.length - 1)) {
        if (++lines === n) {
          out.unshift({ t: chunks[i].t, data: d.subarray(j + 1) });
          return out;
        }
      }
    }
    out.unshift(chunks[i]);
  }
  return out;
}
