// What `flowbook init` writes into a user's project. Kept as strings so they ship inside dist/
// with the command; test/e2e/own_project.test.ts type-checks and runs them in a fresh project.

/** The starter flow: a parameter, a foreach over a list it makes, a join, and an end. */
export const STARTER_FLOW = `// A starter flow: a parameter, a foreach (one task per item) and a join.
//   npx flowbook show flows/hello.ts        the graph and the parameters
//   npx flowbook run flows/hello.ts --branches 5
import { FlowSpec, step, param, type Inputs } from 'flowbook';

export class HelloFlow extends FlowSpec {
  branches = param.int('branches', { default: 3, help: 'how many greet tasks the foreach starts' });
  greeting = param.string('greeting', { default: 'Hello', help: 'the word to greet with' });

  // artifacts are plain fields: every value assigned in a step is stored and versioned
  names!: string[];
  message!: string;
  length!: number;
  messages!: string[];
  totalLength!: number;

  /** Make the list the foreach runs over. */
  @step
  async start() {
    if (this.branches < 1) throw new Error('--branches must be at least 1');
    this.names = Array.from({ length: this.branches }, (_, i) => \`world \${i + 1}\`);
    this.next(this.greet, { foreach: 'names' });
  }

  /** One task per name: this.input is the item, this.index its position. */
  @step
  async greet() {
    this.message = \`\${this.greeting}, \${this.input}!\`;
    this.length = this.message.length;
    console.log(this.message);
    this.next(this.join);
  }

  /** The join sees every greet task, in foreach order. */
  @step
  async join(inputs: Inputs) {
    this.messages = inputs.map((i) => i.message as string);
    this.totalLength = inputs.reduce((sum, i) => sum + (i.length as number), 0);
    this.mergeArtifacts(inputs, { exclude: ['message', 'length'] });
    this.next(this.end);
  }

  @step
  async end() {
    console.log(\`\${this.messages.length} messages, \${this.totalLength} characters\`);
  }
}
`;

/**
 * Compiler settings that type-check flows the way flowbook runs them: ES modules resolved through
 * package exports ('flowbook', 'flowbook/notebook'), and standard (TC39) decorators, which is
 * what TypeScript 5 uses when experimentalDecorators is off.
 */
export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      experimentalDecorators: false,
      useDefineForClassFields: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ['flows/**/*.ts'],
  },
  null,
  2,
)}\n`;

const code = (source: string) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: lines(source) });
const markdown = (source: string) => ({ cell_type: 'markdown', metadata: {}, source: lines(source) });
const lines = (s: string) => s.split(/(?<=\n)/);

/** A notebook on the flowbook (tslab) kernel that reads the starter flow's latest run. */
export function starterNotebook(withDataFrames: boolean): string {
  const cells = [
    markdown(
      '# HelloFlow: read its runs\n\nRun the flow first (`npx flowbook run flows/hello.ts`), then run these cells. ' +
        'The notebook reads the same datastore: the nearest `.flowbook` folder above it.',
    ),
    code("import { Flow } from 'flowbook';\nimport { show } from 'flowbook/notebook';"),
    code("const run = (await Flow('HelloFlow').latestSuccessfulRun)!;\nconsole.log(run.pathspec, run.params);"),
    code('console.log(await run.data.messages, await run.data.totalLength);'),
    withDataFrames
      ? markdown('One row per `greet` task (a danfo DataFrame of its scalar artifacts):')
      : markdown('One row per `greet` task (an Arrow table of its scalar artifacts; `toDataFrame()` needs the dataframes peer: `npx flowbook init --dataframes-only && npm install`):'),
    code(withDataFrames ? "await show(await run.step('greet').toDataFrame());" : "await show(await run.step('greet').toArrow());"),
  ];
  const nb = {
    // nbformat 4.5 wants an id per cell
    cells: cells.map((c, i) => ({ id: `hello-${i + 1}`, ...c })),
    metadata: {
      kernelspec: { name: 'flowbook', display_name: 'flowbook (TypeScript)', language: 'typescript' },
      language_info: { name: 'typescript', file_extension: '.ts', mimetype: 'text/typescript' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(nb, null, 1)}\n`;
}
