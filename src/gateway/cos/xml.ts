import { isUtf8 } from 'node:buffer';
import type { XMLParser, XMLValidator as Validator } from 'fast-xml-parser';
import { CosError } from './errors';

/**
 * XML documents of the COS family. Values are written as element text
 * only (no attributes); objects become nested elements, arrays repeated
 * elements, `undefined` is left out and `null` is an empty element.
 */
import type { ParsedXml, XmlObject, XmlValue } from '../../core/service';

export type { ParsedXml, XmlObject, XmlValue } from '../../core/service';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than breaking the document.
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
}

function writeElement(name: string, value: XmlValue, out: string[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) writeElement(name, item, out);
    return;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`not an XML element name: ${name}`);
  if (value === null) {
    out.push(`<${name}></${name}>`);
  } else if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const [k, v] of Object.entries(value)) writeElement(k, v, out);
    out.push(`</${name}>`);
  } else {
    out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
  }
}

/** One root element and its content; with `declaration`, an XML declaration first. */
export function toXml(root: string, content: XmlObject, declaration = false): string {
  const out: string[] = declaration ? ['<?xml version="1.0" encoding="UTF-8"?>\n'] : [];
  writeElement(root, content, out);
  return out.join('');
}

/** The parser is loaded with the first XML body, not at every start (most runs never see one). */
let xmlLibrary: { parser: XMLParser; validator: typeof Validator } | undefined;
function xmlLib(): { parser: XMLParser; validator: typeof Validator } {
  if (!xmlLibrary) {
    const lib: typeof import('fast-xml-parser') = require('fast-xml-parser');
    xmlLibrary = {
      validator: lib.XMLValidator,
      parser: new lib.XMLParser({
        ignoreAttributes: true,
        ignoreDeclaration: true,
        ignorePiTags: true,
        parseTagValue: false,
        trimValues: true,
        processEntities: true,
      }),
    };
  }
  return xmlLibrary;
}

/** Far beyond every request document of the family, far below what costs time to parse. */
export const XML_LIMITS = { maxDepth: 32, maxElements: 10_000 };

/** Bounds nesting and element count with one linear pass over the tags, before any parser runs. */
function xmlShapeProblem(text: string): string | undefined {
  let depth = 0;
  let elements = 0;
  for (let open = text.indexOf('<'); open >= 0; ) {
    const close = text.indexOf('>', open);
    if (close < 0) break; // not well-formed: the validator says where
    const first = text.charCodeAt(open + 1);
    if (first === 0x2f /* / */) depth--;
    else if (first !== 0x3f /* ? */ && first !== 0x21 /* ! */) {
      if (++elements > XML_LIMITS.maxElements) return `holds more than ${XML_LIMITS.maxElements} elements`;
      if (text.charCodeAt(close - 1) !== 0x2f && ++depth > XML_LIMITS.maxDepth) return `nests deeper than ${XML_LIMITS.maxDepth} levels`;
    }
    open = text.indexOf('<', close + 1);
  }
  return undefined;
}

/**
 * Parses a request body. A body that is empty or not well-formed XML is an
 * `InvalidArgument` (400) naming the problem.
 */
export function parseXmlBody(body: Buffer): Record<string, ParsedXml> {
  if (!isUtf8(body)) throw new CosError(400, 'InvalidArgument', 'The request body is not valid UTF-8.');
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new CosError(400, 'InvalidArgument', 'The request body is empty; an XML document is required.');
  if (/<!DOCTYPE/i.test(text)) throw new CosError(400, 'InvalidArgument', 'The request body must not contain a DOCTYPE declaration.');
  const shape = xmlShapeProblem(text);
  if (shape) throw new CosError(400, 'InvalidArgument', `The request body ${shape}.`);
  // The parser's own wording stays in tclocal: callers get the place only.
  const { parser, validator } = xmlLib();
  const valid = validator.validate(text);
  if (valid !== true) {
    throw new CosError(400, 'InvalidArgument', `The request body is not well-formed XML (line ${valid.err.line}, column ${valid.err.col}).`);
  }
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch {
    throw new CosError(400, 'InvalidArgument', 'The request body is not well-formed XML.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CosError(400, 'InvalidArgument', 'The request body is not an XML document.');
  }
  return parsed as Record<string, ParsedXml>;
}
