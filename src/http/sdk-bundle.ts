import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = path.join(ROOT, 'src/client/index.ts');

/** The SDK's version: its npm package's, and the path of its immutable URL on every node. */
export const SDK_VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'sdk/package.json'), 'utf8')).version;

const common: BuildOptions = {
  entryPoints: [ENTRY],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  sourcemap: 'linked',
  sourcesContent: true,
  legalComments: 'none',
  logLevel: 'silent',
  write: false,
};

/**
 * The browser SDK (src/client) as one ES module with mediasoup-client inside, for pages that
 * import it from a node, and its source map. `file` names the module, for the map's link.
 */
export async function buildSdkBundle(file = 'sfu-client.js'): Promise<{ code: string; map: string }> {
  const result = await build({ ...common, minify: true, outfile: file, banner: { js: `/* @crossborder-sfu/client ${SDK_VERSION} */` } });
  const code = result.outputFiles!.find((f) => f.path.endsWith('.js'))!.text;
  const map = result.outputFiles!.find((f) => f.path.endsWith('.map'))!.text;
  return { code, map };
}

/** The npm package's module: the SDK with mediasoup-client left to the app's bundler. */
export async function buildSdkModule(outfile: string) {
  await build({ ...common, write: true, outfile, external: ['mediasoup-client'] });
}
