// Builds the SDK (src/client) for apps that do not load it from a node:
// - sdk/dist: the npm package @crossborder-sfu/client (an ES module, mediasoup-client left to
//   the app's bundler, and one bundled type declaration file); `npm pack` in sdk/ makes it;
// - dist/client/sfu-client.js: the single-file browser module every node serves at /sdk/v1/,
//   for apps that host it themselves.
import fs from 'node:fs';
import { generateDtsBundle } from 'dts-bundle-generator';
import { buildSdkBundle, buildSdkModule } from '../src/http/sdk-bundle.js';

const at = (p: string) => new URL(`../${p}`, import.meta.url).pathname;

await buildSdkModule(at('sdk/dist/index.js'));
const [types] = generateDtsBundle([{ filePath: at('src/client/index.ts'), output: { noBanner: true, exportReferencedTypes: true } }], { preferredConfigPath: at('sdk/tsconfig.json') });
fs.writeFileSync(at('sdk/dist/index.d.ts'), types);
console.log(`wrote ${at('sdk/dist')} (index.js, index.js.map, index.d.ts)`);

const { code, map } = await buildSdkBundle();
fs.mkdirSync(at('dist/client'), { recursive: true });
fs.writeFileSync(at('dist/client/sfu-client.js'), code);
fs.writeFileSync(at('dist/client/sfu-client.js.map'), map);
console.log(`wrote ${at('dist/client/sfu-client.js')} (and its .map)`);
