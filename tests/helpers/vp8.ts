import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let cached: Buffer | undefined;

/**
 * One real VP8 key frame (320x240, ffmpeg's test pattern), so that what werift peers send can
 * be decoded: recorded, snapshotted, probed. Encoded once per process with Debian's ffmpeg.
 */
export function vp8TestFrame(): Buffer {
  if (cached) return cached;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vp8-')), 'frame.ivf');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=1', '-frames:v', '1', '-c:v', 'libvpx', '-b:v', '300k', '-f', 'ivf', '-y', file]);
  const ivf = fs.readFileSync(file);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  // IVF: a 32-byte file header, then per frame a 12-byte header (size, timestamp) and the frame.
  const headerSize = ivf.readUInt16LE(6);
  const size = ivf.readUInt32LE(headerSize);
  cached = ivf.subarray(headerSize + 12, headerSize + 12 + size);
  return cached;
}

/** RTP payloads of one VP8 frame (RFC 7741): a payload descriptor with S=1 on the first. */
export function vp8Packets(frame: Buffer, maxPayload = 1100): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < frame.length; offset += maxPayload) {
    out.push(Buffer.concat([Buffer.from([offset === 0 ? 0x10 : 0x00]), frame.subarray(offset, offset + maxPayload)]));
  }
  return out;
}
