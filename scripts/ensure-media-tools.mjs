#!/usr/bin/env node
// ffmpeg records calls and captures snapshots (Debian's package). `npm start` installs it
// when it is missing and the user is root; otherwise it says how, and the node starts anyway:
// calls work, and recording and snapshot requests answer FFMPEG_MISSING.
import { ensureDebianPackages } from './lib/debian.mjs';

try {
  ensureDebianPackages(['ffmpeg'], (msg) => process.stderr.write(`[media-tools] ${msg}\n`));
} catch (err) {
  process.stderr.write(`[media-tools] ${err.message}; recordings and snapshots stay off until it is installed\n`);
}
