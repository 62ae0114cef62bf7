#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError, loadConfig, OPTIONS, parseFlags, tlsDir } from './config';
import { ensureLocalCa } from './gateway/tls';
import { coverageMarkdown, coverageReport } from './services/coverage';
import { serviceModules } from './services';
import { ciOperations } from './services/ci';
import { openStore, startServer, VERSION } from './server';

const COMMANDS = `Usage: tclocal <command> [options]

Commands:
  start                 Serve every emulated API on one port (default command).
  export [--out FILE]   Write the whole state as JSON (to stdout without --out).
  import FILE           Replace the whole state with an export.
  reset                 Delete every resource of every account.
  coverage [--write]    Print (or write COVERAGE.md with) the implemented actions.
  ca                    Print the path of the local CA certificate to trust for https:// (made if missing).

Options (each has an environment twin):`;

function help(): string {
  const rows = OPTIONS.map((o) => {
    const left = `  ${o.flag}${o.arg ? ' ' + o.arg : ''}`;
    return `${left.padEnd(30)}${o.help}\n${' '.repeat(30)}env ${o.env}, default: ${o.default || '(built-in account)'}`;
  });
  return `${COMMANDS}\n${rows.join('\n')}\n  --help                      This text.\n`;
}

/** Takes `--name value` out of argv for command-specific options. */
function take(argv: string[], name: string, isSwitch = false): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const value = isSwitch ? 'on' : argv[i + 1];
  if (value === undefined) throw new ConfigError(`${name} needs a value`);
  argv.splice(i, isSwitch ? 1 : 2);
  return value;
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help());
    return;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`tclocal ${VERSION}\n`);
    return;
  }
  const command = argv[0] && !argv[0].startsWith('--') ? argv.shift()! : 'start';
  switch (command) {
    case 'start': {
      const config = loadConfig(parseFlags(argv));
      let server;
      try {
        server = await startServer(config);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') throw new ConfigError(`${config.host}:${config.port} is already in use (TCLOCAL_PORT / --port)`);
        if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new ConfigError(`cannot listen on ${config.host} (TCLOCAL_HOST / --host)`);
        throw err;
      }
      const shutdown = () => void server.stop().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      return;
    }
    case 'export': {
      const out = take(argv, '--out');
      const store = openStore(loadConfig(parseFlags(argv)));
      const text = JSON.stringify(await store.exportState(), null, 2) + '\n';
      await store.close();
      if (out) writeFileSync(out, text);
      else process.stdout.write(text);
      return;
    }
    case 'import': {
      const file = argv[0] && !argv[0].startsWith('--') ? argv.shift()! : undefined;
      if (!file) throw new ConfigError('import needs the export file: tclocal import FILE');
      const store = openStore(loadConfig(parseFlags(argv)));
      try {
        await store.importState(JSON.parse(readFileSync(file, 'utf8')));
      } catch (err) {
        throw new ConfigError(`cannot import ${file}: ${(err as Error).message}`);
      } finally {
        await store.close();
      }
      process.stderr.write(`imported ${file}\n`);
      return;
    }
    case 'reset': {
      const store = openStore(loadConfig(parseFlags(argv)));
      await store.reset();
      await store.close();
      process.stderr.write('state reset\n');
      return;
    }
    case 'coverage': {
      const write = take(argv, '--write', true);
      const md = coverageMarkdown(coverageReport(serviceModules()), [ciOperations()]);
      if (write) writeFileSync('COVERAGE.md', md);
      else process.stdout.write(md);
      return;
    }
    case 'ca': {
      process.stdout.write(`${ensureLocalCa(tlsDir(loadConfig(parseFlags(argv)))).certPath}\n`);
      return;
    }
    default:
      throw new ConfigError(`unknown command "${command}" (see --help)`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`tclocal: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tclocal: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
