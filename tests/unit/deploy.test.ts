import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configLeaves } from '../../src/config/load.js';
import { codeBlocks } from '../helpers/doc-runner.js';

/**
 * No Docker engine or Kubernetes cluster runs here, so the packaging is checked for what
 * can go wrong silently: every variable is one the node reads, ports, probes and grace
 * periods agree with the configuration, and the overlays patch paths that exist.
 */
const knownEnv = new Set(configLeaves().map((l) => l.env));
const regions = Object.keys(JSON.parse(fs.readFileSync('config/regions.json', 'utf8')).regions);
const yamlDocs = (file: string) => parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS({ maxAliasCount: 100 }));

describe('docker-compose.yml', () => {
  const compose = parse(fs.readFileSync('docker-compose.yml', 'utf8'), { merge: true });
  const nodes = Object.entries(compose.services as Record<string, any>).filter(([, s]) => s.environment?.REGION);

  it('runs Redis, coturn, Prometheus and two nodes in two regions', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['coturn', 'node-cn', 'node-us', 'prometheus', 'redis']);
    expect(new Set(nodes.map(([, s]) => s.environment.REGION)).size).toBe(2);
    for (const [, s] of nodes) expect(regions).toContain(s.environment.REGION);
  });

  it('gives nodes only variables the node reads, with ports, pipes and grace periods that agree', () => {
    const prom = parse(fs.readFileSync('deploy/prometheus/prometheus.yml', 'utf8'));
    const targets = prom.scrape_configs.flatMap((c: any) => c.static_configs.flatMap((s: any) => s.targets));
    for (const [name, s] of nodes) {
      const env = s.environment as Record<string, string>;
      expect(Object.keys(env).filter((k) => !knownEnv.has(k)), name).toEqual([]);
      expect(env.REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
      expect(targets).toContain(`${name}:${env.PORT}`);
      const published = (s.ports as string[]).join(' ');
      expect(published).toContain(`${env.PORT}:${env.PORT}`);
      const base = Number(env.MEDIA_WEBRTC_PORT_BASE);
      const last = base + Number(env.MEDIA_NUM_WORKERS) - 1;
      for (const proto of ['udp', 'tcp']) expect(published).toContain(`${base}-${last}:${base}-${last}/${proto}`);
      // Each announces its own address on the compose network (no fixed addresses: podman-compose has none).
      expect(env.MEDIA_PIPE_ANNOUNCED_ADDRESS).toBe('auto');
      expect(s.networks).toEqual(['sfu']);
      expect(Number.parseInt(s.stop_grace_period, 10) * 1000).toBeGreaterThan(Number(env.DRAIN_TIMEOUT_MS));
    }
  });

  it('points the nodes at coturn with the secret coturn checks credentials with', () => {
    const args = (compose.services.coturn.command as string[]).join(' ');
    const port = /--listening-port=(\d+)/.exec(args)![1];
    for (const [, s] of nodes) {
      expect(args).toContain(`--static-auth-secret=${s.environment.TURN_SECRET}`);
      for (const url of s.environment.TURN_URLS.split(',')) expect(url).toMatch(new RegExp(`^turns?:127\\.0\\.0\\.1:${port}\\?transport=(udp|tcp)$`));
    }
    expect(args).toContain('--use-auth-secret');
  });
});

describe('Kubernetes manifests', () => {
  const base = ['configmap', 'deployment', 'service', 'pdb'].flatMap((f) => yamlDocs(`deploy/kubernetes/base/${f}.yaml`));
  const byKind = (kind: string) => base.find((d) => d.kind === kind);
  const deployment = byKind('Deployment');
  const container = deployment.spec.template.spec.containers[0];
  const config = byKind('ConfigMap').data as Record<string, string>;

  it('has a Deployment, its Service, a PodDisruptionBudget and a ConfigMap, all named and selecting the same pods', () => {
    for (const d of base) expect(d.apiVersion && d.kind && d.metadata?.name).toBeTruthy();
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(byKind('Service').spec.selector).toEqual(labels);
    expect(byKind('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    expect(byKind('PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  it('probes readiness and liveness, and waits for a full drain on termination', () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.ports.find((p: any) => p.name === 'http').containerPort).toBe(8080);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(config.DRAIN_TIMEOUT_MS));
  });

  it('exposes one UDP and one TCP media port per worker, on the host network', () => {
    expect(deployment.spec.template.spec.hostNetwork).toBe(true);
    const base = Number(config.MEDIA_WEBRTC_PORT_BASE);
    for (let i = 0; i < Number(config.MEDIA_NUM_WORKERS); i++) {
      for (const protocol of ['UDP', 'TCP']) expect(container.ports).toContainEqual(expect.objectContaining({ containerPort: base + i, protocol }));
    }
  });

  it('runs as non-root and sets only variables the node reads', () => {
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    const names = [...Object.keys(config), ...container.env.map((e: any) => e.name)];
    expect(names.filter((n) => !knownEnv.has(n) && n !== 'NODE_NAME')).toEqual([]);
  });

  it('runs agent workers as a Deployment of their own, on the nodes\' configuration, with only variables the worker reads', () => {
    const [worker] = yamlDocs('deploy/kubernetes/base/agent-worker.yaml');
    const c = worker.spec.template.spec.containers[0];
    expect(worker.spec.selector.matchLabels).toEqual(worker.spec.template.metadata.labels);
    expect(c.command).toEqual(['node', 'dist/agents/worker/main.js']);
    expect(fs.existsSync('src/agents/worker/main.ts')).toBe(true);
    expect(c.envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name)).toEqual(['sfu-node', 'sfu-secrets']);
    expect(c.env.map((e: any) => e.name).filter((n: string) => !knownEnv.has(n))).toEqual([]);
    expect(worker.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const kustomization = parse(fs.readFileSync('deploy/kubernetes/base/kustomization.yaml', 'utf8'));
    expect(kustomization.resources).toContain('agent-worker.yaml');
  });

  it('runs coturn on the host network with TURN on 3478 and TLS on 443, its secret the nodes\' TURN_SECRET', () => {
    const [map, turn] = yamlDocs('deploy/kubernetes/coturn/coturn.yaml');
    const conf = map.data['turnserver.conf'] as string;
    expect(conf).toMatch(/^listening-port=3478$/m);
    expect(conf).toMatch(/^tls-listening-port=443$/m);
    expect(conf).toMatch(/^use-auth-secret$/m);
    const pod = turn.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    const c = pod.containers[0];
    expect(c.ports.map((p: any) => `${p.containerPort}/${p.protocol}`).sort()).toEqual(['3478/TCP', '3478/UDP', '443/TCP']);
    expect(c.env.find((e: any) => e.name === 'TURN_SECRET').valueFrom.secretKeyRef).toEqual({ name: 'sfu-secrets', key: 'TURN_SECRET' });
    expect(c.args).toContain('--static-auth-secret=$(TURN_SECRET)');
    expect(knownEnv.has('TURN_SECRET') && knownEnv.has('TURN_URLS')).toBe(true);
  });

  it.each(['us-west', 'cn-south'])('overlay %s patches paths that exist, to a known region', (region) => {
    const overlay = parse(fs.readFileSync(`deploy/kubernetes/overlays/${region}/kustomization.yaml`, 'utf8'));
    expect(overlay.resources).toEqual(['../../base']);
    for (const { target, patch } of overlay.patches) {
      const doc = structuredClone(base.find((d) => d.kind === target.kind && d.metadata.name === target.name));
      expect(doc, target.kind).toBeTruthy();
      for (const op of parse(patch)) {
        const parts = op.path.split('/').slice(1);
        const parent = parts.slice(0, -1).reduce((o: any, k: string) => o?.[k], doc);
        expect(parent?.[parts.at(-1)], op.path).toBeDefined();
        parent[parts.at(-1)] = op.value;
      }
      if (target.kind === 'ConfigMap') expect(doc.data.REGION).toBe(region);
      if (target.kind === 'Deployment') expect(doc.spec.template.spec.containers[0].env[1]).toEqual({ name: 'PUBLIC_URL', value: `https://$(NODE_NAME).${region}.sfu.example.com` });
    }
    expect(regions).toContain(region);
  });
});

describe('the README\'s deploy section', () => {
  it('gives commands docs/deploy.md has, which npm run test:deploy runs in order', () => {
    const readme = fs.readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Deploy'), readme.indexOf('\n## ', readme.indexOf('## Deploy') + 1));
    const shown = codeBlocks(section).filter((b) => b.lang === 'sh').map((b) => b.code);
    const run = codeBlocks(fs.readFileSync('docs/deploy.md', 'utf8')).filter((b) => b.lang === 'sh').map((b) => b.code);
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const code of shown) expect(run).toContain(code);
    expect(fs.readFileSync('.ci/run', 'utf8')).toMatch(/^npm test\n(#.*\n)?npm run test:deploy$/m);
  });
});

describe('Kubernetes manifests against the Kubernetes schemas', () => {
  const models: Record<string, Record<string, () => Promise<new (o: any) => { validate(): void }>>> = {
    v1: { ConfigMap: async () => (await import('kubernetes-models/v1')).ConfigMap, Service: async () => (await import('kubernetes-models/v1')).Service },
    'apps/v1': { Deployment: async () => (await import('kubernetes-models/apps/v1')).Deployment, DaemonSet: async () => (await import('kubernetes-models/apps/v1')).DaemonSet },
    'policy/v1': { PodDisruptionBudget: async () => (await import('kubernetes-models/policy/v1')).PodDisruptionBudget },
  };
  const files = ['base/configmap.yaml', 'base/deployment.yaml', 'base/service.yaml', 'base/pdb.yaml', 'base/agent-worker.yaml', 'coturn/coturn.yaml'];
  const docs = files.flatMap((f) => yamlDocs(`deploy/kubernetes/${f}`).map((doc) => ({ file: f, doc })));

  it.each(docs.map((d) => [`${d.file} ${d.doc.kind}/${d.doc.metadata?.name}`, d.doc]))('%s validates', async (_name, doc) => {
    const model = models[doc.apiVersion]?.[doc.kind];
    expect(model, `${doc.apiVersion} ${doc.kind}`).toBeDefined();
    const Model = await model!();
    expect(() => new Model(doc).validate()).not.toThrow();
  });

  it('catches a manifest the API server would refuse', async () => {
    const { Deployment } = await import('kubernetes-models/apps/v1');
    const broken = structuredClone(docs.find((d) => d.doc.kind === 'Deployment')!.doc);
    broken.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort must be integer/);
  });
});

describe('Dockerfile', () => {
  const text = fs.readFileSync('Dockerfile', 'utf8');
  const stages = text.split(/^FROM /m).slice(1);

  it('is multi-stage, runs as a non-root user, with a health check and drain on SIGTERM', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const final = stages.at(-1)!;
    expect(final).toMatch(/^USER (?!root)\w+/m);
    expect(final).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(final).toMatch(/^STOPSIGNAL SIGTERM/m);
    expect(text).toContain('ensure-worker.mjs');
  });

  it('builds and runs on the Node.js major package.json requires, with the worker\'s run-time libraries and ffmpeg', () => {
    const major = /^>=(\d+)/.exec(JSON.parse(fs.readFileSync('package.json', 'utf8')).engines.node)![1];
    // The bases are build arguments (a local Debian with Node.js where no registry is reachable), the official images by default.
    expect(text).toMatch(new RegExp(`^ARG BASE=node:${major}-bookworm$`, 'm'));
    expect(text).toMatch(new RegExp(`^ARG RUNTIME_BASE=node:${major}-bookworm-slim$`, 'm'));
    expect(stages.map((s) => s.split('\n')[0])).toEqual(['${BASE} AS build', '${RUNTIME_BASE} AS runtime']);
    expect(stages.at(-1)).toMatch(/apt-get install -y --no-install-recommends ca-certificates libssl3 libuv1 libabsl20220623 ffmpeg \\/);
    // Compiled JavaScript, the node as PID 1 (no npm, no shell in between).
    expect(stages.at(-1)).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    // The node writes its records, outbox, recordings and snapshots under /app/data, and only there.
    expect(stages.at(-1)).toMatch(/chown node:node \/app\/data/);
  });

  it('exposes the default signaling, media and pipe ports', () => {
    const defaults = JSON.parse(fs.readFileSync('config/default.json', 'utf8'));
    const expose = /^EXPOSE (.+)$/m.exec(text)![1];
    expect(expose).toContain(`${defaults.server.port}/tcp`);
    expect(expose).toContain(`${defaults.media.webRtcServerBasePort}-`);
    expect(expose).toContain(`${defaults.media.rtcMinPort}-${defaults.media.rtcMaxPort}/udp`);
  });
});
