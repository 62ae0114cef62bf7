/**
 * Spec generator: turns the API documents (and, where a document is missing,
 * the official SDK models) into the machine-readable specs in src/spec.
 *
 *   npm run gen:spec                      # regenerate src/spec/*
 *   npm run gen:spec -- --seeds DIR       # read the documents from DIR
 *   npm run gen:spec -- --check           # exit 1 if src/spec is stale
 *
 * The core is the pure function `generateSpecs(seedsDir)`, which returns
 * file name → file content; the CLI writes those files and the tests compare
 * them with the committed ones. See docs/spec.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { extractExamples } from './doc-examples';
import { KNOWN_NULLS } from '../src/spec/response-check';
import type { ActionSpec, FieldSpec, ServiceSpec } from '../src/spec/types';

// ---------------------------------------------------------------------------
// Inputs

/** The documents this generator reads, inside the seeds directory. */
export const SEED_FILES = {
  ssl: '000_af819ff8cbe2a8c4.txt', // SSL CancelAuditCertificate (English)
  ams: '001_28d1babe4158502f.txt', // AMS CancelTask (English)
  gaap: '004_a10919ec88a387af.txt', // whole GAAP API document (Chinese)
} as const;

interface SdkServiceDef {
  service: string;
  version: string;
  /** SDK folder name, e.g. v20191205. */
  sdkVersionDir: string;
  /** Action parsed from the seed document (none for services only Terraform's flows need). */
  seedAction?: string;
  seedFile?: string;
  seedRateLimitDefault?: number;
  /** Lifecycle actions taken from the SDK models. */
  sdkActions: string[];
  /**
   * Business error codes of the SDK-derived actions. The SDK models carry no
   * error codes; these lists are the ones named in the project's research
   * notes on the cancel services (which read them from the official Go SDK's
   * per-action comments). Common codes are removed like everywhere else.
   */
  notedErrors: Record<string, string[]>;
}

const SSL: SdkServiceDef = {
  service: 'ssl',
  version: '2019-12-05',
  sdkVersionDir: 'v20191205',
  seedAction: 'CancelAuditCertificate',
  seedFile: SEED_FILES.ssl,
  sdkActions: [
    'ApplyCertificate',
    'UploadCertificate',
    'DescribeCertificate',
    'DescribeCertificateDetail',
    'DescribeCertificates',
    'ModifyCertificateResubmit',
    'DeleteCertificate',
  ],
  notedErrors: {
    ApplyCertificate: [
      'FailedOperation.AuthError',
      'FailedOperation.ExceedsFreeLimit',
      'FailedOperation.GenCSRFail',
      'FailedOperation.InvalidParam',
      'FailedOperation.MainDomainCertificateCountLimit',
      'FailedOperation.NetworkError',
      'FailedOperation.NoProjectPermission',
      'FailedOperation.NoRealNameAuth',
      'FailedOperation.PackageCountLimit',
      'FailedOperation.PackageExpired',
      'FailedOperation.PackageNotFound',
      'InvalidParameter.PackageIdsInvalid',
      'InvalidParameterValue.CertificateDomainMaxLengthInvalid',
      'InvalidParameterValue.CertificateEmailParseInvalid',
    ],
    UploadCertificate: [
      'AuthFailure',
      'FailedOperation.CertificateCaError',
      'FailedOperation.CertificateChainError',
      'FailedOperation.CertificateEncryptInvalid',
      'FailedOperation.CertificateExists',
      'FailedOperation.CertificateInvalid',
      'FailedOperation.CertificateMatchError',
      'FailedOperation.CertificateMismatch',
      'FailedOperation.CertificateParseError',
      'InvalidParameter.MissMatchPrivateKey',
      'InvalidParameter.WithDetailReason',
      'LimitExceeded.RateLimitExceeded',
    ],
    DescribeCertificate: [
      'FailedOperation.AuthError',
      'FailedOperation.CertificateNotFound',
      'FailedOperation.InvalidParam',
      'FailedOperation.NoProjectPermission',
      'InternalError.BackendResponseEmpty',
      'LimitExceeded.RateLimitExceeded',
    ],
    DescribeCertificateDetail: [
      'FailedOperation.AuthError',
      'FailedOperation.CertificateCsrParseFailed',
      'FailedOperation.CertificateNotFound',
      'FailedOperation.InvalidParam',
      'FailedOperation.NoProjectPermission',
      'InternalError.BackendResponseEmpty',
      'LimitExceeded.RateLimitExceeded',
      'ResourceNotFound.Manager',
    ],
    DescribeCertificates: [
      'FailedOperation.AuthError',
      'FailedOperation.CertificateNotFound',
      'FailedOperation.InvalidParam',
      'FailedOperation.NoProjectPermission',
      'InternalError.BackendResponseEmpty',
      'LimitExceeded.RateLimitExceeded',
    ],
    ModifyCertificateResubmit: [
      'FailedOperation.CannotGetOrder',
      'FailedOperation.CertificateNotFound',
      'FailedOperation.CertificateStatusNotAllowResubmit',
      'InvalidParameter.CertificateStatusNotAllowResubmit',
    ],
    DeleteCertificate: [
      'FailedOperation.BoundResources',
      'FailedOperation.CannotBeDeletedIssued',
      'FailedOperation.CannotBeDeletedWithinHour',
      'FailedOperation.CertificateNotFound',
      'FailedOperation.DeleteFailedTimeNotUp',
      'FailedOperation.DeleteResourceFailed',
      'FailedOperation.InvalidCertificateStatusCode',
      'FailedOperation.RenewNotIssued',
    ],
  },
};

const AMS: SdkServiceDef = {
  service: 'ams',
  version: '2020-12-29',
  sdkVersionDir: 'v20201229',
  seedAction: 'CancelTask',
  seedFile: SEED_FILES.ams,
  sdkActions: ['CreateAudioModerationTask', 'DescribeTaskDetail', 'DescribeTasks'],
  notedErrors: {
    CreateAudioModerationTask: ['OperationDenied', 'ResourcesSoldOut', 'UnauthorizedOperation.Unauthorized'],
    DescribeTaskDetail: ['OperationDenied', 'ResourcesSoldOut'],
    DescribeTasks: ['OperationDenied', 'ResourcesSoldOut'],
  },
};

/**
 * The Tag API calls that Terraform makes for GAAP resources (tags written
 * through the Tag service show in the GAAP Describe calls). No seed covers
 * them, so they come from the SDK models only.
 */
const TAG: SdkServiceDef = {
  service: 'tag',
  version: '2018-08-13',
  sdkVersionDir: 'v20180813',
  sdkActions: ['DescribeResourceTagsByResourceIds', 'ModifyResourceTags'],
  notedErrors: {
    ModifyResourceTags: [
      'InvalidParameterValue.ResourceDescriptionError',
      'InvalidParameterValue.TagKeyEmpty',
      'InvalidParameterValue.TagKeyLengthExceeded',
      'InvalidParameterValue.TagValueLengthExceeded',
      'LimitExceeded.TagNumPerResource',
    ],
    DescribeResourceTagsByResourceIds: ['InvalidParameterValue.ResourceIdInvalid', 'InvalidParameterValue.ServiceTypeInvalid'],
  },
};

/** Rate limit used when no source gives one (the Tencent Cloud API default). */
const DEFAULT_RATE_LIMIT = 20;

const SCALARS = new Set(['String', 'Integer', 'Float', 'Boolean', 'Timestamp']);
/** Common request parameters: never part of `input`. */
const COMMON_PARAMS = new Set(['Action', 'Version', 'Region']);
const NULL_NOTE = /此字段可能返回\s*null|may return null/i;

// ---------------------------------------------------------------------------
// Locations

/** The repository root: the nearest folder above `start` whose package.json is ours. */
export function findRepoRoot(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tclocal') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the repository root above ${start}`);
    dir = up;
  }
}

/** Default seeds directory: `shared/seeds` next to the repository. */
export function defaultSeedsDir(repoRoot: string = findRepoRoot()): string {
  return path.resolve(repoRoot, '..', 'shared', 'seeds');
}

function sdkPackageDir(repoRoot: string): string {
  return path.join(repoRoot, 'node_modules', 'tencentcloud-sdk-nodejs');
}

/** Path of an SDK models file, e.g. sdkModelsFile('ssl', 'v20191205'). */
export function sdkModelsFile(service: string, versionDir: string, repoRoot: string = findRepoRoot()): string {
  return path.join(sdkPackageDir(repoRoot), 'tencentcloud', 'services', service, versionDir, `${service}_models.d.ts`);
}

function sdkModelsRel(service: string, versionDir: string): string {
  return `tencentcloud/services/${service}/${versionDir}/${service}_models.d.ts`;
}

// ---------------------------------------------------------------------------
// Text helpers

/** Display width: CJK and full-width characters count as two columns. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += (ch.codePointAt(0) ?? 0) >= 0x2e80 ? 2 : 1;
  return w;
}

const TERMINAL = /[。；！？：;!?:]$/;

/** PDF extraction breaks long lines; a full-width line without final punctuation continues on the next one. */
function looksWrapped(line: string): boolean {
  return displayWidth(line) >= 60 && !TERMINAL.test(line);
}

function joinWrapped(a: string, b: string): string {
  const last = a.slice(-1);
  const first = b.charAt(0);
  const cjk = (c: string): boolean => (c.codePointAt(0) ?? 0) >= 0x2e80;
  return cjk(last) || cjk(first) ? a + b : `${a} ${b}`;
}

/** First sentence-line of a description, re-joining lines that the PDF wrapped. */
function firstLine(lines: string[]): string | undefined {
  const useful = lines.filter((l) => !NULL_NOTE.test(l));
  if (useful.length === 0) return undefined;
  let out = useful[0];
  let i = 1;
  while (i < useful.length && looksWrapped(useful[i - 1])) {
    out = joinWrapped(out, useful[i]);
    i++;
  }
  return out.trim() || undefined;
}

function makeField(
  type: string,
  array: boolean,
  required: boolean,
  nullable: boolean,
  description: string | undefined,
): FieldSpec {
  // Fixed key order keeps the JSON stable.
  const f: FieldSpec = array ? { type, array: true, required } : { type, required };
  if (nullable) f.nullable = true;
  if (description) f.description = description;
  return f;
}

function sortedRecord<T>(rec: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(rec).sort()) out[k] = rec[k];
  return out;
}

// ---------------------------------------------------------------------------
// Tables in document text
//
// A table row starts with a line "Name <columns...>", where the columns are
// the required flag (是/否, Yes/No) and the type ("String", "Array of X"). In
// the PDF text the columns may wrap onto the following lines, e.g.
// "InstanceIds.N 否" / "Array of" / "String". Every other line until the next
// row belongs to the row's description ("示例值：" starts the example).

type Column = 'req' | 'type';

interface TableOptions {
  columns: Column[];
  yes: string;
  no: string;
  /** Struct names that may appear as a type. */
  structs: Set<string>;
  /** Allow the ".N" list suffix on names (request tables). */
  listSuffix: boolean;
}

interface RawField {
  name: string;
  type: string;
  array: boolean;
  req?: boolean;
  nullable: boolean;
  description?: string;
  line: number;
}

interface Line {
  text: string;
  /** 1-based line number in the source document. */
  no: number;
}

const TABLE_HEADERS = new Set([
  '参数名称 必选 类型 描述',
  '参数名称 类型 描述',
  '名称 类型 必选 描述',
  '名称 类型 描述',
  'Parameter Name Required Type Description',
  'Parameter Name Type Description',
]);

function isExampleLine(t: string): boolean {
  return /^(示例值|Example value)[：:]/.test(t);
}

/** Try to read a row header at lines[i]; returns the parsed columns and where the description starts. */
function tryRow(
  lines: Line[],
  i: number,
  opt: TableOptions,
): { name: string; type: string; array: boolean; req?: boolean; inline?: string; next: number } | undefined {
  const nameRe = opt.listSuffix ? /^([A-Za-z][A-Za-z0-9_]*(?:\.N)?)(?:\s+(.*))?$/ : /^([A-Za-z][A-Za-z0-9_]*)(?:\s+(.*))?$/;
  const m = nameRe.exec(lines[i].text);
  if (!m) return undefined;
  const name = m[1];
  // A cursor over the rest of this line and (if needed) up to 4 more lines.
  let li = i;
  let rest = (m[2] ?? '').trim();
  const advance = (): boolean => {
    if (rest !== '') return true;
    if (li + 1 >= lines.length || li - i >= 4) return false;
    li++;
    rest = lines[li].text;
    return true;
  };
  let req: boolean | undefined;
  let type: string | undefined;
  let array = false;
  for (const col of opt.columns) {
    if (!advance()) return undefined;
    if (col === 'req') {
      const rm = new RegExp(`^(${opt.yes}|${opt.no})(?:\\s+|$)(.*)$`).exec(rest);
      if (!rm) return undefined;
      req = rm[1] === opt.yes;
      rest = rm[2].trim();
    } else {
      // "Array of X"; the three words may each sit on their own line.
      if (/^Array(?:\s|$)/.test(rest)) {
        array = true;
        rest = rest.slice('Array'.length).trim();
        if (!advance() || !/^of(?:\s|$)/.test(rest)) return undefined;
        rest = rest.slice('of'.length).trim();
        if (!advance()) return undefined;
      }
      const tm = /^([A-Za-z][A-Za-z0-9_]*)(?:\s+|$)(.*)$/.exec(rest);
      if (!tm) return undefined;
      if (!SCALARS.has(tm[1]) && !opt.structs.has(tm[1])) return undefined;
      type = tm[1];
      rest = tm[2].trim();
    }
  }
  if (type === undefined) return undefined;
  return { name, type, array, req, inline: rest || undefined, next: li + 1 };
}

function parseTable(lines: Line[], opt: TableOptions): RawField[] {
  const out: RawField[] = [];
  let cur: { row: NonNullable<ReturnType<typeof tryRow>>; desc: string[]; all: string[]; line: number } | undefined;
  const flush = (): void => {
    if (!cur) return;
    const exampleAt = cur.desc.findIndex(isExampleLine);
    const descLines = exampleAt >= 0 ? cur.desc.slice(0, exampleAt) : cur.desc;
    out.push({
      name: cur.row.name,
      type: cur.row.type,
      array: cur.row.array,
      req: cur.row.req,
      nullable: cur.all.some((l) => NULL_NOTE.test(l)),
      description: firstLine(descLines),
      line: cur.line,
    });
    cur = undefined;
  };
  let i = 0;
  while (i < lines.length) {
    const t = lines[i].text;
    if (TABLE_HEADERS.has(t)) {
      i++;
      continue;
    }
    const row = tryRow(lines, i, opt);
    if (row) {
      flush();
      const desc = row.inline ? [row.inline] : [];
      cur = { row, desc, all: [...desc], line: lines[i].no };
      i = row.next;
      continue;
    }
    if (cur) {
      cur.desc.push(t);
      cur.all.push(t);
    }
    i++;
  }
  flush();
  return out;
}

/** Error-code lists: "Code message" rows; a message may start on the next line or wrap. */
function parseErrorList(lines: Line[]): { code: string; message: string }[] {
  const out: { code: string; message: string }[] = [];
  // Codes are CamelCase words with at least two parts ("AuthFailure", "FailedOperation.Xxx"),
  // which keeps prose such as "The following ..." or "API Inspector" out.
  const codeRe = /^([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+(?:\.[A-Za-z0-9_]+)*)(?:\s+(.*))?$/;
  let cur: { code: string; parts: string[] } | undefined;
  const flush = (): void => {
    if (cur) out.push({ code: cur.code, message: cur.parts.join('') });
    cur = undefined;
  };
  for (const { text } of lines) {
    if (TABLE_HEADERS.has(text) || /^(错误码 (描述|说明)|Error Code Description)$/.test(text)) continue;
    const m = codeRe.exec(text);
    if (m) {
      flush();
      cur = { code: m[1], parts: m[2] ? [m[2].trim()] : [] };
      continue;
    }
    if (!cur) continue;
    const last = cur.parts[cur.parts.length - 1];
    if (last === undefined) cur.parts.push(text);
    else if (looksWrapped(last)) cur.parts[cur.parts.length - 1] = joinWrapped(last, text);
  }
  flush();
  return out.map((e) => ({ code: e.code, message: e.message.trim() }));
}

// ---------------------------------------------------------------------------
// The GAAP document

interface GaapDoc {
  spec: ServiceSpec;
  commonErrors: { code: string; message: string }[];
}

function docLines(raw: string): Line[] {
  return raw.split(/\r?\n/).map((t, idx) => ({ text: t.trim(), no: idx + 1 }));
}

function findIndex(lines: Line[], pred: (t: string) => boolean, from = 0, to = lines.length): number {
  for (let i = from; i < to; i++) if (pred(lines[i].text)) return i;
  return -1;
}

/**
 * Removes page-break noise: blank lines, link URLs, the "推荐使用 API Explorer"
 * button text and the page header (category and page title followed by
 * "最近更新时间：…"), which the PDF text puts wherever a page ended.
 */
function stripNoise(lines: Line[], headerTexts: Set<string>): Line[] {
  const kept: Line[] = [];
  for (const l of lines) {
    const t = l.text;
    if (t === '' || /^https?:\/\//.test(t) || t === '推荐使用 API Explorer 点击调试') continue;
    if (t.startsWith('最近更新时间：')) {
      // Drop the header lines just before it (title, optionally its category).
      for (let n = 0; n < 2 && kept.length > 0 && headerTexts.has(kept[kept.length - 1].text); n++) kept.pop();
      continue;
    }
    kept.push(l);
  }
  return kept;
}

function parseGaap(raw: string, seedName: string): GaapDoc {
  const all = docLines(raw);
  // The table of contents (up to the first "错误码" line) names every page and category.
  const tocEnd = findIndex(all, (t) => t === '错误码');
  if (tocEnd < 0) throw new Error('GAAP document: table of contents not found');
  const headerTexts = new Set(all.slice(0, tocEnd + 1).map((l) => l.text).filter((t) => t !== ''));
  const lines = stripNoise(all, headerTexts);

  // API overview tables: "<Action> <title> <rate>".
  const titles = new Map<string, { title: string; rate: number }>();
  {
    const from = findIndex(lines, (t) => t === '接口名称 接口功能 频率限制（次/秒）');
    const to = findIndex(lines, (t) => t === '调用方式', from);
    for (let i = from; i >= 0 && i < (to < 0 ? lines.length : to); i++) {
      const m = /^([A-Z][A-Za-z0-9]+) (.+) (\d+)$/.exec(lines[i].text);
      if (m) titles.set(m[1], { title: m[2], rate: Number(m[3]) });
    }
  }

  // Section boundaries.
  const actionStarts: number[] = [];
  lines.forEach((l, i) => {
    if (l.text === '1. 接口描述') actionStarts.push(i);
  });
  const firstAnchor = findIndex(lines, (t) => t.startsWith('被如下接口引用'));
  const errorsPage = findIndex(lines, (t) => t === '功能说明', firstAnchor);
  if (actionStarts.length === 0 || firstAnchor < 0 || errorsPage < 0) throw new Error('GAAP document: sections not found');

  // Structures: each one is "<Name>" / description / "被如下接口引用：…" / table header / rows.
  const structHeads: { name: string; nameAt: number; headerAt: number; columns: Column[] }[] = [];
  for (let i = firstAnchor; i < errorsPage; i++) {
    if (!lines[i].text.startsWith('被如下接口引用')) continue;
    let nameAt = i - 1;
    while (nameAt > 0 && !/^[A-Z][A-Za-z0-9]*$/.test(lines[nameAt].text)) nameAt--;
    const headerAt = findIndex(lines, (t) => t === '名称 类型 必选 描述' || t === '名称 类型 描述', i, errorsPage);
    if (headerAt < 0) throw new Error(`GAAP document: no table for structure at line ${lines[i].no}`);
    const columns: Column[] = lines[headerAt].text === '名称 类型 必选 描述' ? ['type', 'req'] : ['type'];
    structHeads.push({ name: lines[nameAt].text, nameAt, headerAt, columns });
  }
  const structNames = new Set(structHeads.map((s) => s.name));
  if (structNames.size !== structHeads.length) throw new Error('GAAP document: duplicated structure names');
  const structsEnd = structHeads[0].nameAt;

  const structs: Record<string, Record<string, FieldSpec>> = {};
  structHeads.forEach((s, k) => {
    const end = k + 1 < structHeads.length ? structHeads[k + 1].nameAt : errorsPage;
    const rows = parseTable(lines.slice(s.headerAt + 1, end), {
      columns: s.columns,
      yes: '是',
      no: '否',
      structs: structNames,
      listSuffix: false,
    });
    const fields: Record<string, FieldSpec> = {};
    for (const r of rows) {
      if (fields[r.name]) throw new Error(`GAAP document: ${s.name}.${r.name} listed twice (line ${r.line})`);
      // With a 必选 column the flag is given; otherwise a field is required unless it may be null.
      const required = r.req !== undefined ? r.req : !r.nullable;
      fields[r.name] = makeField(r.type, r.array, required, r.nullable, r.description);
    }
    structs[s.name] = fields;
  });

  // Actions.
  const actions: Record<string, ActionSpec> = {};
  actionStarts.forEach((start, k) => {
    const end = k + 1 < actionStarts.length ? actionStarts[k + 1] : structsEnd;
    const sec = lines.slice(start, end);
    const at = (label: string): number => {
      const idx = findIndex(sec, (t) => t === label);
      if (idx < 0) throw new Error(`GAAP document: "${label}" missing in the section at line ${lines[start].no}`);
      return idx;
    };
    const actionLine = sec.find((l) => /^Action 是 String 公共参数，本接口取值：/.test(l.text));
    if (!actionLine) throw new Error(`GAAP document: no action name in the section at line ${lines[start].no}`);
    const name = /本接口取值：([A-Za-z0-9]+)/.exec(actionLine.text)![1];
    if (actions[name]) throw new Error(`GAAP document: action ${name} described twice`);

    const rateLine = sec.find((l) => /^默认接口请求频率限制：\d+次\/秒/.test(l.text));
    if (!rateLine) throw new Error(`GAAP document: no rate limit for ${name}`);
    const rateLimit = Number(/(\d+)次/.exec(rateLine.text)![1]);

    const iIn = at('2. 输入参数');
    const iOut = at('3. 输出参数');
    const iEx = at('4. 示例');
    const iErr = at('6. 错误码');
    const input: Record<string, FieldSpec> = {};
    for (const r of parseTable(sec.slice(iIn + 1, iOut), {
      columns: ['req', 'type'],
      yes: '是',
      no: '否',
      structs: structNames,
      listSuffix: true,
    })) {
      const array = r.array || r.name.endsWith('.N');
      const pname = r.name.replace(/\.N$/, '');
      if (COMMON_PARAMS.has(pname)) continue;
      if (input[pname]) throw new Error(`GAAP document: ${name} input ${pname} listed twice`);
      input[pname] = makeField(r.type, array, r.req === true, false, r.description);
    }
    const output: Record<string, FieldSpec> = {};
    for (const r of parseTable(sec.slice(iOut + 1, iEx), {
      columns: ['type'],
      yes: '是',
      no: '否',
      structs: structNames,
      listSuffix: false,
    })) {
      if (r.name === 'RequestId') continue;
      if (output[r.name]) throw new Error(`GAAP document: ${name} output ${r.name} listed twice`);
      output[r.name] = makeField(r.type, r.array, !r.nullable, r.nullable, r.description);
    }
    const errors = parseErrorList(sec.slice(iErr + 1)).map((e) => e.code);

    const overview = titles.get(name);
    if (overview && overview.rate !== rateLimit) {
      throw new Error(`GAAP document: ${name} rate limit ${rateLimit}/s differs from the overview (${overview.rate}/s)`);
    }
    actions[name] = {
      name,
      ...(overview ? { title: overview.title } : {}),
      ...(overview && /[（(]废弃[）)]/.test(overview.title) ? { deprecated: true } : {}),
      rateLimit,
      input,
      output,
      errors,
    };
  });

  // Common error codes (公共错误码) and the end of that list (业务错误码).
  const iCommon = findIndex(lines, (t) => t === '公共错误码', errorsPage);
  const iBiz = findIndex(lines, (t) => t === '业务错误码', iCommon);
  if (iCommon < 0 || iBiz < 0) throw new Error('GAAP document: common error codes not found');
  const commonErrors = parseErrorList(lines.slice(iCommon + 1, iBiz));

  const common = new Set(commonErrors.map((e) => e.code));
  for (const a of Object.values(actions)) a.errors = [...new Set(a.errors.filter((c) => !common.has(c)))].sort();

  const spec: ServiceSpec = {
    service: 'gaap',
    version: '2018-05-29',
    source: [`seeds/${seedName}: GAAP API document (Chinese): actions, parameters, structures, rate limits, error codes`],
    actions: sortedRecord(actions),
    structs: sortedRecord(structs),
  };
  return { spec, commonErrors };
}

// ---------------------------------------------------------------------------
// The SSL and AMS cancel seeds (English pages)

interface SeedAction {
  name: string;
  rateLimit: number;
  input: Record<string, FieldSpec>;
  output: Record<string, FieldSpec>;
  errors: string[];
}

/** Rows of a "| cell |" table where every cell sits on its own line(s). */
function pipeRows(lines: string[], width: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell: string | undefined;
  for (const raw of lines) {
    let t = raw.trim();
    if (t === '') continue;
    if (t.startsWith('|')) {
      if (row.length > 0) rows.push(row);
      row = [];
      t = t.slice(1).trim();
    }
    cell = cell === undefined ? t : `${cell} ${t}`;
    if (cell.endsWith('|')) {
      row.push(cell.slice(0, -1).trim());
      cell = undefined;
    }
  }
  if (cell !== undefined) row.push(cell.replace(/\|$/, '').trim());
  if (row.length > 0) rows.push(row);
  for (const r of rows) if (r.length !== width) throw new Error(`seed table row has ${r.length} cells, expected ${width}: ${r.join(' | ')}`);
  return rows;
}

function parseSeedRate(text: string): number {
  const m =
    /A maximum of (\d+) requests can be initiated per second/.exec(text) ??
    /request rate limit: (\d+) requests\/sec/i.exec(text) ??
    /频率限制：(\d+)次\/秒/.exec(text);
  if (!m) throw new Error('seed: no rate limit');
  return Number(m[1]);
}

function parseSeed(raw: string, expectedAction: string, commonErrors: Set<string>): SeedAction {
  const text = raw.replace(/\r\n/g, '\n');
  const rateLimit = parseSeedRate(text);
  const lines = text.split('\n');
  const trimmed = lines.map((l) => l.trim());
  const idx = (pred: (t: string) => boolean, from = 0): number => {
    for (let i = from; i < trimmed.length; i++) if (pred(trimmed[i])) return i;
    return -1;
  };
  const iOut = idx((t) => /^3\. Output Parameters$/.test(t));
  const iEx = idx((t) => /^4\. Examples?$/.test(t), iOut);
  const iErr = idx((t) => /^6\. Error Codes?$/.test(t), iEx);
  if (iOut < 0 || iEx < 0 || iErr < 0) throw new Error(`seed ${expectedAction}: sections not found`);
  // The input table starts at its header; one seed lacks the "2. Input Parameters" heading.
  const iIn = idx((t) => t === 'Parameter Name Required Type Description' || t === '| Parameter Name |');
  if (iIn < 0 || iIn > iOut) throw new Error(`seed ${expectedAction}: input table not found`);

  let inRows: { name: string; req: string; type: string; desc: string }[];
  let outRows: { name: string; type: string; desc: string }[];
  let errRows: { code: string; message: string }[];
  if (trimmed[iIn].startsWith('|')) {
    // Markdown-like table, one cell per line.
    inRows = pipeRows(lines.slice(iIn, iOut), 4)
      .slice(1)
      .map(([name, req, type, desc]) => ({ name, req, type, desc }));
    const outStart = idx((t) => t === '| Parameter Name |', iOut);
    outRows = pipeRows(lines.slice(outStart, iEx), 3)
      .slice(1)
      .map(([name, type, desc]) => ({ name, type, desc }));
    const errStart = idx((t) => t === '| Error Code |', iErr);
    errRows = pipeRows(lines.slice(errStart), 2)
      .slice(1)
      .map(([code, message]) => ({ code, message }));
  } else {
    // Space-separated rows like the Chinese documents.
    const toLines = (from: number, to: number): Line[] =>
      lines
        .slice(from, to)
        .map((t, k) => ({ text: t.trim(), no: from + k + 1 }))
        .filter((l) => l.text !== '');
    const opt = (columns: Column[], listSuffix: boolean): TableOptions => ({
      columns,
      yes: 'Yes',
      no: 'No',
      structs: new Set(),
      listSuffix,
    });
    inRows = parseTable(toLines(iIn + 1, iOut), opt(['req', 'type'], true)).map((r) => ({
      name: r.name,
      req: r.req ? 'Yes' : 'No',
      type: (r.array ? 'Array of ' : '') + r.type,
      desc: r.description ?? '',
    }));
    outRows = parseTable(toLines(iOut + 1, iEx), opt(['type'], false)).map((r) => ({
      name: r.name,
      type: (r.array ? 'Array of ' : '') + r.type,
      desc: r.description ?? '',
    }));
    errRows = parseErrorList(toLines(iErr + 1, lines.length));
  }

  const typeOf = (t: string): { type: string; array: boolean } => {
    const m = /^(Array of )?([A-Za-z]+)$/.exec(t);
    if (!m || !SCALARS.has(m[2])) throw new Error(`seed ${expectedAction}: unknown type "${t}"`);
    return { type: m[2], array: m[1] !== undefined };
  };
  let name: string | undefined;
  const input: Record<string, FieldSpec> = {};
  for (const r of inRows) {
    const pname = r.name.replace(/\.N$/, '');
    if (pname === 'Action') name = /this API: (\w+)/.exec(r.desc)?.[1];
    if (COMMON_PARAMS.has(pname)) continue;
    const t = typeOf(r.type);
    input[pname] = makeField(t.type, t.array || r.name.endsWith('.N'), r.req === 'Yes', false, r.desc || undefined);
  }
  if (name !== expectedAction) throw new Error(`seed: expected ${expectedAction}, found ${name ?? 'no action'}`);
  const output: Record<string, FieldSpec> = {};
  for (const r of outRows) {
    if (r.name === 'RequestId') continue;
    const t = typeOf(r.type);
    const nullable = NULL_NOTE.test(r.desc);
    output[r.name] = makeField(t.type, t.array, !nullable, nullable, r.desc || undefined);
  }
  const errors = [...new Set(errRows.map((e) => e.code).filter((c) => !commonErrors.has(c)))].sort();
  return { name, rateLimit, input, output, errors };
}

// ---------------------------------------------------------------------------
// SDK models (.d.ts), read with the TypeScript compiler API

interface SdkType {
  kind: 'string' | 'number' | 'boolean' | 'struct';
  name?: string;
  array: boolean;
}

interface SdkMember {
  name: string;
  optional: boolean;
  type: SdkType;
  doc: string;
}

function sdkTypeOf(node: ts.TypeNode, where: string): SdkType {
  if (ts.isArrayTypeNode(node)) return { ...sdkTypeOf(node.elementType, where), array: true };
  if (ts.isTypeReferenceNode(node)) {
    const n = node.typeName.getText();
    if (n === 'Array' && node.typeArguments?.length === 1) return { ...sdkTypeOf(node.typeArguments[0], where), array: true };
    return { kind: 'struct', name: n, array: false };
  }
  if (ts.isUnionTypeNode(node)) {
    // `number | bigint` is how the SDK writes 64-bit integers.
    const kinds = new Set(node.types.map((t) => t.kind));
    if ([...kinds].every((k) => k === ts.SyntaxKind.NumberKeyword || k === ts.SyntaxKind.BigIntKeyword)) {
      return { kind: 'number', array: false };
    }
  }
  if (ts.isParenthesizedTypeNode(node)) return sdkTypeOf(node.type, where);
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { kind: 'string', array: false };
    case ts.SyntaxKind.NumberKeyword:
      return { kind: 'number', array: false };
    case ts.SyntaxKind.BooleanKeyword:
      return { kind: 'boolean', array: false };
    default:
      throw new Error(`SDK models: unsupported type "${node.getText()}" at ${where}`);
  }
}

function jsDocText(node: ts.Node): string {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
  if (!docs || docs.length === 0) return '';
  return docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n');
}

/** Interfaces of a models file; `type X = null` (a request without parameters) maps to no members. */
export function readSdkModels(file: string): Map<string, SdkMember[]> {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out = new Map<string, SdkMember[]>();
  for (const st of sf.statements) {
    if (ts.isInterfaceDeclaration(st)) {
      const members: SdkMember[] = [];
      for (const m of st.members) {
        if (!ts.isPropertySignature(m) || !m.type) continue;
        const name = m.name.getText();
        members.push({ name, optional: m.questionToken !== undefined, type: sdkTypeOf(m.type, `${st.name.text}.${name}`), doc: jsDocText(m) });
      }
      out.set(st.name.text, members);
    } else if (ts.isTypeAliasDeclaration(st) && st.type.kind === ts.SyntaxKind.LiteralType) {
      out.set(st.name.text, []);
    }
  }
  return out;
}

/**
 * A field taken from the SDK models. Only facts are taken over (name, type,
 * optionality, the "may return null" note); the SDK's description text is
 * not copied. The SDK writes every number as `number`, so numbers become
 * Integer (all numeric request parameters of these actions are integers).
 */
function sdkField(m: SdkMember, required: boolean, nullable: boolean): FieldSpec {
  const type = m.type.kind === 'struct' ? m.type.name! : { string: 'String', number: 'Integer', boolean: 'Boolean' }[m.type.kind];
  return makeField(type, m.type.array, required, nullable, undefined);
}

function buildSdkService(def: SdkServiceDef, seedsDir: string, repoRoot: string, commonErrors: Set<string>): ServiceSpec {
  const models = readSdkModels(sdkModelsFile(def.service, def.sdkVersionDir, repoRoot));
  const sdkVersion = (JSON.parse(fs.readFileSync(path.join(sdkPackageDir(repoRoot), 'package.json'), 'utf8')) as { version: string }).version;
  const iface = (name: string): SdkMember[] => {
    const m = models.get(name);
    if (!m) throw new Error(`SDK models (${def.service}): no interface ${name}`);
    return m;
  };

  // Structures reachable from requests are "input" structures: their `?` marks optional fields.
  // Structures only reachable from responses use the nullable note, like response fields.
  const reach = (roots: string[]): Set<string> => {
    const seen = new Set<string>();
    const visit = (members: SdkMember[]): void => {
      for (const m of members) {
        if (m.type.kind !== 'struct' || seen.has(m.type.name!)) continue;
        seen.add(m.type.name!);
        visit(iface(m.type.name!));
      }
    };
    for (const r of roots) visit(iface(r));
    return seen;
  };

  const seed = def.seedFile && def.seedAction
    ? parseSeed(fs.readFileSync(path.join(seedsDir, def.seedFile), 'utf8'), def.seedAction, commonErrors)
    : undefined;
  const inputStructs = reach(def.sdkActions.map((a) => `${a}Request`));
  const outputStructs = reach(def.sdkActions.map((a) => `${a}Response`));

  const actions: Record<string, ActionSpec> = {};
  for (const a of def.sdkActions) {
    const input: Record<string, FieldSpec> = {};
    for (const m of iface(`${a}Request`)) {
      if (COMMON_PARAMS.has(m.name)) continue;
      input[m.name] = sdkField(m, !m.optional, false);
    }
    const output: Record<string, FieldSpec> = {};
    for (const m of iface(`${a}Response`)) {
      if (m.name === 'RequestId') continue;
      const nullable = NULL_NOTE.test(m.doc);
      output[m.name] = sdkField(m, !nullable, nullable);
    }
    const errors = [...new Set((def.notedErrors[a] ?? []).filter((c) => !commonErrors.has(c)))].sort();
    actions[a] = { name: a, rateLimit: DEFAULT_RATE_LIMIT, input, output, errors };
  }
  if (seed) actions[seed.name] = { name: seed.name, rateLimit: seed.rateLimit, input: seed.input, output: seed.output, errors: seed.errors };

  const structs: Record<string, Record<string, FieldSpec>> = {};
  for (const s of new Set([...inputStructs, ...outputStructs])) {
    const fields: Record<string, FieldSpec> = {};
    for (const m of iface(s)) {
      const nullable = NULL_NOTE.test(m.doc);
      fields[m.name] = inputStructs.has(s) ? sdkField(m, !m.optional, nullable) : sdkField(m, !nullable, nullable);
    }
    structs[s] = fields;
  }

  const modelsRel = sdkModelsRel(def.service, def.sdkVersionDir);
  return {
    service: def.service,
    version: def.version,
    source: [
      ...(seed ? [`seeds/${def.seedFile}: ${def.seedAction} (parameters, response, rate limit, error codes)`] : []),
      `tencentcloud-sdk-nodejs@${sdkVersion} ${modelsRel}: ${def.sdkActions.join(', ')} (parameters, responses, structures)`,
      `rate limit of the SDK-derived actions: the ${DEFAULT_RATE_LIMIT}/s default (no source gives another value)`,
      seed
        ? `error codes of the SDK-derived actions: research notes on the cancel services (official Go SDK comments)`
        : `error codes: the Tag API's documented codes for these actions`,
    ],
    actions: sortedRecord(actions),
    structs: sortedRecord(structs),
  };
}

// ---------------------------------------------------------------------------
// TypeScript request types

function tsType(f: FieldSpec, rename: Map<string, string>): string {
  let t: string;
  switch (f.type) {
    case 'String':
    case 'Timestamp':
      t = 'string';
      break;
    case 'Integer':
    case 'Float':
      t = 'number';
      break;
    case 'Boolean':
      t = 'boolean';
      break;
    default:
      t = rename.get(f.type) ?? f.type;
  }
  return f.array ? `${t}[]` : t;
}

function docComment(text: string | undefined, indent: string): string {
  if (!text) return '';
  return `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n`;
}

/** The name of a service's action table, e.g. GaapActions. */
export const actionTableName = (service: string): string => `${service.charAt(0).toUpperCase()}${service.slice(1)}Actions`;

/**
 * Request and response types of every action, the structures they use, and
 * the service's action table (action → request and response types) that
 * the handlers are typed against. Response fields the document marks as
 * possibly null are typed `T | null`; every response field is present, as
 * in a real answer.
 */
function renderTypes(spec: ServiceSpec): string {
  const messageNames = new Set(Object.keys(spec.actions).flatMap((a) => [`${a}Request`, `${a}Response`]));
  const rename = new Map<string, string>();
  for (const s of Object.keys(spec.structs)) {
    if (!messageNames.has(s)) continue;
    let n = `${s}Struct`;
    while (messageNames.has(n) || spec.structs[n]) n += '_';
    rename.set(s, n);
  }
  const body = (fields: Record<string, FieldSpec>): string =>
    Object.entries(fields)
      .map(([k, f]) => `${docComment(f.description, '  ')}  ${k}${f.required ? '' : '?'}: ${tsType(f, rename)};\n`)
      .join('');
  const responseBody = (fields: Record<string, FieldSpec>): string =>
    Object.entries(fields)
      .map(([k, f]) => `${docComment(f.description, '  ')}  ${k}: ${tsType(f, rename)}${f.nullable ? ' | null' : ''};\n`)
      .join('');
  let out =
    `// Generated by tools/gen-spec.ts from src/spec/${spec.service}.json. Do not edit: run \`npm run gen:spec\`.\n` +
    `// Request and response types of ${spec.service} ${spec.version}, and its action table.\n`;
  for (const [name, a] of Object.entries(spec.actions)) {
    out += `\n${docComment(a.title ?? undefined, '')}export interface ${name}Request {\n${body(a.input)}}\n`;
  }
  for (const name of Object.keys(spec.actions)) {
    const output = spec.actions[name].output;
    // An empty interface would accept any object; an empty answer is typed as one that has no fields.
    out += Object.keys(output).length === 0
      ? `\nexport type ${name}Response = Record<string, never>;\n`
      : `\nexport interface ${name}Response {\n${responseBody(output)}}\n`;
  }
  // A structure field the document marks as possibly null (or that the real service answers as null) may be null.
  const structBody = (struct: string, fields: Record<string, FieldSpec>): string =>
    Object.entries(fields)
      .map(([k, f]) => {
        const nullable = f.nullable || KNOWN_NULLS.some((n) => n.service === spec.service && n.struct === struct && n.field === k);
        return `${docComment(f.description, '  ')}  ${k}${f.required ? '' : '?'}: ${tsType(f, rename)}${nullable ? ' | null' : ''};\n`;
      })
      .join('');
  for (const [name, fields] of Object.entries(spec.structs)) {
    out += `\nexport interface ${rename.get(name) ?? name} {\n${structBody(name, fields)}}\n`;
  }
  out += `\n/** Every action of ${spec.service} ${spec.version}: its request and response types. */\nexport interface ${actionTableName(spec.service)} {\n`;
  for (const name of Object.keys(spec.actions)) out += `  ${name}: { request: ${name}Request; response: ${name}Response };\n`;
  out += '}\n';
  return out;
}

// ---------------------------------------------------------------------------
// Entry points

function json(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

/**
 * Generates every file of src/spec that is derived from the documents.
 * Returns file name (relative to src/spec) → content. Pure apart from reading
 * the seeds and the installed SDK models.
 */
/**
 * Response fields the GAAP document's structure tables leave out although
 * the real service answers them and the official SDK models them. A real
 * answer carries its whole model, so the spec takes these from the SDK.
 */
const GAAP_SDK_ADDITIONS: ReadonlyArray<{ struct: string; field: string }> = [
  // The protocol an L7 rule uses towards its real servers.
  { struct: 'RuleInfo', field: 'ForwardProtocol' },
];

function addGaapSdkFields(gaap: ServiceSpec, repoRoot: string): void {
  const models = readSdkModels(sdkModelsFile('gaap', 'v20180529', repoRoot));
  for (const { struct, field } of GAAP_SDK_ADDITIONS) {
    const member = models.get(struct)?.find((m) => m.name === field);
    if (!member) throw new Error(`SDK models: ${struct}.${field} not found`);
    if (gaap.structs[struct][field]) throw new Error(`GAAP document now lists ${struct}.${field}: drop it from GAAP_SDK_ADDITIONS`);
    gaap.structs[struct][field] = sdkField(member, true, /null/.test(member.doc) && /可能返回/.test(member.doc));
  }
  gaap.source.push(`tencentcloud-sdk-nodejs gaap_models.d.ts: ${GAAP_SDK_ADDITIONS.map((a) => `${a.struct}.${a.field}`).join(', ')} (absent from the document's structure tables)`);
}

export function generateSpecs(seedsDir: string, repoRoot: string = findRepoRoot()): Record<string, string> {
  const gaapRaw = fs.readFileSync(path.join(seedsDir, SEED_FILES.gaap), 'utf8');
  const { spec: gaap, commonErrors } = parseGaap(gaapRaw, SEED_FILES.gaap);
  addGaapSdkFields(gaap, repoRoot);
  const common = new Set(commonErrors.map((e) => e.code));
  const ssl = buildSdkService(SSL, seedsDir, repoRoot, common);
  const ams = buildSdkService(AMS, seedsDir, repoRoot, common);
  const tag = buildSdkService(TAG, seedsDir, repoRoot, common);
  const files: Record<string, string> = {
    'ams.json': json(ams),
    'ams.types.ts': renderTypes(ams),
    'common-errors.json': json(commonErrors),
    'gaap.examples.json': json(extractExamples(gaapRaw)),
    'gaap.json': json(gaap),
    'gaap.types.ts': renderTypes(gaap),
    'ssl.json': json(ssl),
    'ssl.types.ts': renderTypes(ssl),
    'tag.json': json(tag),
    'tag.types.ts': renderTypes(tag),
  };
  return files;
}

function main(argv: string[]): number {
  const repoRoot = findRepoRoot();
  let seedsDir = defaultSeedsDir(repoRoot);
  let outDir = path.join(repoRoot, 'src', 'spec');
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seeds' && argv[i + 1]) seedsDir = path.resolve(argv[++i]);
    else if (a.startsWith('--seeds=')) seedsDir = path.resolve(a.slice('--seeds='.length));
    else if (a === '--out' && argv[i + 1]) outDir = path.resolve(argv[++i]);
    else if (a === '--check') check = true;
    else {
      process.stderr.write(`usage: gen-spec [--seeds DIR] [--out DIR] [--check]\n`);
      return 2;
    }
  }
  const files = generateSpecs(seedsDir, repoRoot);
  let stale = 0;
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(outDir, name);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    if (current === content) continue;
    stale++;
    if (check) process.stdout.write(`stale: ${name}\n`);
    else {
      fs.writeFileSync(target, content);
      process.stdout.write(`wrote ${path.relative(repoRoot, target)}\n`);
    }
  }
  if (check && stale > 0) return 1;
  if (!check && stale === 0) process.stdout.write('specs are up to date\n');
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`gen-spec: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
