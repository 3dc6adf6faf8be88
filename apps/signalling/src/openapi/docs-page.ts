/**
 * Renders an OpenAPI 3.1 document as one self-contained HTML page (GET /docs): operations with their
 * parameters, bodies and responses, then the schemas. No script, no external resource: the machines that
 * run the gateway may have no internet.
 */
type Json = Record<string, unknown>;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** `code` spans for backticks in descriptions; everything else escaped. */
function prose(text: unknown): string {
  if (typeof text !== 'string' || text === '') return '';
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** A short type label: `CallRecord`, `string (enum: a | b)`, `array of Contact`. */
export function typeLabel(schema: unknown): string {
  const s = (schema ?? {}) as Json;
  if (typeof s['$ref'] === 'string') {
    const name = (s['$ref'] as string).split('/').pop() as string;
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  if (Array.isArray(s['allOf'])) return (s['allOf'] as unknown[]).map(typeLabel).join(' + ');
  if (Array.isArray(s['oneOf'])) return (s['oneOf'] as unknown[]).map(typeLabel).join(' | ');
  if (s['type'] === 'array') return `array of ${typeLabel(s['items'])}`;
  if (s['const'] !== undefined) return `<code>${escapeHtml(JSON.stringify(s['const']))}</code>`;
  const base = escapeHtml(String(s['type'] ?? 'any'));
  return Array.isArray(s['enum']) ? `${base} (${(s['enum'] as unknown[]).map((v) => `<code>${escapeHtml(String(v))}</code>`).join(' | ')})` : base;
}

function propertiesTable(schema: Json): string {
  const props = (schema['properties'] ?? {}) as Record<string, Json>;
  const required = new Set((schema['required'] ?? []) as string[]);
  const rows = Object.entries(props).map(
    ([name, p]) => `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' *' : ''}</td><td>${typeLabel(p)}</td><td>${prose(p['description'])}</td></tr>`,
  );
  return rows.length ? `<table><tr><th>field</th><th>type</th><th>meaning</th></tr>${rows.join('')}</table>` : '';
}

function contentLine(content: unknown): string {
  return Object.entries((content ?? {}) as Record<string, Json>)
    .map(([type, c]) => `<code>${escapeHtml(type)}</code> ${typeLabel(c['schema'])}`)
    .join(', ');
}

function operation(path: string, method: string, op: Json): string {
  const params = ((op['parameters'] ?? []) as Json[]).map(
    (p) => `<tr><td><code>${escapeHtml(String(p['name']))}</code>${p['required'] ? ' *' : ''}</td><td>${escapeHtml(String(p['in']))}</td><td>${typeLabel(p['schema'])}</td><td>${prose(p['description'])}</td></tr>`,
  );
  const body = op['requestBody'] as Json | undefined;
  const responses = Object.entries((op['responses'] ?? {}) as Record<string, Json>).map(
    ([status, r]) => `<li><b>${escapeHtml(status)}</b> ${prose(r['description'])} ${contentLine(r['content'])}</li>`,
  );
  const auth = Array.isArray(op['security']) ? (op['security'] as Json[]).map((s) => Object.keys(s).join('+')).join(' or ') : 'none';
  return [
    `<section class="op" id="${escapeHtml(String(op['operationId'] ?? `${method}-${path}`))}">`,
    `<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code> ${prose(op['summary'])}</h3>`,
    op['description'] ? `<p>${prose(op['description'])}</p>` : '',
    `<p class="auth">auth: ${escapeHtml(auth)}</p>`,
    params.length ? `<table><tr><th>parameter</th><th>in</th><th>type</th><th>meaning</th></tr>${params.join('')}</table>` : '',
    body ? `<p>body${body['required'] ? ' (required)' : ''}: ${contentLine(body['content'])}</p>` : '',
    `<ul>${responses.join('')}</ul>`,
    '</section>',
  ].join('\n');
}

function operations(paths: Record<string, Json>): string {
  return Object.entries(paths)
    .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => operation(path, m, item[m] as Json)))
    .join('\n');
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1d2327}
code{background:#f0f2f4;padding:0 .25em;border-radius:3px}table{border-collapse:collapse;margin:.4rem 0}
td,th{border:1px solid #d5dade;padding:.2rem .5rem;text-align:left;vertical-align:top}
.op{border-top:1px solid #d5dade;padding:.3rem 0}.m{display:inline-block;min-width:3.5rem;text-align:center;border-radius:3px;color:#fff;font-size:.8em;padding:.1rem .3rem}
.get{background:#2271b1}.post{background:#008a20}.put,.patch{background:#996800}.delete{background:#b32d2e}.auth{color:#50575e;font-size:.9em}`;

/** The whole page for a document. */
export function renderDocsPage(doc: Json): string {
  const info = (doc['info'] ?? {}) as Json;
  const schemas = (((doc['components'] ?? {}) as Json)['schemas'] ?? {}) as Record<string, Json>;
  const schemaHtml = Object.entries(schemas)
    .map(([name, s]) => `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${s['description'] ? `<p>${prose(s['description'])}</p>` : ''}${Array.isArray(s['allOf']) ? `<p>${typeLabel(s)}</p>` : ''}${propertiesTable(s)}${((s['allOf'] ?? []) as Json[]).map(propertiesTable).join('')}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(String(info['title'] ?? 'API'))}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(String(info['title'] ?? 'API'))} <small>${escapeHtml(String(info['version'] ?? ''))}</small></h1>
<p>${prose(info['description'])}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(String(doc['openapi'] ?? ''))}). Fields marked * are required.</p>
<h2>Operations</h2>
${operations((doc['paths'] ?? {}) as Record<string, Json>)}
<h2>Webhooks sent by the gateway</h2>
${operations((doc['webhooks'] ?? {}) as Record<string, Json>)}
<h2>Schemas</h2>
${schemaHtml}
</body></html>
`;
}
