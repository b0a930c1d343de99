#!/usr/bin/env node
// The "flowbook (TypeScript)" kernel: tslab 1.0, plus what IPython does and tslab does not — a
// failing cell's error reaches Jupyter as an error (its name, message and stack in the cell's
// `error` output and in the execute reply), and `stop_on_error: false` is honoured. tslab prints the thrown value to stderr and replies
// `status: "error"` with no ename/evalue, so Jupyter showed "<Error>:" with no message.
//
// How the error is caught without changing tslab: a cell runs as
// `vm.runInThisContext("(async function(exports, require) { …")`, so the wrapper of that call sees
// what the cell threw (or the promise it rejected with); compile errors are the diagnostics tslab
// prints with one format string. Both are kept per execution count and added to the reply.
// Usage (kernel.json): node tslab-kernel.cjs kernel --config-path {connection_file}
'use strict';
const path = require('node:path');
const vm = require('node:vm');
const util = require('node:util');

const tslab = path.dirname(require.resolve('tslab/package.json'));
const jupyter = require(path.join(tslab, 'dist/jupyter.js'));

/** what failed in the cell running now */
let failure = { thrown: undefined, threw: false, printed: false, diagnostics: [] };

// tslab wraps each cell's JavaScript in one of these before running it
const CELL = /^\((?:async )?function\(exports, require\) \{ /;
const runInThisContext = vm.runInThisContext;
vm.runInThisContext = function (code, options) {
  if (typeof code !== 'string' || !CELL.test(code)) return runInThisContext.call(this, code, options);
  const seen = (e) => Object.assign(failure, { thrown: e, threw: true, printed: false });
  let ret;
  try {
    ret = runInThisContext.call(this, code, options);
  } catch (e) {
    seen(e);
    throw e;
  }
  // attached before tslab awaits it, so this runs first
  if (ret && typeof ret.then === 'function') ret.then(undefined, seen);
  return ret;
};

// tslab's executor keeps the console.error it is given at start: replaced before the kernel starts
const consoleError = console.error;
console.error = function (...args) {
  if (args[0] === '%s%d:%d - %s') {
    failure.diagnostics.push(util.format(...args));
    return; // shown in the error output instead
  }
  // tslab printing what the cell threw: the error output shows it (once)
  if (args.length === 1 && failure.threw && !failure.printed && args[0] === failure.thrown) {
    failure.printed = true;
    return;
  }
  return consoleError.apply(this, args);
};

const INTERNAL = /node_modules[\\/]tslab[\\/]|tslab-kernel\.cjs|\(node:/;

/** ename, evalue and traceback for what the cell threw, as IPython reports a Python exception. */
function describe(f) {
  if (!f.threw) {
    if (f.diagnostics.length) return { ename: 'TSError', evalue: f.diagnostics.join('; '), traceback: f.diagnostics };
    return { ename: 'Error', evalue: 'the cell failed (interrupted, or see its output)', traceback: [] };
  }
  const e = f.thrown;
  if (!(e instanceof Error) && !(e && typeof e === 'object' && typeof e.message === 'string')) {
    const text = util.inspect(e);
    return { ename: 'Uncaught', evalue: text, traceback: [`Uncaught ${text}`] };
  }
  const ename = String(e.name || e.constructor?.name || 'Error');
  const evalue = String(e.message);
  const frames = String(e.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l) && !INTERNAL.test(l));
  const traceback = [`\u001b[31m${ename}\u001b[0m: ${evalue}`, ...frames];
  for (let c = e.cause, depth = 0; c !== undefined && depth < 5; c = c?.cause, depth++) {
    traceback.push(`caused by: ${c instanceof Error ? `${c.name}: ${c.message}` : util.inspect(c)}`);
  }
  return { ename, evalue, traceback };
}

const Handler = jupyter.JupyterHandlerImpl.prototype;
const failures = new Map();
const handleExecuteImpl = Handler.handleExecuteImpl;
Handler.handleExecuteImpl = async function (...args) {
  failure = { thrown: undefined, threw: false, printed: false, diagnostics: [] };
  try {
    return await handleExecuteImpl.apply(this, args);
  } catch (e) {
    // tslab throws its ExecutionCount to fail the cell
    if (e && typeof e.count === 'number') failures.set(e.count, describe(failure));
    throw e;
  }
};
const handleExecute = Handler.handleExecute;
Handler.handleExecute = async function (...args) {
  // after an error tslab cancels what is queued for 200 ms (its queue stays failed until reset);
  // the protocol asks for that only with stop_on_error, and nbconvert --allow-errors sends false:
  // then the queue is reset at once, and the next cells run
  const keepQueue = args[0]?.stop_on_error === false;
  const queue = this.execQueue;
  const reset = queue.reset;
  if (keepQueue) queue.reset = () => reset.call(queue);
  let content;
  try {
    content = await handleExecute.apply(this, args);
  } finally {
    if (keepQueue) delete queue.reset;
  }
  const error = content.status === 'error' ? failures.get(content.execution_count) : undefined;
  failures.delete(content.execution_count);
  return error ? { ...content, ...error } : content;
};

// the error output goes out on iopub before the reply, as ipykernel sends it
const Server = jupyter.ZmqServer.prototype;
Server.handleExecute = async function (sock, msg) {
  const send = (type, content, to = this.iopub) => {
    const m = msg.createReply();
    m.header.msg_type = type;
    m.content = content;
    m.signAndSend(this.connInfo.key, to);
  };
  const writeStream = (name, text) => send('stream', { name, text });
  const writeDisplayData = (data, update) => send(update ? 'update_display_data' : 'display_data', data);
  const content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);
  if (content.status === 'error' && content.ename) send('error', { ename: content.ename, evalue: content.evalue, traceback: content.traceback });
  send('execute_reply', content, sock);
};

// A cell's last value: tslab prints it with the console.log it is given at start (text, so a
// DataFrame was danfo's internals). A table, or anything with flowbook's display method, goes out
// as display_data instead: the HTML table `show()` gives, with its text table as text/plain.
// flowbook's display module is ESM: loaded before the kernel starts (see the end of this file).
let display;
const consoleLog = console.log;
function printLastValue(...args) {
  let bundle;
  if (args.length === 1 && display && jupyter.lastWriteDisplayData) {
    try {
      bundle = display.mimeBundle(args[0]);
    } catch (e) {
      consoleError('flowbook: cannot display the value as a table:', e);
    }
  }
  if (!bundle) return consoleLog.apply(console, args);
  jupyter.lastWriteDisplayData({ data: bundle, metadata: {}, transient: {} }, false);
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--config-path');
if (argv[0] !== 'kernel' || at < 0 || !argv[at + 1]) {
  process.stderr.write('usage: tslab-kernel.cjs kernel --config-path CONNECTION_FILE\n');
  process.exit(2);
}
const displayModule = require('node:url').pathToFileURL(path.join(__dirname, '..', 'dist', 'notebook', 'display.js')).href;
import(displayModule)
  .then((m) => (display = m))
  .catch((e) => consoleError(`flowbook: tables print as text (${displayModule}: ${e.message}; run npm run build)`))
  .then(() => {
    // this tslab (patched above), not one found near the notebook; its executor keeps the
    // console.log it is given here for the last value, and cells keep the real one
    console.log = printLastValue;
    try {
      require(path.join(tslab, 'dist/main.js')).startKernel({ configPath: argv[at + 1], enableFindLocal: false });
    } finally {
      console.log = consoleLog;
    }
  });
