// The advice for the steps judged wrong: their tasks' warnings and the decorator that fits what
// was measured — what the resources card shows and resourceReport() returns in a notebook.
import { stepUsage, type TaskUse } from './right-size.js';

export interface StepAdvice {
  step: string;
  tasks: number;
  warnings: string[];
  current: { cpu: number; memory: number };
  recommended: { cpu: number; memory: number };
  /** undefined when no decorator fits what was measured (a local slot smaller than @resources) */
  decorator?: string;
  /** the step's one sentence: where it ran, against what, and what to do (as `flowbook advise`) */
  advice: string;
}

/** Per step judged wrong (see right-size.ts): its tasks' warnings, and the change that fits what was measured. */
export function resourceAdvice(uses: TaskUse[]): StepAdvice[] {
  return stepUsage(uses)
    .filter((u) => u.verdict !== 'ok')
    .map((u) => {
      const warnings = uses.filter((t) => t.step === u.step).flatMap((t) => t.warnings);
      // a local slot that was the request: the same values fit a pod's @kubernetes
      const decorator = u.decorator && u.where === 'local' ? `${u.decorator}  or  ${u.decorator.replace('@resources', '@kubernetes')}` : u.decorator;
      return { step: u.step, tasks: u.tasks, warnings, current: u.requested, recommended: u.recommended, ...(decorator ? { decorator } : {}), advice: u.advice };
    });
}
