import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A 1280×720 y4m clip at 20 fps for Chromium's `--use-file-for-video-capture`, made once per
 * machine with ffmpeg. Chromium's own fake camera is 640×480, which the SDK sends as two
 * simulcast layers; a 720p source gives all three (320, 640 and 1280 pixels wide), so a rate cap
 * and the climb to the top layer can be seen. Moving test pattern plus temporal noise, as a
 * camera's sensor gives, so the encoder spends the bitrate a real picture costs. Chromium loops it.
 */
export function clip720p(seconds = 4): string {
  const file = path.join(os.tmpdir(), `crossborder-sfu-720p20-${seconds}s.y4m`);
  if (fs.existsSync(file)) return file;
  const partial = `${file}.${process.pid}.part`;
  execFileSync('ffmpeg', [
    '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=20:duration=${seconds}`,
    '-vf', 'noise=alls=12:allf=t', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', partial,
  ]);
  fs.renameSync(partial, file); // whole or not at all: a concurrent run never reads half a clip
  return file;
}

/** Chromium flags that make its fake camera play `clip` (the fake microphone stays). */
export const fileCameraArgs = (clip: string) => [`--use-file-for-video-capture=${clip}`];
