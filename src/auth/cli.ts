// Mints an access token from the command line, with the node's configuration (env + config/):
//   npm run token -- --room ticket-42 --identity buyer-7 --role buyer [--name "Ana"] [--ttl 3600]
//                    [--region us-east] [--grant publishVideo=false ...]
import { parseArgs } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, loadConfig } from '../config/load.js';
import { Grants } from './grants.js';
import { MintRequest, mintToken } from './tokens.js';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    room: { type: 'string' },
    identity: { type: 'string' },
    role: { type: 'string' },
    name: { type: 'string' },
    region: { type: 'string' },
    ttl: { type: 'string' },
    grant: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
});

const grants: Record<string, boolean> = {};
for (const g of values.grant ?? []) {
  const [key, value = 'true'] = g.split('=');
  if (!(key in Grants.properties) || !['true', 'false'].includes(value)) fail(`bad --grant ${g}: use one of ${Object.keys(Grants.properties).join(', ')} with =true or =false`);
  grants[key] = value === 'true';
}

const request = {
  room: values.room,
  identity: values.identity,
  ...(values.role ? { role: values.role } : {}),
  ...(values.name ? { name: values.name } : {}),
  ...(values.region ? { region: values.region } : {}),
  ...(values.ttl ? { ttlSeconds: Number(values.ttl) } : {}),
  ...(Object.keys(grants).length ? { grants } : {}),
};
if (!Value.Check(MintRequest, request)) {
  const e = Value.Errors(MintRequest, request).First();
  fail(`invalid token request at ${e?.path || '/'}: ${e?.message} (need --room and --identity)`);
}

try {
  const { token, expiresAt } = mintToken(loadConfig().auth, request);
  process.stdout.write(values.json ? `${JSON.stringify({ token, expiresAt })}\n` : `${token}\n`);
} catch (err) {
  fail(err instanceof ConfigError ? err.message : (err as Error).message);
}
