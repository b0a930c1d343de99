// A join's input views: each artifact an enumerable own getter, loaded on first read and once;
// the input's place as read-only fields that are not listed. The views share their getters, so
// these check that sharing never mixes one input's values with another's.
import { describe, it, expect } from 'vitest';
import { TaskArtifacts, inputView } from '../../src/compute/task/artifacts.js';
import type { FlowDatastore } from '../../src/datastore/store.js';
import type { ArtifactRef, TaskDone } from '../../src/datastore/metadata.js';

const ref = (sha: string): ArtifactRef => ({ sha, size: 1, stored: 1, serializer: 'json', type: 'number', encoding: 'none' });

/** An input task whose artifact values are `${name}@${taskId}`, counting every load from the store. */
function input(taskId: string, names: string[], loads: string[], index?: number): TaskArtifacts {
  const store = { getArtifactSync: (name: string) => (loads.push(`${name}@${taskId}`), { v: `${name}@${taskId}` }) } as unknown as FlowDatastore;
  const done = {
    pathspec: `F/1/work/${taskId}`,
    step: 'work',
    taskId,
    attempt: 0,
    artifacts: Object.fromEntries(names.map((n) => [n, ref(n + taskId)])),
    foreachStack: index === undefined ? [] : [{ step: 'start', taskId: '1', field: 'xs', index, count: 9 }],
    inputs: [],
    startedAt: '',
    finishedAt: '',
    key: '',
  } as TaskDone;
  return new TaskArtifacts(store, done);
}

describe('input views', () => {
  it('list their artifacts, not their place; read each artifact lazily, once, from their own input', () => {
    const loads: string[] = [];
    const [a, b] = [input('2', ['xs', 'y'], loads, 0), input('3', ['xs', 'y'], loads, 1)].map(inputView);
    expect(loads).toEqual([]);
    expect([a.stepName, a.taskId, a.pathspec, a.index]).toEqual(['work', '2', 'F/1/work/2', 0]);
    expect([b.taskId, b.pathspec, b.index]).toEqual(['3', 'F/1/work/3', 1]);
    expect(Object.keys(a)).toEqual(['xs', 'y']);
    expect(Object.getOwnPropertyNames(a)).toEqual(['stepName', 'taskId', 'pathspec', 'index', 'xs', 'y']);
    expect(Object.getOwnPropertySymbols(a)).toEqual([]);
    expect('y' in a && Object.prototype.hasOwnProperty.call(a, 'y')).toBe(true);
    expect(loads).toEqual([]);
    expect(b.y).toEqual({ v: 'y@3' });
    expect(a.y).toEqual({ v: 'y@2' });
    expect(a.y).toBe(a.y);
    expect(loads).toEqual(['y@3', 'y@2']);
    // a second artifact of the same input is cached too
    expect(a.xs).toBe(a.xs);
    expect(loads).toEqual(['y@3', 'y@2', 'xs@2']);
    expect({ ...b }).toEqual({ xs: { v: 'xs@3' }, y: { v: 'y@3' } });
    expect(JSON.parse(JSON.stringify(a))).toEqual({ xs: { v: 'xs@2' }, y: { v: 'y@2' } });
  });

  it('are read-only: fields and artifacts keep their descriptors, and assigning one throws', () => {
    const v = inputView(input('2', ['y'], []));
    expect(v.index).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(v, 'pathspec')).toEqual({ value: 'F/1/work/2', writable: false, enumerable: false, configurable: false });
    expect(Object.getOwnPropertyDescriptor(v, 'y')).toMatchObject({ set: undefined, enumerable: true, configurable: false });
    expect(() => ((v as any).y = 1)).toThrow(TypeError);
    expect(() => ((v as any).pathspec = 'x')).toThrow(TypeError);
    expect(() => delete (v as any).y).toThrow(TypeError);
  });

  it('of different artifact sets, made in turn, each list and read their own', () => {
    const loads: string[] = [];
    const views = [input('1', ['a', 'b'], loads), input('2', ['c'], loads), input('3', ['a', 'b'], loads), input('4', ['b', 'a'], loads), input('5', [], loads)].map(inputView);
    expect(views.map((v) => Object.keys(v))).toEqual([['a', 'b'], ['c'], ['a', 'b'], ['b', 'a'], []]);
    expect(views.map((v) => Object.values(v).map((x: any) => x.v))).toEqual([['a@1', 'b@1'], ['c@2'], ['a@3', 'b@3'], ['b@4', 'a@4'], []]);
    expect((views[1] as any).a).toBeUndefined();
  });

  it('lend their artifacts to an object made from them, and a getter taken off a view fails plainly', () => {
    const v = inputView(input('7', ['y'], []));
    expect(Object.create(v).y).toEqual({ v: 'y@7' });
    const get = Object.getOwnPropertyDescriptor(v, 'y')!.get!;
    expect(get.call(v)).toEqual({ v: 'y@7' });
    expect(() => get.call({})).toThrow('an input view getter was called on something that is not an input view');
  });
});
