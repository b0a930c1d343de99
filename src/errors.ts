// Every error a user can see is one of these: a class per kind, one clear line in `message`,
// the underlying error in `cause`. The CLI prints `message` alone (the stack with --debug).

export class FlowbookError extends Error {
  /** process exit code the CLI uses for this kind of error */
  exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
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

/** A pathspec, run, step, task or artifact does not exist. */
export class NotFoundError extends FlowbookError {}

/** A flow, step or artifact name is invalid (path traversal, bad characters). */
export class NameError extends FlowbookError {}

/** A task failed (after its retries); the run fails. */
export class TaskFailedError extends FlowbookError {}

/** A task ran past its @timeout. */
export class TimeoutError extends FlowbookError {}

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

/** A task on Kubernetes could not run (unschedulable, image pull, OOM, eviction, deadline) or Kubernetes is not configured. */
export class KubernetesError extends FlowbookError {}
