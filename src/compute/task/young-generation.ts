// The young generation of flowbook's own processes (the runner's CLI and a warm worker turn this
// on, run-task.ts wraps the step). V8 grows it (up to 16 MiB semi-spaces) when a process allocates
// fast, and never gives it back while the process lives: over thousands of short tasks flowbook's
// own per-task garbage (a spec, records, a result) grew every worker by ~40 MiB. So flowbook's own
// code runs with growth off, and a step's code with V8's default: what the user's
// code allocates gets the young generation it would get anywhere, and a worker that only ran small
// tasks stays at V8's initial 1 MiB semi-spaces. (A V8 flag set at run time; it affects only the
// decisions V8 makes after it is set.)
import v8 from 'node:v8';

const V8_DEFAULT_GROWTH = 2;

/** flowbook's own code in this process (a runner, a warm worker before its first task) does not grow the young generation. */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  enabled = true;
}

let enabled = false;

/** Run a step's code with V8's default young-generation growth (in a warm worker). */
export async function withDefaultYoungGeneration<T>(step: () => Promise<T>): Promise<T> {
  if (!enabled) return step();
  v8.setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
  try {
    return await step();
  } finally {
    v8.setFlagsFromString('--semi-space-growth-factor=1');
  }
}
