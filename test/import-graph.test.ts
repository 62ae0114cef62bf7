/**
 * The layers of src/, read from the imports themselves: no import runs in
 * a circle, and no arrow goes where the layout forbids (README, "Layout";
 * docs/architecture.md). Type-only imports count too: they are the seams.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '..', '..');
const SRC = join(ROOT, 'src');

/**
 * Forbidden arrows, in one place: an import from a file matching `from` of
 * a file matching `to` fails, unless the target matches `except`. Paths are
 * relative to the repository, with forward slashes.
 */
const RULES: ReadonlyArray<{ why: string; from: RegExp; to: RegExp; except?: RegExp }> = [
  { why: 'the gateway knows no service', from: /^src\/gateway\//, to: /^src\/services\// },
  { why: 'services know no gateway (wire formats stay there)', from: /^src\/services\//, to: /^src\/gateway\// },
  { why: 'the core knows no service, gateway or composition', from: /^src\/core\//, to: /^src\/(services|gateway|dataplane|dns|console|server|cli|config)\b/ },
  { why: 'the spec and the store sit below services and gateway', from: /^src\/(spec|store)\//, to: /^src\/(services|gateway|dataplane|dns|console|server|cli|config)\b/ },
  {
    why: 'the data plane reads only GAAP\'s view modules', from: /^src\/dataplane\//, to: /^src\/services\//,
    except: /^src\/services\/gaap\/forwarding(-[a-z]+)?\.ts$/,
  },
  { why: 'the DNS server reads only GAAP\'s DNS view', from: /^src\/dns\//, to: /^src\/services\//, except: /^src\/services\/gaap\/dns-view\.ts$/ },
  { why: 'services do not reach into the data plane or the DNS server', from: /^src\/services\//, to: /^src\/(dataplane|dns|console)\// },
  { why: 'the data plane and the DNS server are separate parts', from: /^src\/(dataplane|dns)\//, to: /^src\/(gateway|console|server|cli)\b/ },
  { why: 'only the composition wires the parts', from: /^src\/(?!server\.ts|cli\.ts)/, to: /^src\/(server|cli)\.ts$/ },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The file a relative specifier names, or undefined for packages and node built-ins. */
function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  // Paths that leave src/ point into the built tree (package.json read at run time), not at a layer.
  if (relative(SRC, base).startsWith('..')) return undefined;
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${relative(ROOT, from)}: cannot resolve ${spec}`);
}

const rel = (p: string) => relative(ROOT, p).split('\\').join('/');

/** file → files it imports (repository-relative). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles.map((i) => resolveImport(file, i.fileName)).filter((t): t is string => t !== undefined);
    graph.set(rel(file), [...new Set(targets.map(rel))]);
  }
  return graph;
}

/** Strongly connected groups of more than one file (or a file importing itself): the circles. */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return found;
}

const graph = importGraph();

test('no import in src/ runs in a circle', () => {
  assert.deepEqual(circles(graph), []);
});

test('no import goes where the layout forbids', () => {
  const broken: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      for (const r of RULES) {
        if (r.from.test(from) && r.to.test(to) && !r.except?.test(to)) broken.push(`${from} → ${to}: ${r.why}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('the checks see the imports (a forbidden arrow is found)', () => {
  // The rule list applied to a made-up arrow: guards against rules that can never match.
  const hits = (from: string, to: string) => RULES.some((r) => r.from.test(from) && r.to.test(to) && !r.except?.test(to));
  assert.ok(hits('src/services/ci/jobs.ts', 'src/gateway/cos/xml.ts'));
  assert.ok(hits('src/core/transitions.ts', 'src/services/types.ts'));
  assert.ok(hits('src/dataplane/tcp.ts', 'src/services/gaap/listeners.ts'));
  assert.ok(!hits('src/dataplane/tcp.ts', 'src/services/gaap/forwarding.ts'));
  assert.ok(hits('src/dns/zone.ts', 'src/services/gaap/model.ts'));
  assert.ok(graph.get('src/server.ts')?.includes('src/services/index.ts'), 'the graph holds the server\'s imports');
  assert.deepEqual(circles(new Map([['a', ['b']], ['b', ['a']], ['c', []]])), [['a', 'b']]);
});
