// Installs missing Debian packages (as root), or says which command to run.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function missingDebianPackages(packages) {
  return packages.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return !r.stdout?.includes('install ok installed');
  });
}

export function ensureDebianPackages(packages, log) {
  const missing = missingDebianPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages; run: sudo apt-get install -y ${missing.join(' ')}`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
}

/** The machine's Debian package sources as deb-src entries (apt verifies them against the same signed Release files). */
function debianSourceEntries() {
  const entries = [];
  const dir = '/etc/apt/sources.list.d';
  const files = [
    ...(fs.existsSync('/etc/apt/sources.list') ? ['/etc/apt/sources.list'] : []),
    ...(fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).map((f) => path.join(dir, f)) : []),
  ];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        if (/^Types:.*\bdeb\b/m.test(stanza) && /^URIs:.*debian/m.test(stanza) && !/^Enabled:\s*no/mi.test(stanza)) {
          entries.push(stanza.replace(/^Types:.*$/m, 'Types: deb-src').trim());
        }
      }
    } else {
      for (const line of text.split('\n')) if (/^deb\s+.*debian/.test(line)) entries.push(line.replace(/^deb\s/, 'deb-src '));
    }
  }
  if (entries.length === 0) throw new Error('no Debian package source is configured in /etc/apt');
  return entries;
}

/**
 * Unpacks the upstream tarball of a Debian source package into `dest` (apt-get source,
 * with a private source list, so the machine's apt configuration is left as it is).
 * Returns the source package version.
 */
export function fetchDebianSource(pkg, dest, log) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `deb-src-${pkg}-`));
  try {
    const parts = path.join(work, 'parts');
    fs.mkdirSync(path.join(work, 'lists', 'partial'), { recursive: true });
    fs.mkdirSync(parts);
    const entries = debianSourceEntries();
    const stanzas = entries.filter((e) => e.startsWith('Types:'));
    fs.writeFileSync(path.join(parts, 'src.sources'), `${stanzas.join('\n\n')}\n`);
    fs.writeFileSync(path.join(work, 'sources.list'), `${entries.filter((e) => !e.startsWith('Types:')).join('\n')}\n`);
    const apt = ['-q', ...(process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : []), '-o', `Dir::Etc::SourceList=${path.join(work, 'sources.list')}`, '-o', `Dir::Etc::SourceParts=${parts}`, '-o', `Dir::State::Lists=${path.join(work, 'lists')}`];
    log(`fetching the Debian source package ${pkg}`);
    execFileSync('apt-get', [...apt, 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('apt-get', [...apt, 'source', '--download-only', pkg], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    const orig = fs.readdirSync(work).find((f) => /\.orig\.tar\.(gz|xz|bz2)$/.test(f));
    if (!orig) throw new Error(`apt-get source ${pkg} gave no upstream tarball`);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xf', path.join(work, orig), '-C', dest, '--strip-components=1']);
    return /_([^_]+)\.orig/.exec(orig)[1];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
