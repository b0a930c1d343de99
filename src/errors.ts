// Every error a user can see is one of these: a class per kind, one clear line in `message`,
// the underlying error in `cause`, and the fields a program needs to act on it (`pathspec`,
// `step`, `reason`…) so nobody has to parse the message. The CLI prints `message` alone (the
// stack with --debug). This file imports nothing: every layer throws these, so it sits below all.

/**
 * An error as a task recorded it (in its attempt record, in a run's outcome, in a @catchErrors
 * artifact): plain JSON, so it survives the process — or the pod — that threw it.
 */
export interface ErrorInfo {
  /** the thrown error's class name (`TypeError`, `TimeoutError`), or what flowbook saw happen to the task's process or pod (`OOMKilled`, `Unschedulable`, `PodEvicted`…) */
  type: string;
  message: string;
  stack?: string;
  /** file:line in the user's code where it was thrown */
  where?: string;
}

/** What every error's constructor takes besides its message. */
export interface FlowbookErrorOptions {
  /** the underlying error (kept as `cause`: `--debug` and programs see it, the one-line message does not repeat it) */
  cause?: unknown;
}

export class FlowbookError extends Error {
  /** process exit code the CLI uses for this kind of error */
  exitCode = 1;
  constructor(message: string, options?: FlowbookErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The flow's graph is invalid; message is `file:line: what is wrong`. */
export class GraphError extends FlowbookError {}

/** A parameter is unknown, missing or of the wrong type. */
export class ParamError extends FlowbookError {}

/** A value cannot be stored as an artifact (a function, a symbol, a class instance with no serializer...). */
export class SerializationError extends FlowbookError {}

/** A stored blob does not match its sha256. */
export class IntegrityError extends FlowbookError {}

export interface NotFoundOptions extends FlowbookErrorOptions {
  /** the flow, run, step, task or artifact that is missing (`Flow`, `Flow/run`, `Flow/run/step[/task[/artifact]]`), when the error is about one */
  pathspec?: string;
}

/** A pathspec, run, step, task or artifact does not exist. */
export class NotFoundError extends FlowbookError {
  /** what was looked for and is not there; undefined when the error is about something else (a datastore key, "no runs yet") */
  readonly pathspec?: string;
  constructor(message: string, options?: NotFoundOptions) {
    super(message, options);
    this.pathspec = options?.pathspec;
  }
}

/** A flow, step or artifact name is invalid (path traversal, bad characters). */
export class NameError extends FlowbookError {}

export interface TaskFailedOptions extends FlowbookErrorOptions {
  /** `Flow/run/step/task` of the task that failed the run; the run's `Flow/run` when no task did (interrupted) */
  pathspec?: string;
  /** the failed task's step; undefined when no task failed */
  step?: string;
  /** `Flow/run` of the failed run */
  run?: string;
  /** the task's error as it recorded it, or the Error that stopped the run */
  cause?: ErrorInfo | Error;
}

/** A task failed (after its retries); the run fails. */
export class TaskFailedError extends FlowbookError {
  /** `Flow/run/step/task` of the task that failed the run; the run's `Flow/run` when no task failed (it was interrupted) */
  readonly pathspec?: string;
  /** the failed task's step; undefined when no task failed */
  readonly step?: string;
  /** `Flow/run` of the failed run */
  readonly run?: string;
  /** the failed task's error as it recorded it (`type`, `message`, `where`, `stack`), or an Error; undefined when no task failed */
  declare readonly cause?: ErrorInfo | Error;
  constructor(message: string, options?: TaskFailedOptions) {
    super(message, options);
    this.pathspec = options?.pathspec;
    this.step = options?.step;
    this.run = options?.run;
  }
}

export interface TimeoutOptions extends FlowbookErrorOptions {
  /** `Flow/run/step/task` of the task that ran too long */
  pathspec?: string;
  /** the limit it ran past (@timeout), in seconds */
  seconds?: number;
}

/** A task ran past its @timeout. */
export class TimeoutError extends FlowbookError {
  /** `Flow/run/step/task` of the task that ran too long */
  readonly pathspec?: string;
  /** the limit it ran past (@timeout), in seconds */
  readonly seconds?: number;
  constructor(message: string, options?: TimeoutOptions) {
    super(message, options);
    this.pathspec = options?.pathspec;
    this.seconds = options?.seconds;
  }
}

/** mergeArtifacts found different values for the same name. */
export class MergeConflictError extends FlowbookError {}

/** A foreach is over something that is not an array, or has too many splits. */
export class ForeachError extends FlowbookError {}

/** Wrong use of the authoring API at run time (next() called twice, no next(), ...). */
export class FlowUsageError extends FlowbookError {}

/** The flow file cannot be found or loaded. */
export class FlowFileError extends FlowbookError {}

/** A notebook cell failed or timed out under `flowbook notebook run`. */
export class NotebookCellError extends FlowbookError {}

/** The datastore cannot be reached or is misconfigured (no bucket, bad credentials, no S3 root). */
export class DatastoreError extends FlowbookError {}

export interface KubernetesErrorOptions extends FlowbookErrorOptions {
  /** a short machine word for why (see KubernetesError.reason) */
  reason?: string;
}

/**
 * Kubernetes is not configured, cannot be reached, or refused a call. A task whose pod could not
 * run (unschedulable, image pull, OOM, eviction, deadline) fails its run with a TaskFailedError
 * whose `cause.type` says why (`Unschedulable`, `OOMKilled`…), since the pod's fate is recorded
 * with the task.
 */
export class KubernetesError extends FlowbookError {
  /**
   * Why, as one word a program can switch on: `NotConfigured` (no kubeconfig or no cluster in it),
   * `InvalidConfig` (the kubeconfig cannot be read), `Unreachable` (no answer from the API server),
   * or the API's own Status reason (`Unauthorized`, `Forbidden`, `NotFound`, `AlreadyExists`,
   * `Conflict`, `Invalid`, `TooManyRequests`, `InternalError`…; for an answer without one, the HTTP
   * status's name in one word, `BadGateway`); `Unknown` when it cannot be told.
   */
  readonly reason?: string;
  constructor(message: string, options?: KubernetesErrorOptions) {
    super(message, options);
    this.reason = options?.reason;
  }
}
