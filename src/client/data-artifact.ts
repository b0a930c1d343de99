// DataArtifact: one stored artifact of a task (`Flow/RunId/step/taskId/name`), its reference
// (sha256, size, type, serializer) known without reading it, its value read and verified on
// `data()`. Also the one lookup of an artifact's reference in a task's record, with the error that
// says why there is none, which Task shares.
import type { ArtifactRef } from '../datastore/metadata.js';
import type { TaskRecord } from '../datastore/task-records.js';
import { IntegrityError, NotFoundError } from '../errors.js';
import { ClientObject } from './client-object.js';
import { readTaskRecord } from './records.js';
import { valueToArrow, valueToDataFrame } from './dataframe.js';
import { valueToParquet } from './parquet.js';
import { refuseSnakeCase } from '../flow/metaflow-names.js';
import { displayable } from './table-display.js';

/** The stored reference of artifact `name` in the record of task `taskPathspec`, or the error saying why there is none. */
export function artifactRef(record: TaskRecord, taskPathspec: string, name: string): ArtifactRef {
  const done = record.done;
  const ref = done?.artifacts[name];
  if (ref) return ref;
  const has = Object.keys(done?.artifacts ?? {});
  if (!done && record.damaged) throw new IntegrityError(`task ${taskPathspec} did not finish: ${record.damaged}`);
  throw new NotFoundError(
    done ? `artifact '${name}' not found in ${taskPathspec} (it has: ${has.join(', ') || 'none'})` : `task ${taskPathspec} did not finish: it has no artifacts`,
    { pathspec: `${taskPathspec}/${name}` },
  );
}

export class DataArtifactObject extends ClientObject {
  readonly name: string;
  private ref: ArtifactRef;

  /** `ref`: given by the task that lists its artifacts (it has read the record and checked the namespace) */
  constructor(pathspec: string, ref?: ArtifactRef) {
    super(pathspec, 'artifact');
    const p = this.parts;
    this.name = p.artifact!;
    this.ref = ref ?? artifactRef(readTaskRecord(p.flow, p.run!, p.step!, p.task!), `${p.flow}/${p.run}/${p.step}/${p.task}`, this.name);
  }

  get sha(): string {
    return this.ref.sha;
  }
  get size(): number {
    return this.ref.size;
  }
  get type(): string {
    return this.ref.type;
  }
  get serializer(): string {
    return this.ref.serializer;
  }

  /** The value, read and verified against its sha256 (a DataFrame or Arrow table prints as a table). */
  async data(): Promise<any> {
    return displayable(await this.datastore().store.getArtifact(this.name, this.ref));
  }

  async toDataFrame(): Promise<any> {
    return displayable(await valueToDataFrame(await this.data(), this.name));
  }

  async toArrow(): Promise<any> {
    return displayable(await valueToArrow(await this.data(), this.name));
  }

  /** The table as the bytes of a Parquet file: an Arrow table as it is, others as `toArrow()` types them (NaN as null). */
  async toParquet(): Promise<Uint8Array> {
    return valueToParquet(await this.data(), this.name);
  }
}

// Metaflow's names, refused with flowbook's
refuseSnakeCase(DataArtifactObject.prototype, 'DataArtifact', { flow_name: 'flowName', path_spec: 'pathspec' });
