import { EmulatorError } from './emulator.errors';

/**
 * A small, strict reader of `multipart/form-data` bodies (RFC 7578 over the multipart syntax of RFC 2046
 * §5.1.1), for the Cloud API media upload. The boundary comes from the request's Content-Type (quoted or not);
 * delimiters are `CRLF--boundary` (the first may open the body), the last one is `--boundary--`; a preamble and
 * an epilogue are ignored as RFC 2046 says. Every part needs `Content-Disposition: form-data; name="..."` and may
 * have `filename="..."` and a Content-Type. What this reader refuses, with the reason in a MultipartFormError:
 * a body over `maxBytes`, more than `maxParts` parts, a header block over `maxHeaderBytes`, a missing closing
 * delimiter, bare LF line ends, folded header lines, a header given twice, a part without Content-Disposition
 * or name, a Content-Transfer-Encoding other than 7bit/8bit/binary (RFC 7578 §4.7), and two parts with the same
 * name (the upload's fields are single-valued).
 */

export class MultipartFormError extends EmulatorError {
  readonly code = 'WA_EMULATOR_MULTIPART_FORM' as const;
}

export interface FormPart {
  /** `name` of the part's Content-Disposition. */
  readonly name: string;
  /** `filename` of the part's Content-Disposition, when the part is a file (may be empty, as browsers send it). */
  readonly filename?: string;
  /** The part's Content-Type header as sent (RFC 7578 §4.4: text/plain when absent). */
  readonly contentType?: string;
  readonly body: Buffer;
}

/** The parts by name, in body order. */
export type MultipartForm = ReadonlyMap<string, FormPart>;

export interface MultipartLimits {
  /** The whole body. */
  maxBytes: number;
  maxParts: number;
  /** One part's header block, its closing empty line excluded. */
  maxHeaderBytes: number;
}

export const MULTIPART_LIMITS: Readonly<MultipartLimits> = { maxBytes: 20 * 1024 * 1024, maxParts: 16, maxHeaderBytes: 8 * 1024 };

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 2046 §5.1.1: 1-70 bchars, the last not a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const TRANSFER_ENCODINGS = ['7bit', '8bit', 'binary'];

function fail(reason: string): never {
  throw new MultipartFormError(reason);
}

export interface ParameterizedValue {
  /** The value before the first `;`, lower-cased (a media type, a disposition type). */
  value: string;
  /** Parameters by lower-cased name, quoted-strings unquoted. */
  params: ReadonlyMap<string, string>;
}

/** One parameter's value at `at` (a quoted-string with its quoted-pairs, or a run up to `;` or space); returns it and where it ends. */
function readParamValue(text: string, at: number, what: string): [string, number] {
  if (text[at] !== '"') {
    let end = at;
    while (end < text.length && !/[;\s"]/.test(text[end] as string)) end++;
    return [text.slice(at, end), end];
  }
  let out = '';
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') return [out, i + 1];
    if (c === '\\' && i + 1 < text.length) i++;
    out += text[i] ?? '';
  }
  return fail(`${what}: a quoted parameter value is not closed`);
}

/** `value *( OWS ";" OWS name=value )` (RFC 9110 §5.6.6), as Content-Type and Content-Disposition are written. */
export function parseParameterized(text: string, what: string): ParameterizedValue {
  const semi = text.indexOf(';');
  const value = (semi < 0 ? text : text.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  let at = semi < 0 ? text.length : semi;
  while (at < text.length) {
    at += 1; // the ';'
    while (/\s/.test(text[at] ?? '')) at++;
    const eq = text.indexOf('=', at);
    const name = (eq < 0 ? text.slice(at) : text.slice(at, eq)).trim().toLowerCase();
    if (!TOKEN.test(name) || eq < 0) fail(`${what}: "${text.slice(at).trim()}" is not a name=value parameter`);
    if (params.has(name)) fail(`${what}: parameter ${name} is given twice`);
    const [v, end] = readParamValue(text, eq + 1, what);
    params.set(name, v);
    at = end;
    while (/\s/.test(text[at] ?? '')) at++;
    if (at < text.length && text[at] !== ';') fail(`${what}: unexpected "${text.slice(at)}" after parameter ${name}`);
  }
  return { value, params };
}

/** The boundary of a `multipart/form-data` Content-Type. */
export function multipartBoundary(contentType: string | undefined): string {
  if (contentType === undefined || contentType.trim() === '') return fail('no Content-Type: multipart/form-data with a boundary is required');
  const { value, params } = parseParameterized(contentType, 'Content-Type');
  if (value !== 'multipart/form-data') fail(`Content-Type is ${value || 'empty'}, not multipart/form-data`);
  const boundary = params.get('boundary');
  if (boundary === undefined) return fail('Content-Type multipart/form-data has no boundary parameter');
  if (!BOUNDARY.test(boundary)) fail(`boundary ${JSON.stringify(boundary)} is not 1-70 characters of RFC 2046's set (not ending in a space)`);
  return boundary;
}

interface PartHeaders {
  disposition?: string;
  contentType?: string;
  transferEncoding?: string;
}

const HEADER_KEYS: Readonly<Record<string, keyof PartHeaders>> = {
  'content-disposition': 'disposition',
  'content-type': 'contentType',
  'content-transfer-encoding': 'transferEncoding',
};

function parseHeaderBlock(block: string, part: number): PartHeaders {
  const headers: PartHeaders = {};
  if (block === '') return headers;
  for (const line of block.split('\r\n')) {
    if (/[\r\n]/.test(line)) fail(`part ${part}: header lines must end in CRLF`);
    if (/^[ \t]/.test(line)) fail(`part ${part}: folded header lines are not allowed`);
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) fail(`part ${part}: "${line}" is not a header line`);
    const key = HEADER_KEYS[name];
    if (key === undefined) continue; // RFC 7578 §4.8: other part headers are ignored
    if (headers[key] !== undefined) fail(`part ${part}: header ${name} is given twice`);
    headers[key] = line.slice(colon + 1).trim();
  }
  return headers;
}

function partOf(headers: PartHeaders, body: Buffer, part: number): FormPart {
  if (headers.disposition === undefined) return fail(`part ${part} has no Content-Disposition`);
  const disposition = parseParameterized(headers.disposition, `part ${part} Content-Disposition`);
  if (disposition.value !== 'form-data') fail(`part ${part}: Content-Disposition is ${disposition.value || 'empty'}, not form-data`);
  const name = disposition.params.get('name');
  if (name === undefined || name === '') return fail(`part ${part}: Content-Disposition has no name`);
  const encoding = headers.transferEncoding?.toLowerCase();
  if (encoding !== undefined && !TRANSFER_ENCODINGS.includes(encoding)) fail(`part ${part} (${name}): Content-Transfer-Encoding ${encoding} is not supported`);
  const filename = disposition.params.get('filename');
  return {
    name,
    ...(filename !== undefined ? { filename } : {}),
    ...(headers.contentType !== undefined ? { contentType: headers.contentType } : {}),
    body,
  };
}

/** Where the first part's header block begins: after the first `--boundary` line. */
function firstPartStart(body: Buffer, boundary: string): number {
  const dashBoundary = Buffer.from(`--${boundary}`);
  if (body.subarray(0, dashBoundary.length).equals(dashBoundary)) return dashBoundary.length;
  const at = body.indexOf(Buffer.from(`\r\n--${boundary}`));
  if (at < 0) return fail(`no delimiter --${boundary} in the body`);
  return at + 2 + dashBoundary.length;
}

/**
 * After a delimiter: `--` (the close delimiter; returns undefined), or transport padding then CRLF (returns
 * where the next part's headers begin).
 */
function afterDelimiter(body: Buffer, at: number, boundary: string): number | undefined {
  if (at >= body.length) return fail(`the body ends without the closing delimiter --${boundary}--`);
  if (body.toString('latin1', at, at + 2) === '--') return undefined;
  let i = at;
  while (body[i] === 0x20 || body[i] === 0x09) i++;
  if (!body.subarray(i, i + 2).equals(CRLF)) fail(`the delimiter --${boundary} at byte ${at - boundary.length - 2} is not followed by CRLF or "--"`);
  if (i + 2 >= body.length) fail(`the body ends without the closing delimiter --${boundary}--`);
  return i + 2;
}

/** One part from `start` (its header block): the part and where its closing delimiter ends. */
function readPart(body: Buffer, start: number, boundary: string, part: number, limits: Readonly<MultipartLimits>): [FormPart, number] {
  let headerEnd: number;
  let bodyStart: number;
  if (body.subarray(start, start + 2).equals(CRLF)) {
    [headerEnd, bodyStart] = [start, start + 2]; // no header lines at all
  } else {
    headerEnd = body.indexOf(HEADER_END, start);
    if (headerEnd < 0 && body.length - start <= limits.maxHeaderBytes) fail(`part ${part}: the header block does not end with an empty line`);
    if (headerEnd < 0 || headerEnd - start > limits.maxHeaderBytes) fail(`part ${part}: the header block is over ${limits.maxHeaderBytes} bytes`);
    bodyStart = headerEnd + 4;
  }
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const end = body.indexOf(delimiter, bodyStart);
  if (end < 0) fail(`the body ends in part ${part} without the closing delimiter --${boundary}--`);
  const headers = parseHeaderBlock(body.toString('utf8', start, headerEnd), part);
  return [partOf(headers, body.subarray(bodyStart, end), part), end + delimiter.length];
}

/** Reads a `multipart/form-data` body whose Content-Type is `contentType`; MultipartFormError says what is wrong. */
export function parseMultipartForm(contentType: string | undefined, body: Buffer, limits: Readonly<MultipartLimits> = MULTIPART_LIMITS): MultipartForm {
  const boundary = multipartBoundary(contentType);
  if (body.length > limits.maxBytes) fail(`the body is ${body.length} bytes, over the ${limits.maxBytes}-byte limit`);
  const form = new Map<string, FormPart>();
  const positions = new Map<string, number>();
  let next = afterDelimiter(body, firstPartStart(body, boundary), boundary);
  while (next !== undefined) {
    const number = form.size + 1;
    if (number > limits.maxParts) fail(`more than ${limits.maxParts} parts`);
    const [part, end] = readPart(body, next, boundary, number, limits);
    const first = positions.get(part.name);
    if (first !== undefined) fail(`field "${part.name}" is sent twice (parts ${first} and ${number})`);
    form.set(part.name, part);
    positions.set(part.name, number);
    next = afterDelimiter(body, end, boundary);
  }
  return form;
}
