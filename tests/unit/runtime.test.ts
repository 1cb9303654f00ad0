import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { majorOf, requiredMajor, systemNode } from '../../scripts/runtime/ensure-node.mjs';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));

/** scripts/runtime/ensure-node.mjs: which Node.js runs the project (docs/runtime.md). */
describe('runtime selection', () => {
  it('the tests themselves run on the Node.js major that package.json requires', () => {
    expect(requiredMajor(pkg)).toBe(24);
    expect(majorOf(process.versions.node)).toBeGreaterThanOrEqual(requiredMajor(pkg));
    expect(majorOf(pkg.config.nodeRuntime)).toBe(requiredMajor(pkg));
  });

  it("uses the machine's own node when new enough, else links the pinned official build", () => {
    const own = systemNode();
    const link = path.resolve('node_modules/.bin/node');
    const linked = fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
    const ownMajor = own ? majorOf(execFileSync(own, ['-p', 'process.versions.node'], { encoding: 'utf8' })) : 0;
    if (ownMajor >= requiredMajor(pkg)) {
      expect(linked).toBe(false);
    } else {
      expect(linked).toBe(true);
      expect(fs.realpathSync(link)).toContain(`node_modules/.runtime/node-${process.platform}-${process.arch}-${pkg.config.nodeRuntime}/bin/node`);
      expect(process.version).toBe(`v${pkg.config.nodeRuntime}`);
    }
  });

  it("finds the machine's node on PATH past any node_modules/.bin", () => {
    const dir = fs.mkdtempSync(path.join(process.cwd(), 'node_modules', '.cache-runtime-test-'));
    try {
      const fake = path.join(dir, 'bin');
      fs.mkdirSync(fake);
      fs.writeFileSync(path.join(fake, 'node'), '#!/bin/sh\n', { mode: 0o755 });
      const PATH = [path.resolve('node_modules/.bin'), '/nonexistent', fake].join(path.delimiter);
      expect(systemNode({ PATH })).toBe(path.join(fake, 'node'));
      expect(systemNode({ PATH: path.resolve('node_modules/.bin') })).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads engines.node as ">=N" and refuses anything it cannot honour', () => {
    expect(requiredMajor({ engines: { node: '>=24' } })).toBe(24);
    expect(() => requiredMajor({ engines: { node: '^20 || ^22' } })).toThrow(/>=N/);
    expect(majorOf('v24.21.0')).toBe(24);
  });
});
