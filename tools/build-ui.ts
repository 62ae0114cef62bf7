/**
 * Bundles the console (src/console/ui) into dist/ui/app.js and app.css:
 * one script and one stylesheet, the toolkit included, so the console
 * needs no network at run time. Run by `npm run build`.
 */
import { build } from 'esbuild';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

async function main(): Promise<void> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: 'src/console/ui/main.ts' },
    outdir: 'dist/ui',
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const sizes = Object.entries(result.metafile.outputs).map(([file, o]) => `${file} ${(o.bytes / 1024).toFixed(1)} KiB`);
  process.stdout.write(`console bundle: ${sizes.join(', ')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
