// Node module hooks (module.register) that let `import('./flow.ts')` work: TypeScript is
// transformed with esbuild (standard decorators lowered for Node 20) and the output is cached
// by the source's sha256, so a warm start never loads esbuild at all.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TRANSFORM_VERSION = '1';
const TS_EXT = /\.(ts|mts|cts|tsx)$/;

function cacheDir(): string {
  return path.join(process.env.FLOWBOOK_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'flowbook'), 'ts');
}

let esbuild: typeof import('esbuild') | undefined;

async function transform(file: string, source: string): Promise<string> {
  const sha = crypto.createHash('sha256').update(TRANSFORM_VERSION).update(file).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir(), `${sha}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    /* miss */
  }
  esbuild ??= await import('esbuild');
  const out = await esbuild.transform(source, {
    loader: file.endsWith('x') ? 'tsx' : 'ts',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: file,
    tsconfigRaw: { compilerOptions: { experimentalDecorators: false, useDefineForClassFields: true, verbatimModuleSyntax: false } },
  });
  try {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out.code);
    fs.renameSync(tmp, cached);
  } catch {
    /* a cache that cannot be written: compiled again next time */
  }
  return out.code;
}

type Next = (specifier: string, context?: any) => Promise<any>;

export async function resolve(specifier: string, context: { parentURL?: string }, next: Next): Promise<any> {
  const parent = context.parentURL;
  if (parent?.startsWith('file:') && TS_EXT.test(parent) && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    // TypeScript convention: `import './x.js'` means ./x.ts when only that exists
    const base = fileURLToPath(new URL(specifier, parent));
    if (!fs.existsSync(base)) {
      const candidates = specifier.endsWith('.js') ? [base.slice(0, -3) + '.ts'] : [base + '.ts', path.join(base, 'index.ts')];
      for (const c of candidates) if (fs.existsSync(c)) return { url: pathToFileURL(c).href, shortCircuit: true };
    }
  }
  try {
    return await next(specifier, context);
  } catch (err: any) {
    // a flow outside any project that depends on flowbook still gets this flowbook
    if (specifier === 'flowbook' && err?.code === 'ERR_MODULE_NOT_FOUND') {
      return { url: new URL('../index.js', import.meta.url).href, shortCircuit: true };
    }
    throw err;
  }
}

export async function load(url: string, context: any, next: Next): Promise<any> {
  if (url.startsWith('file:') && TS_EXT.test(new URL(url).pathname)) {
    const file = fileURLToPath(url);
    const source = fs.readFileSync(file, 'utf8');
    return { format: 'module', source: await transform(file, source), shortCircuit: true };
  }
  return next(url, context);
}
