// The test servers that play a model host answer `Range: bytes=N-` as a real one does (206 with
// the rest of the file, 416 past its end), so the download code's resume path is exercised.
import type http from 'node:http';

/** Answer a Range request for `body`; false when the request has no Range header (the caller answers). */
export function serveRange(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): boolean {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (!m) return false;
  const from = Number(m[1]);
  if (from >= body.length) res.writeHead(416).end();
  else res.writeHead(206, { 'content-length': body.length - from, 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` }).end(body.subarray(from));
  return true;
}
