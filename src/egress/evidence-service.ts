import type { Config } from '../config/schema.js';
import type { ForwardView, Note, RecordingView, Snapshot } from '../contracts/records.js';
import type { RoomHosts } from '../platform/room-hosts.js';
import { roomNotFound } from '../platform/room-service.js';
import type { PlatformStore, StoredFile } from '../platform/store.js';
import type { RoomDirectory } from '../rooms/directory.js';
import { roomKey, type RoomKey } from '../rooms/room-key.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { newId, type RoomSettings } from '../rooms/room-settings.js';
import type { Tenant } from '../tenants/tenants.js';
import type { EvidenceFiles } from './files.js';
import type { Forwarder, ForwardRequest } from './forwards.js';
import type { Recordings } from './recordings.js';
import type { Snapshotter } from './snapshots.js';
import { CodedError } from '../common/errors.js';

export interface EvidenceDeps {
  rooms: RoomRegistry;
  hosts: RoomHosts;
  recordings: Recordings;
  snapshotter: Snapshotter;
  forwarder: Forwarder;
  files: EvidenceFiles;
  store: PlatformStore;
  config: Config;
  directory: RoomDirectory;
}

export interface SnapshotAnswer extends Snapshot {
  /** A signed link to the JPEG, valid for recording.linkTtlSeconds. */
  url: string;
  expiresAt: number;
}

/**
 * The evidence of a call through the server API (and the snapshot request of the protocol):
 * recordings, snapshots, RTP forwards and notes, each run on the node that hosts the media.
 */
export class EvidenceService {
  constructor(private readonly deps: EvidenceDeps) {
    const { hosts, rooms, recordings, forwarder } = deps;
    hosts.define('api.startRecording', async ({ roomId, spec, admit }) => {
      const room = rooms.get(roomId);
      return { started: room ? await recordings.start(room, spec, admit) : false };
    });
    hosts.define('api.stopRecording', async ({ roomId, recordingId }) => {
      const room = rooms.get(roomId);
      return { stopped: room ? await recordings.stop(room, recordingId) : false };
    });
    hosts.define('api.snapshot', async ({ roomId, peerId, trackId, takenBy }) => ({ snapshot: await this.snapshotHere(roomId, peerId, trackId, takenBy) }));
    hosts.define('api.forward', async ({ roomId, peerId, ...req }) => {
      const room = rooms.get(roomId);
      return { forward: room ? await forwarder.start(room, peerId, req) : null };
    });
    hosts.define('api.stopForward', async ({ roomId, forwardId }) => {
      const room = rooms.get(roomId);
      return { stopped: room ? forwarder.stop(room, forwardId) : false };
    });
    hosts.define('api.listForwards', async ({ roomId }) => {
      const room = rooms.get(roomId);
      return { forwards: room ? forwarder.list(room) : [] };
    });
  }

  private async settingsOf(key: RoomKey, room: string): Promise<RoomSettings> {
    const settings = await this.deps.directory.settings(key);
    if (!settings) throw roomNotFound(room);
    return settings;
  }

  // ---- recordings -----------------------------------------------------------------------------

  async startRecording(tenant: Tenant, room: string, identity: string | null): Promise<RecordingView> {
    const key = roomKey(tenant.id, room);
    await this.settingsOf(key, room);
    const spec = { id: newId('rec'), identity, startedAt: Date.now() };
    // The room's owner admits it (within limits.recordingsPerRoom, atomically); the other nodes that host part of the room follow.
    const owner = await this.deps.directory.ownerOf(key);
    if (!owner) throw roomNotFound(room);
    await this.deps.hosts.on(owner, 'api.startRecording', { roomId: key, spec, admit: true });
    const others = (await this.deps.directory.hosts(key)).filter((n) => n !== owner);
    await Promise.all(others.map((node) => this.deps.hosts.on(node, 'api.startRecording', { roomId: key, spec, admit: false })));
    return { recordingId: spec.id, identity, startedAt: new Date(spec.startedAt).toISOString(), active: true, files: [] };
  }

  async stopRecording(tenant: Tenant, room: string, recordingId: string) {
    const key = roomKey(tenant.id, room);
    const settings = await this.settingsOf(key, room);
    if (!settings.recordings.some((r) => r.id === recordingId)) throw new CodedError('NOT_FOUND', `no recording ${recordingId} runs in room ${room}`);
    await this.deps.hosts.each(key, 'api.stopRecording', { roomId: key, recordingId });
  }

  /** The room's recordings: those running, and those that ran in this call, with their files. */
  async recordings(tenant: Tenant, room: string): Promise<RecordingView[]> {
    const settings = await this.settingsOf(roomKey(tenant.id, room), room);
    const files = (await this.deps.store.filesOfCall(tenant.id, settings.callId)).flatMap((f) => (f.kind === 'recording' ? [f.info] : []));
    const views = new Map<string, RecordingView>();
    for (const r of settings.recordings) views.set(r.id, { recordingId: r.id, identity: r.identity, startedAt: new Date(r.startedAt).toISOString(), active: true, files: [] });
    for (const f of files) {
      if (!views.has(f.recordingId)) views.set(f.recordingId, { recordingId: f.recordingId, identity: f.recordingOf, startedAt: f.startedAt, active: false, files: [] });
      views.get(f.recordingId)!.files.push(f);
    }
    return [...views.values()];
  }

  // ---- snapshots ------------------------------------------------------------------------------

  /** A snapshot of `peerId`'s video, taken on the node that hosts it. */
  async snapshot(tenant: string, room: string, peerId: string, trackId: string | undefined, takenBy: string): Promise<SnapshotAnswer> {
    const key = roomKey(tenant, room);
    await this.settingsOf(key, room);
    const answers = await this.deps.hosts.each(key, 'api.snapshot', { roomId: key, peerId, trackId, takenBy });
    const snapshot = answers.find((a) => a.snapshot)?.snapshot;
    if (!snapshot) throw new CodedError('NOT_FOUND', `no participant ${peerId} with ${trackId ? `track ${trackId}` : 'a video track'} in room ${room}`);
    return { ...snapshot, ...(await this.link({ id: snapshot.snapshotId, tenant, node: snapshot.node })) };
  }

  /** Takes the snapshot where its subject is hosted; the room announces it to everyone in the call. */
  private async snapshotHere(key: RoomKey, peerId: string, trackId: string | undefined, takenBy: string): Promise<Snapshot | null> {
    const room = this.deps.rooms.get(key);
    const peer = room?.peers.get(peerId);
    if (!room || !peer) return null;
    const videos = [...peer.producers.values()].filter((p) => p.kind === 'video' && (!trackId || p.id === trackId));
    const producer = videos.find((p) => p.appData.source === 'camera') ?? videos[0];
    if (!producer) return null;
    const file = await this.deps.snapshotter.take(room.settings, { peerId: peer.id, producer, router: peer.router }, takenBy);
    room.announceSnapshot({ snapshotId: file.id, peerId, takenBy, at: Date.parse(file.info.takenAt) });
    return file.info;
  }

  // ---- forwards -------------------------------------------------------------------------------

  async forward(tenant: Tenant, room: string, peerId: string, req: ForwardRequest): Promise<ForwardView> {
    const key = roomKey(tenant.id, room);
    await this.settingsOf(key, room);
    const answers = await this.deps.hosts.each(key, 'api.forward', { roomId: key, peerId, ...req });
    const forward = answers.find((a) => a.forward)?.forward;
    if (!forward) throw new CodedError('NOT_FOUND', `no participant ${peerId} in room ${room}`);
    return forward;
  }

  async stopForward(tenant: Tenant, room: string, forwardId: string) {
    const key = roomKey(tenant.id, room);
    await this.settingsOf(key, room);
    const answers = await this.deps.hosts.each(key, 'api.stopForward', { roomId: key, forwardId });
    if (!answers.some((a) => a.stopped)) throw new CodedError('NOT_FOUND', `no forward ${forwardId} in room ${room}`);
  }

  async forwards(tenant: Tenant, room: string): Promise<ForwardView[]> {
    const key = roomKey(tenant.id, room);
    await this.settingsOf(key, room);
    return (await this.deps.hosts.each(key, 'api.listForwards', { roomId: key })).flatMap((a) => a.forwards);
  }

  // ---- notes and files ------------------------------------------------------------------------

  async addNote(tenant: Tenant, room: string, note: Omit<Note, 'at'>): Promise<Note> {
    const settings = await this.settingsOf(roomKey(tenant.id, room), room);
    const full: Note = { at: new Date().toISOString(), ...note };
    const max = this.deps.config.limits.notesPerCall;
    if (!(await this.deps.store.addNote(tenant.id, settings.callId, full, max))) throw new CodedError('LIMIT_REACHED', `this call has ${max} notes already (limits.notesPerCall)`);
    return full;
  }

  file(tenant: Tenant, id: string) {
    return this.deps.files.get(tenant.id, id);
  }

  isLocal(file: StoredFile) {
    return file.node === this.deps.directory.self.id;
  }

  /** The tenant a signed file link speaks for, when the link is valid. */
  linkTenant(fileId: string, query: Record<string, unknown>): string | undefined {
    const tenant = typeof query.tenant === 'string' ? query.tenant : undefined;
    const sig = typeof query.sig === 'string' ? query.sig : undefined;
    if (!tenant || !sig) return undefined;
    return this.deps.files.verify(fileId, { tenant, expires: Number(query.expires), sig }) ? tenant : undefined;
  }

  /** A signed link to a file, on the node that holds it. */
  async link(file: Pick<StoredFile, 'id' | 'tenant' | 'node'>) {
    const { directory, files } = this.deps;
    const url = (await directory.nodeUrl(file.node)) ?? directory.self.url;
    return files.link(file, url);
  }
}
