import fs from 'node:fs';
import type { StoredFile } from '../platform/store.js';
import type { Exit, Ffmpeg } from './ffmpeg.js';

export type RecordingEntry = StoredFile & { kind: 'recording' };

/**
 * Closes a recording file's entry: its size and duration as ffprobe measures them, after
 * remuxing a file whose writer was killed before its trailer (the track had ended, ffmpeg
 * crashed, or the node stopped under it). `endedAt` defaults to now.
 */
export async function finishRecordingFile(ffmpeg: Ffmpeg, file: RecordingEntry, error: string | null, endedAt = Date.now()) {
  let bytes = await fs.promises.stat(file.path).then((s) => s.size, () => 0);
  let durationSeconds: number | null = null;
  if (bytes > 0) {
    durationSeconds = await ffmpeg.probe(file.path).then((p) => p.durationSeconds || null, () => null);
    if (durationSeconds === null && (await ffmpeg.repair(file.path))) {
      bytes = await fs.promises.stat(file.path).then((s) => s.size, () => 0);
      durationSeconds = await ffmpeg.probe(file.path).then((p) => p.durationSeconds || null, () => null);
    }
  }
  const empty = durationSeconds === null && !error ? 'no media arrived (the track was paused, or sent nothing)' : null;
  file.info = {
    ...file.info, endedAt: new Date(endedAt).toISOString(), bytes, durationSeconds,
    status: error || empty ? 'failed' : 'complete', error: error ?? empty,
  };
  return file;
}

/** One line for a record: how ffmpeg ended and the last thing it said. */
export function describeExit(exit: Exit): string {
  if (exit.error) return `ffmpeg could not run: ${exit.error.message}`;
  const last = exit.stderr.trim().split('\n').filter(Boolean).at(-1) ?? '';
  return `ffmpeg exited (${exit.signal ?? `code ${exit.code}`})${last ? `: ${last.slice(0, 300)}` : ''}`;
}
