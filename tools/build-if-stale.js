#!/usr/bin/env node
/**
 * The build, in one place. `npm run build` runs every step (`--always`);
 * `npm start` runs them only when a source changed since the last build, so
 * a current build starts at once. Plain JavaScript: it runs before anything
 * is compiled.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tools', 'test', 'testkit', 'bench', 'tsconfig.json', 'package.json'];
/** What a build produces; a missing one means a build is due whatever the times say. */
const outputs = [path.join('dist', 'src', 'cli.js'), path.join('dist', 'ui', 'app.js')];

/** Every step of a build, in order: the server, the console's type check, the console bundle. */
const BUILD_STEPS = [
  ['typescript/bin/tsc', '-p', 'tsconfig.json'],
  ['typescript/bin/tsc', '-p', path.join('src', 'console', 'ui', 'tsconfig.json')],
  [path.join('dist', 'tools', 'build-ui.js')],
];

function newest(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of fs.readdirSync(p)) max = Math.max(max, newest(path.join(p, name)));
  return max;
}

/** True when a build output is missing or a source is newer than the last build. */
function isStale(dir = root) {
  if (outputs.some((o) => !fs.existsSync(path.join(dir, o)))) return true;
  const built = newest(path.join(dir, 'dist', '.build-stamp'));
  return built === 0 || inputs.some((p) => newest(path.join(dir, p)) > built);
}

function build() {
  for (const [script, ...args] of BUILD_STEPS) {
    const file = script.startsWith('typescript/') ? require.resolve(script) : path.join(root, script);
    execFileSync(process.execPath, [file, ...args.map((a) => (a.endsWith('.json') ? path.join(root, a) : a))], { stdio: 'inherit', cwd: root });
  }
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

module.exports = { BUILD_STEPS, isStale };

if (require.main === module) {
  if (process.argv.includes('--always')) build();
  else if (isStale()) {
    process.stderr.write('tclocal: sources changed since the last build; compiling…\n');
    build();
  }
}
