#!/usr/bin/env -S node --min-semi-space-size=8 --no-memory-reducer
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { keepFreedMemory } from './core/freed-memory';
import { ConfigError, loadConfig, OPTIONS, parseFlags, tlsDir, type Config } from './config';
import { AdminCallError, adminCall, findRunningServer, type AdminTarget } from './gateway/admin-client';
import { ensureLocalCa } from './gateway/tls';
import { coverageMarkdown, coverageReport, xmlOperations } from './services/coverage';
import { serviceModules } from './services';
import { openStore, startServer, VERSION } from './server';

const COMMANDS = `Usage: tclocal <command> [options]

Commands:
  start                 Serve every emulated API on one port (default command).
  export [--out FILE]   Write the whole state as JSON (to stdout without --out).
  import FILE           Replace the whole state with an export.
  reset                 Delete every resource of every account.
  coverage [--write]    Print (or write COVERAGE.md with) the implemented actions.
  ca                    Print the path of the local CA certificate to trust for https:// (made if missing).

export, import and reset act on the server running at --host/--port when one
answers (sending TCLOCAL_ADMIN_TOKEN), else on the data directory.

Options (each has an environment twin):`;

const HELP_COLUMN = 32;

function help(): string {
  const indent = ' '.repeat(HELP_COLUMN);
  const rows = OPTIONS.map((o) => {
    const left = `  ${o.flag}${o.arg ? ' ' + o.arg : ''}`;
    // A long flag gets its text on the next line rather than running into it.
    const head = left.length < HELP_COLUMN - 1 ? left.padEnd(HELP_COLUMN) : `${left}\n${indent}`;
    return `${head}${o.help}\n${indent}env ${o.env}, default: ${o.defaultLabel ?? (o.default || '(empty)')}`;
  });
  return `${COMMANDS}\n${rows.join('\n')}\n${'  --help'.padEnd(HELP_COLUMN)}This text.\n`;
}

/**
 * A data directory that cannot be created, or a database file that is not
 * one, is a setting at fault: a message naming it and exit code 2, not a
 * stack trace.
 */
function explainStorageError(err: unknown, config: Config): unknown {
  const e = err as NodeJS.ErrnoException;
  const where = config.inMemory ? `--ca-dir ${tlsDir(config)}` : `--data-dir ${config.dataDir} (TCLOCAL_DATA_DIR)`;
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_')) {
    return new ConfigError(`the database in ${where} cannot be opened: ${e.message} (${e.code}); move the file away or point to another directory`);
  }
  if (typeof e?.code === 'string' && ['ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST', 'ENOENT', 'ENOSPC', 'EISDIR'].includes(e.code) && typeof e.path === 'string') {
    return new ConfigError(`cannot use ${where}: ${e.code} on ${e.path}`);
  }
  return err;
}

function openStoreFor(config: Config) {
  try {
    return openStore(config);
  } catch (err) {
    throw explainStorageError(err, config);
  }
}

/**
 * Runs an admin command against the running server when one answers,
 * else against the data directory, and says which on stderr.
 */
async function onServerOrDataDir<T>(
  config: Config, viaServer: (target: AdminTarget) => Promise<T>, viaDataDir: () => Promise<T>, done: string,
): Promise<T> {
  const target = await findRunningServer(config);
  if (target) {
    try {
      const out = await viaServer(target);
      process.stderr.write(`${done} on the running server at ${target.url}\n`);
      return out;
    } catch (err) {
      if (err instanceof AdminCallError) throw new ConfigError(err.message);
      throw err;
    }
  }
  if (config.inMemory) throw new ConfigError('no tclocal answers at the configured address, and an in-memory store has no data directory to use instead');
  const out = await viaDataDir();
  process.stderr.write(`${done} in the data directory ${config.dataDir} (no tclocal answered at the configured address)\n`);
  return out;
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
      keepFreedMemory();
      let server;
      try {
        server = await startServer(config);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') throw new ConfigError(`${config.host}:${config.port} is already in use (TCLOCAL_PORT / --port)`);
        if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new ConfigError(`cannot listen on ${config.host} (TCLOCAL_HOST / --host)`);
        throw explainStorageError(err, config);
      }
      if (server.adminTokenGenerated) {
        process.stderr.write(`tclocal: admin endpoints require the token ${server.adminToken} (set TCLOCAL_ADMIN_TOKEN to choose it)\n`);
        process.stderr.write(`tclocal: console at ${server.url}/_tclocal/ui?token=${encodeURIComponent(server.adminToken!)}\n`);
      }
      const shutdown = () => void server.stop().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      return;
    }
    case 'export': {
      const out = take(argv, '--out');
      const config = loadConfig(parseFlags(argv));
      const text = await onServerOrDataDir(
        config,
        async (target) => JSON.stringify(JSON.parse(await adminCall(target, 'GET', '/_tclocal/state')), null, 2) + '\n',
        async () => {
          const store = openStoreFor(config);
          try {
            return JSON.stringify(await store.exportState(), null, 2) + '\n';
          } finally {
            await store.close();
          }
        },
        'exported',
      );
      if (out) writeFileSync(out, text);
      else process.stdout.write(text);
      return;
    }
    case 'import': {
      const file = argv[0] && !argv[0].startsWith('--') ? argv.shift()! : undefined;
      if (!file) throw new ConfigError('import needs the export file: tclocal import FILE');
      const config = loadConfig(parseFlags(argv));
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      await onServerOrDataDir(
        config,
        async (target) => void (await adminCall(target, 'POST', '/_tclocal/state', text)),
        async () => {
          const store = openStoreFor(config);
          try {
            await store.importState(JSON.parse(text));
          } catch (err) {
            throw new ConfigError(`cannot import ${file}: ${err instanceof SyntaxError ? 'it is not valid JSON' : (err as Error).message}`);
          } finally {
            await store.close();
          }
        },
        `imported ${file}`,
      );
      return;
    }
    case 'reset': {
      const config = loadConfig(parseFlags(argv));
      await onServerOrDataDir(
        config,
        async (target) => void (await adminCall(target, 'POST', '/_tclocal/reset')),
        async () => {
          const store = openStoreFor(config);
          await store.reset();
          await store.close();
        },
        'state reset',
      );
      return;
    }
    case 'coverage': {
      const write = take(argv, '--write', true);
      const modules = serviceModules();
      const report = coverageReport(modules);
      const md = coverageMarkdown(report, xmlOperations(modules));
      if (write) {
        writeFileSync('COVERAGE.md', md);
        const actions = report.services.reduce((n, x) => n + x.implemented, 0);
        process.stderr.write(`wrote ${resolve('COVERAGE.md')}: ${actions} implemented actions of ${report.services.length} API 3.0 services, and the Cloud Infinite operations\n`);
      } else process.stdout.write(md);
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
