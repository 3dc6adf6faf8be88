/** Reading Prometheus metrics the way a scraper does, for e2e tests of the apps' `/metrics`. */
export type Labels = Record<string, string>;

/** The value of one sample of a Prometheus text exposition (exactly these labels); undefined when absent. */
export function sample(text: string, name: string, labels: Labels = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[k as string] = v as string;
    if (Object.keys(have).length !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** A sample that must be there (0 when a counter series was never touched is not assumed). */
export function must(text: string, name: string, labels: Labels = {}): number {
  const v = sample(text, name, labels);
  if (v === undefined) throw new Error(`no sample ${name}${JSON.stringify(labels)} in:\n${text.split('\n').filter((l) => l.startsWith(name)).join('\n')}`);
  return v;
}

/** One sample of `GET <baseUrl>/metrics` now; undefined when the series is absent. */
export async function scrapedSample(baseUrl: string, name: string, labels: Labels = {}): Promise<number | undefined> {
  return sample(await (await fetch(`${baseUrl}/metrics`)).text(), name, labels);
}
