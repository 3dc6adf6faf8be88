import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { load as parseYaml, loadAll as parseYamlDocuments } from 'js-yaml';
import { z } from 'zod';
import { appConfigSchema, type AppConfig } from './config.schema';
import { ConfigError } from './config.errors';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Environment to read overrides from (process.env at the app edge). */
  env: Env;
  /** Directory holding default.yaml; found by walking up from this file when omitted. */
  configDir?: string;
}

export interface ConfigKey {
  path: string;
  envName: string;
  description: string;
  schema: z.ZodType;
}

/** `signalling.httpPort` -> `SIGNALLING_HTTP_PORT`. */
export function envNameOf(path: string): string {
  return path
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_');
}

/** Every leaf key of the schema, in declaration order. */
export function configKeys(schema: z.ZodType = appConfigSchema, prefix = ''): ConfigKey[] {
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap(([name, child]) =>
      configKeys(child, prefix ? `${prefix}.${name}` : name),
    );
  }
  return [{ path: prefix, envName: envNameOf(prefix), description: schema.description ?? '', schema }];
}

export function findConfigDir(start: string = __dirname): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'config', 'default.yaml'))) return join(dir, 'config');
    const parent = dirname(dir);
    if (parent === dir) throw new ConfigError([`config/default.yaml not found above ${start}`]);
    dir = parent;
  }
}

/** A YAML file's one document; an empty file (or comments only: no document at all) reads as an empty mapping. */
function readYaml(file: string): Record<string, unknown> {
  let documents: unknown[];
  try {
    documents = parseYamlDocuments(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${file}: ${(err as Error).message}`]);
  }
  if (documents.length > 1) throw new ConfigError([`${file}: ${documents.length} YAML documents (separated by ---), expected one`]);
  const parsed = documents[0];
  if (parsed === undefined || parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError([`${file}: expected a YAML mapping at the top`]);
  return parsed as Record<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = obj;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function getPath(obj: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((node, key) => (isPlainObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[key as string] : undefined), obj);
}

/** Strings stay strings; other leaves take the YAML reading of the variable ("5060" -> 5060, "true" -> true). */
function envValue(raw: string, schema: z.ZodType): unknown {
  if (schema instanceof z.ZodString || schema instanceof z.ZodEnum) return raw;
  try {
    return parseYaml(raw);
  } catch {
    return raw;
  }
}

function describeValue(v: unknown): string {
  if (v === undefined) return '(missing)';
  let s: string;
  try {
    s = JSON.stringify(v);
  } catch {
    return '(a value that contains itself: a YAML alias inside its own anchor)'; // TypeError: circular structure
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Reads config/default.yaml, then the file named by CONFIG_FILE (if set), then environment overrides, and
 * validates the result once. Throws ConfigError naming each bad key, its value and what was expected.
 */
export function loadConfig(options: LoadConfigOptions): Readonly<AppConfig> {
  const dir = options.configDir ?? findConfigDir();
  let merged = readYaml(join(dir, 'default.yaml'));
  const extra = options.env['CONFIG_FILE'];
  if (extra) merged = deepMerge(merged, readYaml(resolve(extra)));
  const keys = configKeys();
  for (const key of keys) {
    const raw = options.env[key.envName];
    if (raw !== undefined) setPath(merged, key.path, envValue(raw, key.schema));
  }
  const result = appConfigSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      const source = keys.some((k) => k.path === path && options.env[k.envName] !== undefined) ? ` (env ${envNameOf(path)})` : '';
      const value = issue.code === 'unrecognized_keys' ? '' : ` = ${describeValue(getPath(merged, issue.path))}`;
      const where = path || '(root)';
      return `config key "${where}"${source}${value}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(obj: T): Readonly<T> {
  if (isPlainObject(obj) || Array.isArray(obj)) {
    for (const v of Object.values(obj as object)) deepFreeze(v);
    Object.freeze(obj);
  }
  return obj;
}
