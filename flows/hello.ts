// The smallest real flow: start → foreach over a list → join → end.
//   npx flowbook run flows/hello.ts --names '["Ada","Grace","Alan"]'
import { FlowSpec, step, param, type Inputs } from 'flowbook';

export class HelloFlow extends FlowSpec {
  names = param.json<string[]>('names', { default: ['Ada', 'Grace', 'Alan'], help: 'who to greet (a JSON list)' });
  greeting = param.string('greeting', { default: 'Hello', help: 'the word to greet with' });

  people!: string[];
  message!: string;
  messages!: string[];

  /** Pick the people to greet. */
  @step
  async start() {
    this.people = [...this.names];
    console.log(`greeting ${this.people.length} people`);
    this.next(this.greet, { foreach: 'people' });
  }

  /** One task per person. */
  @step
  async greet() {
    this.message = `${this.greeting}, ${this.input}!`;
    console.log(this.message);
    this.next(this.join);
  }

  /** Collect the messages in foreach order. */
  @step
  async join(inputs: Inputs) {
    this.messages = inputs.map((i) => i.message as string);
    this.mergeArtifacts(inputs, { exclude: ['message'] });
    this.next(this.end);
  }

  @step
  async end() {
    console.log(this.messages.join('\n'));
  }
}
