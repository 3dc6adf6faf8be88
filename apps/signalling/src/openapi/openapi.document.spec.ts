import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { loadConfig } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import { SignallingModule } from '../signalling.module';
import { renderDocsPage } from './docs-page';
import { OPENAPI_DOCUMENT } from './openapi.document';

type Json = Record<string, unknown>;

/** `v1/calls` + `:id/hangup` -> `/v1/calls/{id}/hangup`. */
function joinRoute(base: string, sub: string): string {
  const parts = [base, sub].flatMap((p) => p.split('/')).filter((p) => p.length > 0);
  return `/${parts.map((p) => (p.startsWith(':') ? `{${p.slice(1)}}` : p)).join('/')}`;
}

/** Every HTTP route the signalling module serves, as `get /path`, read from the Nest decorators. */
function servedRoutes(): string[] {
  const mod = SignallingModule.forRoot(loadConfig({ env: {} }), silentLogger());
  const routes: string[] = [];
  for (const ctrl of (mod.controllers ?? []) as Type[]) {
    const base = (Reflect.getMetadata(PATH_METADATA, ctrl) as string | undefined) ?? '';
    for (const name of Object.getOwnPropertyNames(ctrl.prototype)) {
      const handler = (ctrl.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (method === undefined || path === undefined) continue; // not a route (message handlers, helpers)
      routes.push(`${RequestMethod[method].toLowerCase()} ${joinRoute(base, path)}`);
    }
  }
  return routes.sort();
}

function documentedRoutes(paths: Record<string, Json>): string[] {
  return Object.entries(paths)
    .flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`))
    .sort();
}

/** Every `$ref` anywhere in a value. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('the OpenAPI document', () => {
  const doc = OPENAPI_DOCUMENT as unknown as Json;
  const paths = doc['paths'] as Record<string, Json>;

  it('documents exactly the routes the signalling app serves', () => {
    const served = servedRoutes();
    // the two console assets are one documented template route
    const normalised = [...new Set(served.map((r) => r.replace(/^get \/console\/(console\.js|console\.css)$/, 'get /console/{file}')))].sort();
    expect(documentedRoutes(paths)).toEqual(normalised);
  });

  it('is OpenAPI 3.1 whose $refs all resolve and whose operations have ids, summaries and responses', () => {
    expect(doc['openapi']).toBe('3.1.0');
    const schemas = (doc['components'] as Json)['schemas'] as Json;
    for (const r of refs(doc)) {
      expect(r).toMatch(/^#\/components\/schemas\//);
      expect(schemas).toHaveProperty([r.split('/').pop() as string]);
    }
    const ids: string[] = [];
    for (const item of Object.values(paths)) {
      for (const op of Object.values(item) as Json[]) {
        expect(typeof op['summary']).toBe('string');
        expect(Object.keys(op['responses'] as Json).length).toBeGreaterThan(0);
        ids.push(op['operationId'] as string);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes the call API contract: 201/202/403/429 on POST /v1/calls, bearer auth on /v1', () => {
    const start = (paths['/v1/calls'] as Json)['post'] as Json;
    expect(Object.keys(start['responses'] as Json)).toEqual(expect.arrayContaining(['201', '202', '403', '429']));
    for (const [path, item] of Object.entries(paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const op of Object.values(item) as Json[]) expect(JSON.stringify(op['security'])).toContain('bearer');
    }
  });

  it('renders every operation and schema on the docs page, escaped, with no external resource', () => {
    const page = renderDocsPage(doc);
    for (const route of documentedRoutes(paths)) {
      const [method, path] = route.split(' ') as [string, string];
      expect(page).toContain(`<span class="m ${method}">${method.toUpperCase()}</span> <code>${path}</code>`);
    }
    for (const name of Object.keys((doc['components'] as Json)['schemas'] as Json)) expect(page).toContain(`id="schema-${name}"`);
    expect(page).not.toMatch(/<script|https?:\/\/(?!127)/);
    expect(page).toContain('&lt;hex HMAC');
  });
});
