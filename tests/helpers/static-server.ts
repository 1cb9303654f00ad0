import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.css': 'text/css', '.map': 'application/json' };

/**
 * An app's own web server, on an origin of its own (not the node's): it serves the files of
 * `dir`, as a shop front end would serve its pages. Loopback only.
 */
export class StaticServer {
  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(dir: string, host = 'localhost'): Promise<StaticServer> {
    const server = http.createServer((req, res) => {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = path.join(dir, pathname === '/' ? 'index.html' : pathname);
      if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return new StaticServer(server, `http://${host}:${(server.address() as AddressInfo).port}`);
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(r));
  }
}

/**
 * An npm package bundled as one ES module for a page, as an app's bundler would make it (the
 * package may be CommonJS: `names` are the exports the page imports).
 */
export async function bundleForBrowser(pkg: string, names: string[], outfile: string) {
  const { build } = await import('esbuild');
  await build({
    stdin: { contents: `export { ${names.join(', ')} } from '${pkg}';`, resolveDir: process.cwd() },
    bundle: true, format: 'esm', platform: 'browser', outfile, logLevel: 'silent',
  });
}
