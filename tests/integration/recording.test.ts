import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ffmpeg } from '../../src/egress/ffmpeg.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { fillingFiles } from '../helpers/recording-files.js';
import { freeRtpPort } from '../helpers/rtp-port.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';
import { sleep } from '../helpers/time.js';

const KEY = 'shop-key-recording-0123456789abcdef';
const ffmpeg = new Ffmpeg('ffmpeg', 'ffprobe');

/** The mean and spread of a JPEG's pixel values (RGB, 0-255), decoded by ffmpeg: a black frame has both near 0. */
function luminance(jpeg: string) {
  const gray = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', jpeg, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
  const mean = gray.reduce((a, b) => a + b, 0) / gray.length;
  const spread = Math.sqrt(gray.reduce((a, b) => a + (b - mean) ** 2, 0) / gray.length);
  return { mean, spread };
}

/** The ffmpeg processes receiving RTP into files under `dir` (the node's recorders; not the short ones that repair a file there). */
const recordersIn = (dir: string) => execFileSync('ps', ['-eo', 'pid=,args=']).toString().split('\n')
  .filter((l) => l.includes('ffmpeg') && l.includes('-f sdp') && l.includes(dir)).map((l) => Number(l.trim().split(/\s+/)[0]));

describe('recording, snapshots and RTP forwards', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recordings-'));
  const receiver = new WebhookReceiver(newWebhookSecret());
  let t: TestNode;
  const peers: WeriftPeer[] = [];
  const api = (method: string, url: string, body?: unknown, key = KEY) => fetch(`${t.http}${url}`, {
    method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  const call = async (room: string) => {
    const created = await (await api('POST', '/v1/rooms', { room, participants: [{ identity: 'seller', role: 'seller' }, { identity: 'buyer', role: 'buyer' }] })).json();
    const seller = await WeriftPeer.connect(t.ws, created.tokens[0].token);
    const buyer = await WeriftPeer.connect(t.ws, created.tokens[1].token);
    peers.push(seller, buyer);
    await seller.publish({ data: false });
    await buyer.publish({ data: false });
    await buyer.subscribe({ consumers: 2 });
    await waitFor(() => buyer.received.video.packets > 10, 'media');
    return { created, seller, buyer };
  };

  beforeAll(async () => {
    await receiver.start();
    t = await startTestNode({
      tenants: [{ id: 'shop', apiKeys: [KEY], webhook: { url: receiver.url, secret: receiver.secret } }],
      recording: { dir, minFreeMegabytes: 1, maxRestarts: 1 },
      rooms: { emptyTimeoutSeconds: 1 },
    });
  });
  afterAll(async () => {
    for (const p of peers) await p.close();
    await t?.close();
    await receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records each track without transcoding: WebM files whose streams and duration ffprobe confirms, listed in the record', async () => {
    const { seller, buyer } = await call('rec-room');
    // From before the start is asked to after the stop is answered: the file cannot hold more.
    const t0 = Date.now();
    const started = await api('POST', '/v1/rooms/rec-room/recordings', {});
    expect(started.status).toBe(201);
    const { recordingId } = await started.json();
    // Four seconds once every file fills, however late a busy machine starts ffmpeg.
    const { callId } = await (await api('GET', '/v1/rooms/rec-room')).json();
    await waitFor(() => fillingFiles(dir, callId) >= 4, 'four files filling', 20_000);
    await sleep(4000);
    expect((await api('DELETE', `/v1/rooms/rec-room/recordings/${recordingId}`)).status).toBe(204);
    const elapsed = (Date.now() - t0) / 1000;

    const { recordings } = await (await api('GET', '/v1/rooms/rec-room/recordings')).json();
    expect(recordings).toHaveLength(1);
    expect(recordings[0]).toMatchObject({ recordingId, identity: null, active: false });
    const files = recordings[0].files;
    expect(files.map((f: { identity: string; kind: string }) => `${f.identity}:${f.kind}`).sort()).toEqual(['buyer:audio', 'buyer:video', 'seller:audio', 'seller:video']);
    for (const f of files) {
      expect(f).toMatchObject({ status: 'complete', container: 'webm', error: null, recordingOf: null });
      expect(f.bytes).toBeGreaterThan(1000);
      // No longer than the recording ran, and more than a start: a busy machine starts ffmpeg
      // later and makes the file shorter, never longer, so only the upper bound is tight.
      expect(f.durationSeconds).toBeLessThanOrEqual(elapsed + 0.5);
      expect(f.durationSeconds).toBeGreaterThan(1);
      // The file as the API serves it, probed on its own: the record's duration is the file's.
      const local = path.join(dir, `${f.fileId}.${f.container}`);
      fs.writeFileSync(local, Buffer.from(await (await api('GET', `/v1/files/${f.fileId}`)).arrayBuffer()));
      const probe = await ffmpeg.probe(local);
      expect(probe.durationSeconds).toBeCloseTo(f.durationSeconds, 1);
      if (f.kind === 'video') expect(probe.streams).toEqual([expect.objectContaining({ kind: 'video', codec: 'vp8', width: 320, height: 240 })]);
      else expect(probe.streams).toEqual([expect.objectContaining({ kind: 'audio', codec: 'opus' })]);
    }
    await waitFor(() => receiver.unique().some((e) => e.type === 'recording.finished' && e.data.recordingId === recordingId), 'recording.finished');
    const finished = receiver.unique().find((e) => e.type === 'recording.finished')!;
    expect(finished.data).toMatchObject({ room: 'rec-room', status: 'complete', error: null });
    expect(finished.data.files).toHaveLength(4);

    expect((await api('POST', '/v1/rooms/rec-room/notes', { author: 'after-sales', kind: 'resolution', text: 'partial refund, no return', data: { refundEur: 15 } })).status).toBe(201);
    expect((await api('DELETE', '/v1/rooms/rec-room')).status).toBe(204);
    await Promise.all([seller.close(), buyer.close()]);
    await waitFor(() => receiver.unique().some((e) => e.type === 'call.record' && e.data.room === 'rec-room'), 'call.record');
    const record = receiver.unique().find((e) => e.type === 'call.record' && e.data.room === 'rec-room')!.data;
    expect(record.recordings.map((f: { fileId: string }) => f.fileId).sort()).toEqual(files.map((f: { fileId: string }) => f.fileId).sort());
    expect(record.notes).toEqual([expect.objectContaining({ kind: 'resolution', data: { refundEur: 15 } })]);
    expect(receiver.invalid).toEqual([]);
  }, 60_000);

  it('follows one participant who reconnects: new files for the new tracks, the others not recorded', async () => {
    const { created, seller } = await call('rec-follow');
    const { recordingId } = await (await api('POST', '/v1/rooms/rec-follow/recordings', { identity: 'seller' })).json();
    await sleep(1500);
    await seller.close();
    const again = await WeriftPeer.connect(t.ws, created.tokens[0].token);
    peers.push(again);
    await again.publish({ data: false });
    await sleep(2000);
    await api('DELETE', `/v1/rooms/rec-follow/recordings/${recordingId}`);
    const [recording] = (await (await api('GET', '/v1/rooms/rec-follow/recordings')).json()).recordings;
    expect(recording.identity).toBe('seller');
    expect(recording.files.map((f: { identity: string }) => f.identity)).toEqual(['seller', 'seller', 'seller', 'seller']);
    expect(new Set(recording.files.map((f: { trackId: string }) => f.trackId)).size).toBe(4);
    expect(recording.files.map((f: { status: string; error: string | null }) => `${f.status} ${f.error}`)).toEqual(Array(4).fill('complete null'));
  }, 60_000);

  it('one ffmpeg records a participant\'s camera and microphone; one that dies is restarted into new files; dying again beyond recording.maxRestarts fails the recording, said in the webhook and /metrics', async () => {
    await call('rec-crash');
    const { recordingId } = await (await api('POST', '/v1/rooms/rec-crash/recordings', { identity: 'seller' })).json();
    await waitFor(() => recordersIn(dir).length === 1, 'the seller\'s recorder');
    const initial = recordersIn(dir);
    // One process for both of the seller's tracks, not one per track.
    await sleep(1000);
    expect(recordersIn(dir)).toEqual(initial);
    process.kill(initial[0], 'SIGKILL');
    await waitFor(() => recordersIn(dir).some((pid) => !initial.includes(pid)), 'the recorder restarted');
    expect(recordersIn(dir)).toHaveLength(1);
    // Kill the restarted one too: one restart a minute is allowed here, so the seller's recording fails.
    process.kill(recordersIn(dir)[0], 'SIGKILL');
    await sleep(1000);
    expect(recordersIn(dir)).toEqual([]);
    await api('DELETE', `/v1/rooms/rec-crash/recordings/${recordingId}`);
    await waitFor(() => receiver.unique().some((e) => e.type === 'recording.finished' && e.data.recordingId === recordingId), 'recording.finished');
    const finished = receiver.unique().find((e) => e.type === 'recording.finished' && e.data.recordingId === recordingId)!.data;
    expect(finished.status).toBe('failed');
    expect(finished.error).toMatch(/ffmpeg exited 2 times within a minute/);
    // Two processes, each with an audio and a video file, each ended by the kill.
    expect(finished.files.map((f: { kind: string; status: string }) => `${f.kind} ${f.status}`).sort()).toEqual(['audio failed', 'audio failed', 'video failed', 'video failed']);
    for (const f of finished.files) expect(f.error).toMatch(/ffmpeg exited \(SIGKILL\)/);
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    expect(metrics).toMatch(/sfu_recording_failures_total\{reason="ffmpeg_exit"\} 1/);
  }, 60_000);

  it('a camera paused mid-recording does not hold up its microphone\'s file in the same process; a track published later gets a process of its own', async () => {
    const { seller } = await call('rec-pause');
    const { recordingId } = await (await api('POST', '/v1/rooms/rec-pause/recordings', { identity: 'seller' })).json();
    await waitFor(() => recordersIn(dir).length === 1, 'the seller\'s recorder');
    await sleep(1500);
    await seller.client.request('pauseProducer', { producerId: seller.producers.video });
    const pausedAt = Date.now();
    await sleep(3000);
    // A second camera (a screen, say) starts after the first two: it cannot join their process.
    const first = recordersIn(dir);
    await seller.publish({ audio: false, video: true, data: false });
    await waitFor(() => recordersIn(dir).length === 2, 'a process for the new track');
    expect(recordersIn(dir)).toEqual(expect.arrayContaining(first));
    await sleep(1500);
    await api('DELETE', `/v1/rooms/rec-pause/recordings/${recordingId}`);
    const [recording] = (await (await api('GET', '/v1/rooms/rec-pause/recordings')).json()).recordings;
    const files = recording.files as Array<{ kind: string; status: string; durationSeconds: number; startedAt: string }>;
    expect(files.map((f) => `${f.kind} ${f.status}`).sort()).toEqual(['audio complete', 'video complete', 'video complete']);
    const [audio] = files.filter((f) => f.kind === 'audio');
    const [camera, screen] = files.filter((f) => f.kind === 'video').sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    // The camera's file holds what it sent before the pause; the microphone's runs on through the
    // 4.5 s and more of the pause (media durations, the files' own, not the clock).
    expect(camera.durationSeconds).toBeLessThan((pausedAt - Date.parse(camera.startedAt)) / 1000 + 1);
    expect(audio.durationSeconds).toBeGreaterThan(camera.durationSeconds + 3);
    expect(screen.durationSeconds).toBeGreaterThan(0.5);
  }, 60_000);

  it('a participant who pauses everything for longer than ffmpeg waits for a packet: the files so far are complete, new ones start on resume, nothing fails', async () => {
    const exits = async () => Number((await (await fetch(`${t.http}/metrics`)).text()).match(/sfu_recording_failures_total\{reason="ffmpeg_exit"\} (\d+)/)?.[1] ?? 0);
    const exitsBefore = await exits();
    const { seller } = await call('rec-idle');
    const { recordingId } = await (await api('POST', '/v1/rooms/rec-idle/recordings', { identity: 'seller' })).json();
    await waitFor(() => recordersIn(dir).length === 1, 'the seller\'s recorder');
    await sleep(1500);
    for (const kind of ['audio', 'video'] as const) await seller.client.request('pauseProducer', { producerId: seller.producers[kind] });
    // ffmpeg ends after 10 s without a packet on any stream; nothing new starts while paused.
    await waitFor(() => recordersIn(dir).length === 0, 'the idle recorder gone', 30_000);
    await sleep(1000);
    expect(recordersIn(dir)).toEqual([]);
    for (const kind of ['audio', 'video'] as const) await seller.client.request('resumeProducer', { producerId: seller.producers[kind] });
    await waitFor(() => recordersIn(dir).length === 1, 'a recorder again after the resume');
    await sleep(1500);
    await api('DELETE', `/v1/rooms/rec-idle/recordings/${recordingId}`);
    await waitFor(() => receiver.unique().some((e) => e.type === 'recording.finished' && e.data.recordingId === recordingId), 'recording.finished');
    const finished = receiver.unique().find((e) => e.type === 'recording.finished' && e.data.recordingId === recordingId)!.data;
    expect(finished).toMatchObject({ status: 'complete', error: null });
    expect(finished.files.map((f: { kind: string; status: string }) => `${f.kind} ${f.status}`).sort()).toEqual(['audio complete', 'audio complete', 'video complete', 'video complete']);
    expect(await exits()).toBe(exitsBefore);
  }, 90_000);

  it('snapshots: a JPEG of the buyer\'s real video (right size, not black), by grant, over the protocol and the API, with signed links', async () => {
    const { seller, buyer } = await call('snap-room');
    // A buyer may not take stills of the seller; a seller may of the buyer.
    await expect(buyer.client.request('takeSnapshot', { peerId: 'seller' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(seller.client.request('takeSnapshot', { peerId: 'nobody' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const snap = await seller.client.request('takeSnapshot', { peerId: 'buyer' });
    expect(snap).toMatchObject({ identity: 'buyer', takenBy: 'seller', width: 320, height: 240 });
    expect(await buyer.client.notification('snapshotTaken')).toMatchObject({ snapshotId: snap.snapshotId, peerId: 'buyer', takenBy: 'seller' });

    // The signed link needs no key; a forged or expired one is refused.
    const viaLink = await fetch(snap.url);
    expect(viaLink.status).toBe(200);
    expect(viaLink.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = path.join(dir, 'snap.jpg');
    fs.writeFileSync(jpeg, Buffer.from(await viaLink.arrayBuffer()));
    expect(fs.readFileSync(jpeg).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const { mean, spread } = luminance(jpeg);
    expect(mean).toBeGreaterThan(30);
    expect(spread).toBeGreaterThan(20);
    expect((await fetch(snap.url.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(401);
    expect((await fetch(snap.url.replace(/expires=\d+/, `expires=${Math.floor(Date.now() / 1000) - 1}`))).status).toBe(401);
    expect((await fetch(`${t.http}/v1/files/${snap.snapshotId}`)).status).toBe(401);
    // Another tenant's key does not find it.
    expect((await api('GET', `/v1/files/${snap.snapshotId}`, undefined, t.config.auth.apiKeys[0])).status).toBe(404);

    const byApi = await api('POST', '/v1/rooms/snap-room/snapshots', { identity: 'seller' });
    expect(byApi.status).toBe(201);
    expect(await byApi.json()).toMatchObject({ identity: 'seller', takenBy: 'api', width: 320 });
    // A paused track sends nothing: the snapshot fails with its own code, and the call goes on.
    await seller.client.request('pauseProducer', { producerId: seller.producers.video });
    const paused = await api('POST', '/v1/rooms/snap-room/snapshots', { identity: 'seller' });
    expect(paused.status).toBe(502);
    expect((await paused.json()).error.code).toBe('SNAPSHOT_FAILED');
    const before = buyer.received.audio.packets;
    await waitFor(() => buyer.received.audio.packets > before + 10, 'the call goes on');
  }, 60_000);

  it('forwards a participant\'s audio as RTP to a local receiver, and video with an SDP that ffmpeg receives into a file', async () => {
    await call('fwd-room');
    // A port the kernel picks, but not in the node's own RTC range: forwards into it are refused
    // (TARGET_NOT_ALLOWED), and the kernel's ephemeral range overlaps it.
    const { rtcMinPort, rtcMaxPort } = t.config.media;
    const outside = (p: number) => p + 1 < rtcMinPort || p > rtcMaxPort;
    let socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 20 && !outside(socket.address().port); i++) {
      socket.close();
      socket = dgram.createSocket('udp4');
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    }
    let packets = 0;
    socket.on('message', () => packets++);
    const port = socket.address().port;
    try {
      expect((await (await api('POST', '/v1/rooms/fwd-room/participants/seller/forwards', { host: '8.8.8.8', audioPort: 5004 })).json()).error.code).toBe('TARGET_NOT_ALLOWED');
      const res = await api('POST', '/v1/rooms/fwd-room/participants/seller/forwards', { host: '127.0.0.1', audioPort: port });
      expect(res.status).toBe(201);
      const audio = await res.json();
      expect(audio.sdp).toContain(`m=audio ${port} RTP/AVP`);
      await waitFor(() => packets > 40, 'forwarded audio packets');
      expect((await (await api('GET', '/v1/rooms/fwd-room/forwards')).json()).forwards).toHaveLength(1);
      expect((await api('DELETE', `/v1/rooms/fwd-room/forwards/${audio.forwardId}`)).status).toBe(204);
      const stopped = packets;
      await sleep(300);
      expect(packets - stopped).toBeLessThan(20);
    } finally {
      socket.close();
    }

    // ffmpeg receives the answered SDP as it is (even port pair chosen by the test).
    const videoPort = await freeRtpPort();
    const fwd = await (await api('POST', '/v1/rooms/fwd-room/participants/seller/forwards', { host: '127.0.0.1', videoPort, keyframeIntervalMs: 1000 })).json();
    const sdpFile = path.join(dir, 'forward.sdp');
    const out = path.join(dir, 'forward.webm');
    fs.writeFileSync(sdpFile, fwd.sdp);
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,udp,rtp', '-i', sdpFile, '-t', '3', '-c', 'copy', '-y', out]);
    await new Promise((r) => child.once('exit', r));
    const probe = await ffmpeg.probe(out);
    expect(probe.streams).toEqual([expect.objectContaining({ kind: 'video', codec: 'vp8', width: 320, height: 240 })]);
    await api('DELETE', `/v1/rooms/fwd-room/forwards/${fwd.forwardId}`);
  }, 60_000);
});

describe('recording every room of a tenant, and SRTP forwards', () => {
  it('a tenant with recording.auto has each room recorded from its start', async () => {
    const t = await startTestNode({ tenants: [{ id: 'archive', apiKeys: [KEY], recording: { auto: true } }] });
    try {
      const post = (url: string, body: object) => fetch(`${t.http}${url}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const created = await (await post('/v1/rooms', { room: 'auto', participants: [{ identity: 'seller', role: 'seller' }] })).json();
      const seller = await WeriftPeer.connect(t.ws, created.tokens[0].token);
      await seller.publish({ data: false });
      await sleep(2000);
      const { recordings } = await (await fetch(`${t.http}/v1/rooms/auto/recordings`, { headers: { authorization: `Bearer ${KEY}` } })).json();
      expect(recordings).toEqual([expect.objectContaining({ identity: null, active: true })]);
      expect(recordings[0].files.map((f: { kind: string; status: string }) => `${f.kind}:${f.status}`).sort()).toEqual(['audio:recording', 'video:recording']);
      await seller.close();
    } finally {
      await t.close();
    }
  }, 60_000);

  it('an SRTP forward carries its key in the SDP, and ffmpeg decrypts it into a file', async () => {
    const t = await startTestNode();
    const key = t.config.auth.apiKeys[0];
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'srtp', identity: 'seller', role: 'seller' }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srtp-'));
    try {
      await seller.publish({ data: false });
      const videoPort = await freeRtpPort();
      const res = await fetch(`${t.http}/v1/rooms/srtp/participants/seller/forwards`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ host: '127.0.0.1', videoPort, srtp: true, keyframeIntervalMs: 1000 }),
      });
      const fwd = await res.json();
      expect(fwd.sdp).toContain(`m=video ${videoPort} RTP/SAVP`);
      expect(fwd.sdp).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\S+/);
      fs.writeFileSync(path.join(dir, 'f.sdp'), fwd.sdp);
      const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,udp,rtp,srtp', '-i', path.join(dir, 'f.sdp'), '-t', '3', '-c', 'copy', '-y', path.join(dir, 'f.webm')]);
      await new Promise((r) => child.once('exit', r));
      const probe = await ffmpeg.probe(path.join(dir, 'f.webm'));
      expect(probe.streams).toEqual([expect.objectContaining({ kind: 'video', codec: 'vp8', width: 320, height: 240 })]);
    } finally {
      await seller.close();
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('recording on a node without ffmpeg, or without disk space', () => {
  it('refuses with FFMPEG_MISSING and DISK_FULL, and the call goes on', async () => {
    const t = await startTestNode({ recording: { ffmpegPath: '/nonexistent/ffmpeg', dir: fs.mkdtempSync(path.join(os.tmpdir(), 'rec-')) } });
    const key = t.config.auth.apiKeys[0];
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'no-ffmpeg', identity: 'seller', role: 'seller' }));
    const buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'no-ffmpeg', identity: 'buyer' }));
    try {
      await seller.publish({ data: false });
      await buyer.subscribe({ consumers: 2 });
      const post = (url: string, body: object) => fetch(`${t.http}${url}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const rec = await post('/v1/rooms/no-ffmpeg/recordings', {});
      expect(rec.status).toBe(503);
      expect((await rec.json()).error).toMatchObject({ code: 'FFMPEG_MISSING', message: expect.stringContaining('recording.ffmpegPath') });
      expect((await post('/v1/rooms/no-ffmpeg/snapshots', { identity: 'seller' })).status).toBe(503);
      const before = buyer.received.video.packets;
      await waitFor(() => buyer.received.video.packets > before + 20, 'the call goes on');
    } finally {
      await seller.close();
      await buyer.close();
      await t.close();
    }
  }, 60_000);

  it('a disk that fills up mid-recording fails the track with disk_full (no restart loop); below the free-space floor a recording is refused', async () => {
    const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'small-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mount]);
    const receiver = new WebhookReceiver(newWebhookSecret());
    await receiver.start();
    const t = await startTestNode({
      tenants: [{ id: 'shop', apiKeys: [KEY], webhook: { url: receiver.url, secret: receiver.secret } }],
      recording: { dir: mount, minFreeMegabytes: 0 },
    });
    const post = (url: string, body: object) => fetch(`${t.http}${url}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await (await post('/v1/rooms', { room: 'full-disk', participants: [{ identity: 'seller', role: 'seller' }] })).json();
    const seller = await WeriftPeer.connect(t.ws, created.tokens[0].token);
    try {
      await seller.publish({ audio: false, data: false });
      const { recordingId } = await (await post('/v1/rooms/full-disk/recordings', {})).json();
      await waitFor(() => receiver.unique().some((e) => e.type === 'recording.finished') || fs.statfsSync(mount).bavail === 0, 'the disk to fill', 30_000);
      await sleep(1500);
      await fetch(`${t.http}/v1/rooms/full-disk/recordings/${recordingId}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
      await waitFor(() => receiver.unique().some((e) => e.type === 'recording.finished'), 'recording.finished');
      const finished = receiver.unique().find((e) => e.type === 'recording.finished')!.data;
      expect(finished.status).toBe('failed');
      expect(finished.error).toMatch(/full/);
      expect(finished.files).toHaveLength(1);
      expect(await (await fetch(`${t.http}/metrics`)).text()).toMatch(/sfu_recording_failures_total\{reason="disk_full"\} 1/);
    } finally {
      await seller.close();
      await t.close();
      await receiver.stop();
    }
    // With a floor above what is left, the next recording is refused before it starts.
    const t2 = await startTestNode({ recording: { dir: mount, minFreeMegabytes: 1 } });
    try {
      const token = t2.token({ room: 'floor', identity: 'seller', role: 'seller' });
      const seller2 = await WeriftPeer.connect(t2.ws, token);
      const res = await fetch(`${t2.http}/v1/rooms/floor/recordings`, { method: 'POST', headers: { authorization: `Bearer ${t2.config.auth.apiKeys[0]}`, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(507);
      expect((await res.json()).error.code).toBe('DISK_FULL');
      await seller2.close();
    } finally {
      await t2.close();
      execFileSync('umount', [mount]);
      fs.rmSync(mount, { recursive: true, force: true });
    }
  }, 90_000);
});
