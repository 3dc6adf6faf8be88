import type { z } from 'zod';

/** `['session', 'sdp']` -> `session.sdp`; `['calls', 1]` -> `calls[1]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_][\w]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** One readable sentence per zod issue: `session.sdp: sdp must not be empty`, `id is missing`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = formatPath(issue.path);
      const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
      if (missing) return `${where || 'value'} is missing (expected ${issue.expected})`;
      if (where !== '' && /, got undefined$/.test(issue.message)) return `${where} is missing (${issue.message.replace(/, got undefined$/, '')})`;
      return where === '' ? issue.message : `${where}: ${issue.message}`;
    })
    .join('; ');
}
