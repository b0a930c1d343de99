// The kubelet emulator: runs each bound pod's containers as local child processes and reports their
// status back through the store, with the states, reasons and messages a real kubelet/containerd
// writes (ContainerCreating, ErrImagePull → ImagePullBackOff, CreateContainerConfigError, StartError,
// Completed/Error/OOMKilled, exit 128+signal). An "image" is a host directory (cwd, bin/ on PATH).
// Volumes (emptyDir, persistentVolumeClaim, …) are accepted but NOT mounted: the process sees the
// host file system, so tests point paths such as FLOWBOOK_MODELS at host directories instead.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, containerEnv, expand } from './env.js';
import { LogBuffer } from './logs.js';
import { alive, procTable, processTree, rssBytes, signalContainer } from './proc.js';
import { parseQuantity } from './quantity.js';
import { allocatable, type FakeNode } from './scheduler.js';
import { type Store, type StoreEvent, now } from './store.js';

export interface KubeletOptions {
  store: Store;
  nodes: FakeNode[];
  images: Record<string, string>;
  /** seconds a pull of that image takes (the container waits in ContainerCreating meanwhile) */
  imagePullSeconds: Record<string, number>;
  secrets: Record<string, Record<string, string>>;
  baseEnv: Record<string, string>;
  apiPort: () => number;
  tmpRoot: string;
}
interface Override {
  reason: string;
  message: string;
  disruption?: string; // DisruptionTarget condition reason, when the kubelet itself terminated the pod
}
interface Ctr {
  name: string;
  spec: any;
  state: any;
  lastState: any;
  restartCount: number;
  containerID?: string;
  pid?: number;
  seen: Map<number, string>; // every process seen in the container: pid → start time
  log: LogBuffer;
  prevLog?: LogBuffer;
  oom?: boolean;
  done?: Promise<void>; // settles when the running process is gone and its status recorded
}
interface PodRt {
  pod: any;
  ctrs: Ctr[];
  home: string;
  startTime: string;
  stopping: boolean;
  override?: Override;
  timers: Set<NodeJS.Timeout>;
}

const key = (ns: string, name: string) => `${ns}/${name}`;
/** The double shortens the 30 s default grace period so tests don't wait on processes ignoring SIGTERM. */
export const DEFAULT_GRACE_SECONDS = 2;
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export class Kubelet {
  private pods = new Map<string, PodRt>();
  private monitor?: NodeJS.Timeout;
  private closed = false;

  constructor(private o: KubeletOptions) {}

  /** Store events: start pods once bound to a node; a pod removed behind our back is killed at once. */
  observe(e: StoreEvent) {
    if (e.kind !== 'pods' || this.closed) return;
    const { namespace: ns, name } = e.object.metadata;
    const rt = this.pods.get(key(ns, name));
    if (e.type === 'DELETED') {
      if (rt) void this.kill(ns, name, { graceSeconds: 0 }).then(() => this.forget(ns, name));
      return;
    }
    const p = e.object;
    if (!rt && p.spec.nodeName && !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase)) this.admit(p);
  }

  private later(rt: PodRt | null, ms: number, fn: () => void) {
    if (this.closed) return;
    const t = setTimeout(() => {
      rt?.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    rt?.timers.add(t);
  }

  private admit(pod: any) {
    const home = path.join(this.o.tmpRoot, 'pods', `${pod.metadata.namespace}_${pod.metadata.name}`, 'home');
    fs.mkdirSync(home, { recursive: true });
    const rt: PodRt = { pod, home, startTime: now(), stopping: false, timers: new Set(), ctrs: [] };
    rt.ctrs = pod.spec.containers.map((c: any) => ({ name: c.name, spec: c, restartCount: 0, lastState: {}, seen: new Map(), log: new LogBuffer(), state: { waiting: { reason: 'ContainerCreating' } } }));
    this.pods.set(key(pod.metadata.namespace, pod.metadata.name), rt);
    this.render(rt);
    const ads = pod.spec.activeDeadlineSeconds;
    if (ads) this.later(rt, ads * 1000, () => void this.kill(pod.metadata.namespace, pod.metadata.name, { graceSeconds: DEFAULT_GRACE_SECONDS, override: { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' } }));
    for (const c of rt.ctrs) this.later(rt, 100 + 1000 * (this.o.imagePullSeconds[c.spec.image] ?? 0), () => this.startContainer(rt, c));
  }

  private setWaiting(rt: PodRt, c: Ctr, reason: string, message?: string) {
    c.state = { waiting: message ? { reason, message } : { reason } };
    this.render(rt);
  }

  private startContainer(rt: PodRt, c: Ctr) {
    if (rt.stopping) return;
    const image: string = c.spec.image;
    const dir = this.o.images[image];
    if (dir === undefined) {
      if (c.spec.imagePullPolicy === 'Never') return this.setWaiting(rt, c, 'ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
      // containerd's answer for a missing image, then the kubelet's back-off; the pod stays Pending for good
      const pull = (n: number) => {
        this.setWaiting(rt, c, 'ErrImagePull', `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`);
        this.later(rt, 300, () => {
          this.setWaiting(rt, c, 'ImagePullBackOff', `Back-off pulling image "${image}"`);
          this.later(rt, Math.min(1000 * 2 ** n, 5000), () => pull(n + 1));
        });
      };
      return this.later(rt, 200, () => pull(0));
    }
    const imageDir = path.resolve(dir);
    const runtimeEnv: Record<string, string> = {
      PATH: `${imageDir}/bin:${imageDir}/node_modules/.bin:/usr/local/bin:/usr/bin:/bin`,
      HOME: rt.home,
      HOSTNAME: rt.pod.metadata.name,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String(this.o.apiPort()),
      KUBERNETES_PORT: `tcp://127.0.0.1:${this.o.apiPort()}`,
      ...this.o.baseEnv,
    };
    const node = this.o.nodes.find((n) => n.name === rt.pod.spec.nodeName);
    let env: Record<string, string>;
    try {
      env = containerEnv({ pod: rt.pod, container: c.spec, secrets: this.o.secrets, nodeAllocatable: node ? allocatable(node) : {} }, runtimeEnv);
    } catch (e) {
      if (e instanceof ConfigError) return this.setWaiting(rt, c, 'CreateContainerConfigError', e.message);
      throw e;
    }
    const argv: string[] = [...(c.spec.command ?? []), ...(c.spec.args ?? [])].map((s) => expand(String(s), env));
    if (argv.length === 0) return this.setWaiting(rt, c, 'CreateContainerError', 'no command specified');
    const cwd = c.spec.workingDir ?? imageDir;
    try {
      fs.mkdirSync(cwd, { recursive: true }); // runc creates a missing workingDir
    } catch {
      return this.startError(rt, c, `chdir to cwd ("${cwd}") set in config.json failed: no such file or directory`);
    }
    this.spawnContainer(rt, c, argv, cwd, env);
  }

  private startError(rt: PodRt, c: Ctr, why: string) {
    const t = now();
    const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${why}: unknown`;
    c.state = { terminated: { exitCode: 128, reason: 'StartError', message, startedAt: '1970-01-01T00:00:00Z', finishedAt: t, containerID: c.containerID } };
    c.log.end();
    this.afterTermination(rt, c, 128);
  }

  private spawnContainer(rt: PodRt, c: Ctr, argv: string[], cwd: string, env: Record<string, string>) {
    c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
    c.oom = false;
    const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    c.pid = child.pid; // undefined when the exec failed ('error' follows)
    let resolve!: () => void;
    c.done = new Promise<void>((r) => (resolve = r));
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      c.pid = undefined;
      c.log.end();
      if (!exit) {
        // spawn failed (ENOENT/EACCES): containerd reports StartError with exit code 128
        this.startError(rt, c, `exec: "${argv[0]}": executable file not found in $PATH`);
      } else {
        const code = exit.signal ? 128 + (SIGNALS[exit.signal] ?? 0) : (exit.code ?? 0);
        const reason = c.oom ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error';
        const startedAt = c.state.running?.startedAt ?? now();
        const term: any = { exitCode: c.oom ? 137 : code, reason, startedAt, finishedAt: now(), containerID: c.containerID };
        if (code !== 0 && c.spec.terminationMessagePolicy === 'FallbackToLogsOnError') term.message = c.log.text().split('\n').slice(-80).join('\n').slice(-2048);
        c.state = { terminated: term };
        this.afterTermination(rt, c, term.exitCode);
      }
      resolve();
    };
    child.stdout!.on('data', (d: Buffer) => c.log.push(d));
    child.stderr!.on('data', (d: Buffer) => c.log.push(d));
    child.on('spawn', () => {
      c.state = { running: { startedAt: now() } };
      this.render(rt);
      this.ensureMonitor();
    });
    child.on('error', () => {
      if (c.pid === undefined) finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // the container ends with its first process: whatever else is left in it dies too
      if (child.pid) signalContainer(child.pid, c.seen, 'SIGKILL');
      // output still buffered in pipes arrives before 'close'; a straggler holding them open cannot stall us
      setTimeout(finish, 1000).unref();
    });
    child.on('close', finish);
  }

  private afterTermination(rt: PodRt, c: Ctr, exitCode: number) {
    const { namespace: ns, name, uid } = rt.pod.metadata;
    if (exitCode !== 0 && rt.pod.spec.restartPolicy === 'OnFailure' && !rt.stopping) {
      // restart in place: previous instance's status and log move to lastState/previous
      c.lastState = c.state;
      c.restartCount++;
      c.prevLog = c.log;
      c.log = new LogBuffer();
      const delay = Math.min(200 * 2 ** (c.restartCount - 1), 2000);
      this.setWaiting(rt, c, 'CrashLoopBackOff', `back-off ${Math.ceil(delay / 1000)}s restarting failed container=${c.name} pod=${name}_${ns}(${uid})`);
      this.later(rt, delay, () => this.startContainer(rt, c));
      return;
    }
    this.render(rt);
  }

  /** Memory accounting every 50 ms, like a cgroup limit: the whole process tree's RSS against limits.memory. */
  private ensureMonitor() {
    if (this.monitor || this.closed) return;
    this.monitor = setInterval(() => {
      const running = [...this.pods.values()].flatMap((rt) => rt.ctrs.filter((c) => c.pid !== undefined));
      if (running.length === 0) {
        clearInterval(this.monitor);
        this.monitor = undefined;
        return;
      }
      const procs = procTable();
      for (const c of running) {
        const tree = processTree(c.pid!, procs);
        for (const p of tree) c.seen.set(p, procs.get(p)!.start);
        const limit = parseQuantity(c.spec.resources?.limits?.memory);
        if (!limit || c.oom) continue;
        const rss = tree.reduce((s, p) => s + rssBytes(p), 0);
        if (rss > limit) {
          c.oom = true;
          signalContainer(c.pid!, c.seen, 'SIGKILL');
        }
      }
    }, 50);
    this.monitor.unref();
  }

  private phase(rt: PodRt): string {
    if (rt.override && rt.ctrs.every((c) => c.pid === undefined)) return 'Failed';
    if (rt.ctrs.every((c) => c.state.terminated)) return rt.ctrs.every((c) => c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed';
    if (rt.ctrs.some((c) => c.state.waiting && c.restartCount === 0)) return 'Pending';
    return 'Running';
  }

  /** Write the pod status from the runtime state (conditions keep their transition time while unchanged). */
  private render(rt: PodRt) {
    if (this.closed) return;
    const phase = this.phase(rt);
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const ready = phase === 'Running' && rt.ctrs.every((c) => c.state.running);
    const unready = rt.ctrs.filter((c) => !c.state.running).map((c) => c.name);
    const notReady = terminal ? { reason: 'PodCompleted' } : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
    const statuses = rt.ctrs.map((c) => ({
      name: c.name,
      state: c.state,
      lastState: c.lastState,
      ready: !!c.state.running,
      restartCount: c.restartCount,
      image: c.spec.image,
      imageID: c.containerID ? `docker.io/library/${c.spec.image}@sha256:${createHash('sha256').update(c.spec.image).digest('hex')}` : '',
      ...(c.containerID ? { containerID: c.containerID } : {}),
      started: !!c.state.running,
    }));
    const { namespace: ns, name } = rt.pod.metadata;
    this.o.store.update('pods', ns, name, (p) => {
      const old: any[] = p.status?.conditions ?? [];
      const cond = (type: string, ok: boolean, extra: object = {}) => {
        const prev = old.find((c) => c.type === type);
        const status = ok ? 'True' : 'False';
        return { type, status, lastProbeTime: null, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now(), ...(ok ? {} : extra) };
      };
      const conditions = [
        ...(rt.override?.disruption ? [{ ...cond('DisruptionTarget', true), reason: rt.override.disruption, message: rt.override.message }] : []),
        cond('PodReadyToStartContainers', !terminal),
        cond('Initialized', true),
        cond('Ready', ready, notReady),
        cond('ContainersReady', ready, notReady),
        ...old.filter((c) => c.type === 'PodScheduled'),
      ];
      const ip = [{ ip: '127.0.0.1' }];
      p.status = { phase, conditions, hostIP: '127.0.0.1', hostIPs: ip, podIP: '127.0.0.1', podIPs: ip, startTime: rt.startTime, containerStatuses: statuses, qosClass: p.status?.qosClass };
      if (rt.override && phase === 'Failed') Object.assign(p.status, { reason: rt.override.reason, message: rt.override.message });
    });
  }

  /**
   * Stop a pod's containers: SIGTERM to each container's process group, SIGKILL after the grace
   * period (0 → SIGKILL at once). An override marks the pod Failed with that reason (eviction,
   * deadline). Resolves once every process is gone and the final status is written.
   */
  async kill(ns: string, name: string, opts: { graceSeconds: number; override?: Override }): Promise<void> {
    const rt = this.pods.get(key(ns, name));
    if (!rt) return;
    rt.stopping = true;
    if (opts.override && !rt.override) rt.override = opts.override;
    for (const t of rt.timers) clearTimeout(t);
    rt.timers.clear();
    const live = rt.ctrs.filter((c) => c.pid !== undefined);
    for (const c of live) signalContainer(c.pid!, c.seen, opts.graceSeconds > 0 ? 'SIGTERM' : 'SIGKILL');
    const hard = setTimeout(() => live.forEach((c) => c.pid !== undefined && signalContainer(c.pid, c.seen, 'SIGKILL')), opts.graceSeconds * 1000);
    await Promise.all(live.map((c) => c.done));
    clearTimeout(hard);
    this.render(rt);
  }

  /** Drop a removed pod's runtime state and its HOME directory. */
  forget(ns: string, name: string) {
    const rt = this.pods.get(key(ns, name));
    if (!rt) return;
    for (const t of rt.timers) clearTimeout(t);
    this.pods.delete(key(ns, name));
    fs.rmSync(path.dirname(rt.home), { recursive: true, force: true });
  }

  has(ns: string, name: string): boolean {
    return this.pods.has(key(ns, name));
  }

  log(ns: string, name: string, container: string, previous: boolean): LogBuffer | undefined {
    const c = this.pods.get(key(ns, name))?.ctrs.find((x) => x.name === container);
    return previous ? c?.prevLog : c?.log;
  }

  runningPids(): number[] {
    return [...this.pods.values()].flatMap((rt) => rt.ctrs.map((c) => c.pid).filter((p): p is number => p !== undefined && alive(p)));
  }

  async close() {
    const all = [...this.pods.values()];
    const waits: Promise<void>[] = [];
    for (const rt of all) {
      rt.stopping = true;
      for (const t of rt.timers) clearTimeout(t);
      for (const c of rt.ctrs) {
        if (c.pid !== undefined) signalContainer(c.pid, c.seen, 'SIGKILL');
        if (c.done) waits.push(c.done);
        c.log.end();
      }
    }
    this.closed = true;
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 3000))]);
    if (this.monitor) clearInterval(this.monitor);
    this.pods.clear();
  }
}
