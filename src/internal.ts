// 'flowbook/internal': names flowbook's own tests, benches and tools share that are not its public
// surface (DESIGN.md): the requested-vs-used judgement behind the resources card and `flowbook
// advise`. Kept out of 'flowbook' so its index says only what users may rely on; these may change.
export { taskUse } from './cards/usage/task-use.js';
export { stepUsage, type StepUsage, type TaskUse, type Verdict } from './cards/usage/right-size.js';
export { resourceAdvice, type StepAdvice } from './cards/usage/advice.js';
