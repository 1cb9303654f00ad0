import fs from 'node:fs';
import path from 'node:path';

/**
 * How many of a call's files under a node's recording folder hold something yet: ffmpeg writes
 * a file's header once media has come, so a test can time a recording from there, however late
 * a busy machine started ffmpeg.
 */
export function fillingFiles(dir: string, callId: string): number {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.includes(callId) && f.endsWith('.webm') && fs.statSync(path.join(dir, f)).size > 0).length;
}
