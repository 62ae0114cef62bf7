import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

// Plain JavaScript outside the compiled tree: `npm start` runs it before anything is built.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { BUILD_STEPS, isStale } = require('../../tools/build-if-stale.js') as {
  BUILD_STEPS: string[][];
  isStale(dir: string): boolean;
};

function fakeCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tclocal-build-'));
  for (const f of ['src/console/ui/main.ts', 'src/cli.ts', 'tsconfig.json', 'package.json']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  const old = new Date(Date.now() - 60_000);
  for (const f of ['src/console/ui/main.ts', 'src/console/ui', 'src/console', 'src/cli.ts', 'src', 'tsconfig.json', 'package.json']) utimesSync(join(dir, f), old, old);
  for (const f of ['dist/src/cli.js', 'dist/ui/app.js', 'dist/.build-stamp']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  const built = new Date(Date.now() - 30_000);
  utimesSync(join(dir, 'dist/.build-stamp'), built, built);
  return dir;
}

test('npm start rebuilds the console bundle when its sources change', () => {
  const dir = fakeCheckout();
  try {
    assert.equal(isStale(dir), false, 'a fresh build is current');
    writeFileSync(join(dir, 'src/console/ui/main.ts'), '// edited');
    assert.equal(isStale(dir), true, 'an edited console source makes the build stale');
    // The stale build runs every step of `npm run build`, the console bundle among them.
    assert.ok(BUILD_STEPS.some((step) => step[0].endsWith('build-ui.js')), 'the console bundle is a build step');
    assert.ok(BUILD_STEPS.some((step) => step.includes(join('src', 'console', 'ui', 'tsconfig.json'))), 'the console is type-checked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing console bundle makes the build stale', () => {
  const dir = fakeCheckout();
  try {
    rmSync(join(dir, 'dist/ui/app.js'));
    assert.equal(isStale(dir), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run build runs the same steps', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { scripts: Record<string, string> };
  assert.match(pkg.scripts.build, /build-if-stale\.js --always/);
  assert.match(pkg.scripts.prestart, /build-if-stale\.js$/);
});
