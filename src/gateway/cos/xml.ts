import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CosError } from './errors';

/**
 * XML documents of the COS family. Values are written as element text
 * only (no attributes); objects become nested elements, arrays repeated
 * elements, `undefined` is left out and `null` is an empty element.
 */
export type XmlValue = string | number | boolean | null | undefined | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

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

/** Parsed element content: text is a string, children an object, repeated children an array. */
export type ParsedXml = string | { [name: string]: ParsedXml } | ParsedXml[];

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
});

/**
 * Parses a request body. A body that is empty or not well-formed XML is an
 * `InvalidArgument` (400) naming the problem.
 */
export function parseXmlBody(body: Buffer): Record<string, ParsedXml> {
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new CosError(400, 'InvalidArgument', 'The request body is empty; an XML document is required.');
  if (/<!DOCTYPE/i.test(text)) throw new CosError(400, 'InvalidArgument', 'The request body must not contain a DOCTYPE declaration.');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new CosError(400, 'InvalidArgument', `The request body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col}).`);
  }
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch (err) {
    throw new CosError(400, 'InvalidArgument', `The request body is not well-formed XML: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CosError(400, 'InvalidArgument', 'The request body is not an XML document.');
  }
  return parsed as Record<string, ParsedXml>;
}
