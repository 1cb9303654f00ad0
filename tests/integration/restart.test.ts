import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode } from '../helpers/cluster-node.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

const KEY = 'shop-key-restart-0123456789abcdef';

/**
 * A lone node (no NODE_ID) stopped under its calls, with kill -9, and started again on the same
 * store and recording folder: its files and links still work, the calls it left open are
 * closed with their webhooks, and a room created ahead goes on with its call id and metadata.
 */
describe('a lone node across a restart', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-restart-'));
  const receiver = new WebhookReceiver(newWebhookSecret());
  const peers: WeriftPeer[] = [];
  let node: ClusterNode;
  const env = () => ({
    NODE_ID: '', STORE_PATH: path.join(dir, 'sfu.sqlite'), RECORDING_DIR: path.join(dir, 'recordings'), SIGNALING_RECONNECT_GRACE_MS: '0',
    TENANTS: JSON.stringify([{ id: 'shop', apiKeys: [KEY], webhook: { url: receiver.url, secret: receiver.secret } }]),
    WEBHOOK_RETRY_DELAYS_MS: '[200,500,1000]',
  });
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${node.url}${p}`, {
      method, redirect: 'manual', headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, headers: res.headers, body: res.status === 204 || res.status === 307 ? null : await res.json().catch(() => null) };
  };
  const of = (type: string, callId: string) => receiver.events.filter((e) => e.type === type && e.data.callId === callId);

  beforeAll(async () => {
    await receiver.start();
    node = await ClusterNode.start('restart', 'local', '', env());
  }, 60_000);
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await node?.stop();
    await receiver.stop();
  });

  it('serves its files and honours its links after a restart, closes the calls it left open, and a room created ahead goes on', async () => {
    // A call its participants opened by joining (no room created ahead), with a recording and a snapshot.
    const tokenFor = async (identity: string, role: string) => (await api('POST', '/v1/tokens', { room: 'adhoc', identity, role })).body.token as string;
    const seller = await WeriftPeer.connect(node.ws, await tokenFor('seller', 'seller'));
    const buyer = await WeriftPeer.connect(node.ws, await tokenFor('buyer', 'buyer'));
    peers.push(seller, buyer);
    await seller.publish({ data: false });
    await buyer.publish({ data: false });
    const callId = (await api('GET', '/v1/rooms/adhoc')).body.callId as string;
    expect((await api('POST', '/v1/rooms/adhoc/recordings', {})).status).toBe(201);
    const snap = await api('POST', '/v1/rooms/adhoc/snapshots', { identity: 'seller' });
    expect(snap.status).toBe(201);
    // A room created ahead with its ticket, that nobody has joined yet.
    const ahead = await api('POST', '/v1/rooms', { room: 'ticket-9', emptyTimeoutSeconds: 120, metadata: { ticketId: 'T-9' }, participants: [{ identity: 'buyer-9', role: 'buyer' }] });
    expect(ahead.status).toBe(201);
    await waitFor(async () => (await api('GET', '/v1/rooms/adhoc/recordings')).body.recordings[0].files.length === 4, 'every track recording');
    await new Promise((r) => setTimeout(r, 1500)); // a second of media in each file
    const nodeId = snap.body.node;

    await node.stop('SIGKILL');
    node = await ClusterNode.start('restart', 'local', '', env());

    // The same node: its id came from its store, so it serves its own files, and its link key did too.
    expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
    const file = await api('GET', `/v1/files/${snap.body.snapshotId}`);
    expect(file.status).toBe(200);
    const linked = await fetch(snap.body.url.replace(/^http:\/\/[^/]+/, node.url));
    expect(linked.status).toBe(200);
    expect(linked.headers.get('content-type')).toBe('image/jpeg');

    // The call that was live: its participants left with node_restart, its files were finished, and it ended with its record.
    await waitFor(() => of('call.record', callId).length === 1, 'the open call closed with its record', 20_000);
    expect(of('participant.left', callId).map((e) => `${e.data.identity}:${e.data.reason}`).sort()).toEqual(['buyer:node_restart', 'seller:node_restart']);
    const finished = of('recording.finished', callId);
    expect(finished).toHaveLength(1);
    expect(finished[0].data.files.map((f: { status: string; identity: string }) => `${f.identity}:${f.status}`).sort()).toEqual([
      'buyer:complete', 'buyer:complete', 'seller:complete', 'seller:complete',
    ]);
    expect(of('room.finished', callId)).toHaveLength(1);
    const record = await api('GET', `/v1/calls/${callId}`);
    expect(record.status).toBe(200);
    expect(record.body.participants.map((p: { identity: string; leaveReason: string; node: string }) => `${p.identity}:${p.leaveReason}@${p.node}`).sort())
      .toEqual([`buyer:node_restart@${nodeId}`, `seller:node_restart@${nodeId}`]);
    // What the journal kept from before the kill, then the restart.
    const timeline = record.body.timeline.map((t: { type: string; identity?: string }) => `${t.type}${t.identity ? `:${t.identity}` : ''}`);
    expect(timeline.slice(0, 3)).toEqual(['room.started', 'participant.joined:seller', 'participant.joined:buyer']);
    expect(timeline).toContain('node.restarted');
    expect(record.body.snapshots.map((s: { snapshotId: string }) => s.snapshotId)).toEqual([snap.body.snapshotId]);
    expect(record.body.recordings.every((f: { durationSeconds: number | null }) => (f.durationSeconds ?? 0) > 0)).toBe(true);

    // The room created ahead is there again, with its call id and metadata, and the buyer joins that call.
    const room = await api('GET', '/v1/rooms/ticket-9');
    expect(room.body).toMatchObject({ callId: ahead.body.room.callId, metadata: { ticketId: 'T-9' } });
    const back = await WeriftPeer.connect(node.ws, ahead.body.tokens[0].token);
    peers.push(back);
    expect(back.join.metadata).toEqual({ ticketId: 'T-9' });
    expect(of('call.record', ahead.body.room.callId)).toHaveLength(0);
  }, 120_000);

  it('SIGTERM to `npm start` drains the node behind it, not just npm', async () => {
    const child = spawn('npm', ['start'], {
      env: { ...process.env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WEBRTC_PORT_BASE: '0', MEDIA_NUM_WORKERS: '1', DEMO_ENABLED: 'false', STORE_PATH: path.join(dir, 'npm.sqlite'), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(() => /"port":\d+/.test(out) && out.includes('media node listening'), 'the node listening', 60_000);
    const port = Number(/"port":(\d+)/.exec(out)![1]);
    const pid = Number(/"pid":(\d+)/.exec(out)![1]);
    expect(pid).not.toBe(child.pid);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The node got the signal (it drained and said so), and is gone: nothing listens any more.
    expect(out).toContain('draining before exit');
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 90_000);
});
