#!/usr/bin/env node
/**
 * `npm start` compiles only when a source changed since the last build, so a
 * current build starts at once. Plain JavaScript: it runs before anything is
 * compiled. `--stamp` only records that a full build just finished.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tools', 'test', 'bench', 'tsconfig.json', 'package.json'];

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

function writeStamp() {
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

if (process.argv.includes('--stamp')) {
  writeStamp();
} else {
  const built = fs.existsSync(path.join(root, 'dist', 'src', 'cli.js')) ? newest(stamp) : 0;
  if (built === 0 || inputs.some((p) => newest(path.join(root, p)) > built)) {
    process.stderr.write('tclocal: sources changed since the last build; compiling…\n');
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
    writeStamp();
  }
}
