import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The generated part of a doc, between `<!-- <name>:start ... -->` and `<!-- <name>:end -->`.
 * With UPDATE_DOCS=1 (`npm run docs`) the file is rewritten with `generated` first, so the test
 * that follows compares the doc with itself and only fails when a doc has drifted without it.
 */
export function docSection(path: string, name: string, generated: string): { inDoc: string; generated: string } {
  const text = readFileSync(path, 'utf8');
  const re = new RegExp(`(<!-- ${name}:start[^>]*-->\\n)([\\s\\S]*?)(<!-- ${name}:end -->)`);
  const m = re.exec(text);
  if (!m) throw new Error(`${path} has no <!-- ${name}:start --> … <!-- ${name}:end --> section`);
  const body = `${generated.trimEnd()}\n`;
  if (process.env.UPDATE_DOCS === '1' && m[2] !== body) {
    writeFileSync(path, text.replace(re, (_all, start: string, _old: string, end: string) => `${start}${body}${end}`));
    return { inDoc: body, generated: body };
  }
  return { inDoc: m[2]!, generated: body };
}
