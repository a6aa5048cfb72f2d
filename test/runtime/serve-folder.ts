import {readFile} from 'node:fs/promises';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join, normalize} from 'node:path';

export interface Served {
  /** http://127.0.0.1:PORT */
  base: string;
  /** Paths requested so far. */
  requested: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.html': 'text/html',
};

/**
 * Serves `root` over HTTP on loopback, plus `extra` paths computed on request (a page, a bundle);
 * anything else is a 404.
 */
export async function serveFolder(
  root: string,
  extra: Record<string, () => Promise<string | Uint8Array>> = {},
): Promise<Served> {
  const requested: string[] = [];
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    requested.push(path);
    try {
      const body = extra[path] ? await extra[path]() : await readFile(join(root, path));
      const ext = path.slice(path.lastIndexOf('.'));
      res.writeHead(200, {
        'content-type': TYPES[ext] ?? (path === '/' ? 'text/html' : 'application/octet-stream'),
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requested,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
