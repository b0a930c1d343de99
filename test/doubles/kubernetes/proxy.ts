// A TCP proxy in front of the Kubernetes API double, to take the API away and bring it back: stop()
// closes the port and cuts every open connection (watches and log streams included), as a lost
// network does; start() listens on the same port again. `deny` answers matching requests with an
// HTTP status instead (a 403 on the pod watch, say). The kubeconfig it writes points at it.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface ApiProxy {
  url: string;
  kubeconfigPath: string;
  /** answer requests whose first line matches with this status (Kubernetes' Status JSON) */
  deny(pattern: RegExp | undefined, status?: number): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startApiProxy(target: string, kubeconfigPath: string, dir: string): Promise<ApiProxy> {
  const upstream = new URL(target);
  const sockets = new Set<net.Socket>();
  let denied: { pattern: RegExp; status: number } | undefined;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    client.once('data', (first) => {
      const line = first.toString('latin1').split('\r\n')[0];
      if (denied && denied.pattern.test(line)) {
        const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `pods is forbidden: User "system:serviceaccount:default:runner" cannot watch resource "pods"`, reason: 'Forbidden', code: denied.status });
        client.end(`HTTP/1.1 ${denied.status} Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      const up = net.connect(Number(upstream.port), upstream.hostname);
      sockets.add(up);
      up.on('close', () => { sockets.delete(up); client.destroy(); });
      up.on('error', () => client.destroy());
      client.on('close', () => up.destroy());
      up.write(first);
      client.pipe(up);
      up.pipe(client);
    });
  });
  const listen = (port: number) => new Promise<void>((r, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => { server.off('error', reject); r(); }); });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const proxyConfig = path.join(dir, 'kubeconfig-proxied');
  fs.writeFileSync(proxyConfig, fs.readFileSync(kubeconfigPath, 'utf8').replace(/server: \S+/, `server: ${url}`));
  const stop = async () => {
    await new Promise<void>((r) => { server.close(() => r()); for (const s of sockets) s.destroy(); });
  };
  return {
    url,
    kubeconfigPath: proxyConfig,
    deny: (pattern, status = 403) => (denied = pattern ? { pattern, status } : undefined),
    stop,
    start: () => listen(port),
    close: async () => { if (server.listening) await stop(); },
  };
}
