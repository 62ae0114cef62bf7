/** BENCHMARKS.md is written by two benchmarks; each replaces only its own sections. */

export const CONSOLE_HEADING = '## Console';

/** The text of a `## ` section, heading included, up to the next `## ` heading; undefined if absent. */
export function section(markdown: string, heading: string): string | undefined {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return undefined;
  const next = markdown.indexOf('\n## ', start + heading.length + 2);
  return markdown.slice(start + 1, next < 0 ? undefined : next + 1).trimEnd() + '\n';
}

/** `markdown` with the section under `heading` replaced by `text` (appended when absent). */
export function replaceSection(markdown: string, heading: string, text: string): string {
  const old = section(markdown, heading);
  return old ? markdown.replace(old, text) : `${markdown.trimEnd()}\n\n${text}`;
}
