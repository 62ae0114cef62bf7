/**
 * The request examples (输入示例) of the GAAP document, as action + JSON
 * body. The PDF text breaks long strings at the page margin and drops page
 * headers (title, 最近更新时间, links) into the middle of a body: those are
 * removed and broken strings joined back, nothing else is changed.
 */
export interface DocExample {
  /** 1-based line of the 输入示例 heading in the document. */
  line: number;
  action: string;
  params: Record<string, unknown>;
}

const CJK = /[\u4e00-\u9fff]/;
const JSON_LINE = /^[{}[\]"0-9-]|^(true|false|null)\b/;

function bodyText(lines: string[]): string {
  const kept: string[] = [];
  for (const raw of lines) {
    const l = raw.trim();
    if (!l || /^https?:\/\//.test(l) || l === '推荐使用 API Explorer 点击调试') continue;
    if (l.startsWith('最近更新时间')) {
      // The page title (and category) printed just before the date.
      while (kept.length > 0 && CJK.test(kept[kept.length - 1]) && !/^[{}[\]"]/.test(kept[kept.length - 1])) kept.pop();
      continue;
    }
    kept.push(l);
  }
  let text = '';
  let inString = false;
  for (const l of kept) {
    if (!inString && !JSON_LINE.test(l)) continue;
    text += inString ? l : (text ? '\n' : '') + l;
    for (let i = 0; i < l.length; i++) {
      if (l[i] === '\\') i++;
      else if (l[i] === '"') inString = !inString;
    }
  }
  return text;
}

export function extractExamples(doc: string): DocExample[] {
  const lines = doc.split('\n');
  const out: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '输入示例') continue;
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && lines[j].trim() !== '输出示例'; j++) block.push(lines[j]);
    const actionLine = block.find((l) => l.trim().startsWith('X-TC-Action:'));
    if (!actionLine) throw new Error(`example at line ${i + 1}: no X-TC-Action`);
    const start = block.findIndex((l) => l.trim().startsWith('{'));
    if (start < 0) throw new Error(`example at line ${i + 1}: no body`);
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(bodyText(block.slice(start)));
    } catch (err) {
      throw new Error(`example at line ${i + 1}: ${(err as Error).message}`);
    }
    out.push({ line: i + 1, action: actionLine.split(':')[1].trim(), params });
  }
  return out;
}
