import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PlatformStore, StoredFile } from '../platform/store.js';
import type { RoomSettings } from '../rooms/room-settings.js';
import { CodedError } from '../common/errors.js';

export interface FileLinkQuery {
  tenant: string;
  expires: number;
  sig: string;
}

/**
 * Where recordings and snapshots go: one folder per tenant and call under recording.dir, an
 * entry in the store for each (so any node finds it and the call record lists it), and signed,
 * expiring download links that need no API key (for a page that shows a snapshot).
 */
export class EvidenceFiles {
  constructor(
    readonly root: string,
    private readonly minFreeBytes: number,
    private readonly store: PlatformStore,
    /** Signs download links; shared by the cluster's nodes, so a link works on any of them. */
    private readonly linkKey: Buffer,
    private readonly linkTtlSeconds: number,
  ) {}

  /** The call's folder, created on first use. */
  dirFor(settings: RoomSettings): string {
    const dir = path.join(path.resolve(this.root), settings.tenant, settings.callId);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Refuses new evidence (DISK_FULL) while the disk has less room than recording.minFreeMegabytes. */
  async ensureSpace() {
    fs.mkdirSync(path.resolve(this.root), { recursive: true });
    const stats = await fs.promises.statfs(path.resolve(this.root));
    const free = stats.bavail * stats.bsize;
    if (free < this.minFreeBytes) {
      throw new CodedError('DISK_FULL', `${path.resolve(this.root)} has ${Math.floor(free / 1048576)} MB free, under recording.minFreeMegabytes (${Math.floor(this.minFreeBytes / 1048576)} MB)`);
    }
  }

  put(file: StoredFile) {
    return this.store.putFile(file);
  }

  get(tenant: string, id: string) {
    return this.store.getFile(tenant, id);
  }

  /** A download link for `file` on the node at `baseUrl`, valid for recording.linkTtlSeconds. */
  link(file: Pick<StoredFile, 'id' | 'tenant'>, baseUrl: string, now = Date.now()): { url: string; expiresAt: number } {
    const expires = Math.floor(now / 1000) + this.linkTtlSeconds;
    const query = new URLSearchParams({ tenant: file.tenant, expires: String(expires), sig: this.sign(file.tenant, file.id, expires) });
    return { url: `${baseUrl.replace(/\/$/, '')}/v1/files/${encodeURIComponent(file.id)}?${query}`, expiresAt: expires };
  }

  /** Whether a link's query is this node's (or cluster's) signature for `id`, and not expired. */
  verify(id: string, q: FileLinkQuery, now = Date.now()): boolean {
    if (!Number.isInteger(q.expires) || q.expires * 1000 < now) return false;
    const want = Buffer.from(this.sign(q.tenant, id, q.expires));
    const got = Buffer.from(q.sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private sign(tenant: string, id: string, expires: number) {
    return createHmac('sha256', this.linkKey).update(`${tenant}\n${id}\n${expires}`).digest('base64url');
  }
}
