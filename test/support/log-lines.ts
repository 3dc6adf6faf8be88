/**
 * Keys that occur more than once at the top level of one JSON log line (pino writes a child logger's
 * bindings and the call's fields side by side, so two layers naming a field alike give a line that log tools
 * read as the last one only). Scans the text: JSON.parse would silently keep the last.
 */
export function duplicateTopLevelKeys(line: string): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let end = i + 1;
      while (end < line.length && line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = line.slice(i + 1, end);
        if (seen.has(key)) dup.add(key);
        seen.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return [...dup];
}
