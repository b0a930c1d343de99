// danfojs-node is an optional peer dependency: it installs only with npm `overrides` (its `xlsx`
// comes from a CDN, its `@tensorflow/tfjs-node` builds native code), and overrides apply in the
// root project only, so a user's project opts in (`flowbook init` writes both) instead of every
// install of flowbook failing. Everything that needs DataFrames loads it through here.
import { FlowbookError } from './errors.js';

/** The command that sets the peer up in the user's project. */
export const DATAFRAMES_SETUP = 'npx flowbook init --dataframes-only && npm install';

/** The version range `init` installs (keep in step with package.json peerDependencies). */
export const DANFO_RANGE = '^1.2.0';

/** The npm overrides danfojs-node needs to install offline and without native builds. */
export const DANFO_OVERRIDES: Record<string, string> = {
  xlsx: 'npm:@e965/xlsx@0.20.3',
  '@tensorflow/tfjs-node': 'npm:@tensorflow/tfjs@3.21.0',
};

/** An optional peer dependency that a feature needs is not installed. */
export class MissingDependencyError extends FlowbookError {}

let danfo: Promise<any> | undefined;

/** danfojs-node (its default export), or a one-line error naming the command that installs it. */
export function importDanfo(): Promise<any> {
  danfo ??= import('danfojs-node').then(
    (m: any) => m.default ?? m,
    (err: any) => {
      danfo = undefined;
      const missing = err?.code === 'ERR_MODULE_NOT_FOUND' && /['"]danfojs-node['"]/.test(String(err?.message));
      throw missing
        ? new MissingDependencyError(`DataFrames need danfojs-node, an optional peer dependency of flowbook that this project does not have: run \`${DATAFRAMES_SETUP}\``, { cause: err })
        : new MissingDependencyError(`danfojs-node failed to load (${String(err?.message ?? err).split('\n')[0]}): run \`${DATAFRAMES_SETUP}\` to install it with the overrides it needs`, { cause: err });
    },
  );
  return danfo;
}
