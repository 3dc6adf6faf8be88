import { MULTIPART_LIMITS, type MultipartLimits, MultipartFormError, multipartBoundary, parseMultipartForm, parseParameterized } from './multipart-form.parser';

const CT = 'multipart/form-data; boundary=XyZ';

/** A body from CRLF-joined lines (the way it goes on the wire). */
const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

/** What parseMultipartForm refused, or undefined when it took the body. */
function refusal(contentType: string | undefined, body: Buffer, limits?: MultipartLimits): string | undefined {
  try {
    parseMultipartForm(contentType, body, limits);
  } catch (err) {
    if (err instanceof MultipartFormError) return err.message;
    throw err;
  }
  return undefined;
}

describe('parseMultipartForm: bodies it reads', () => {
  it('reads fields and a file part: names, filename, Content-Type and the exact bytes, in body order', () => {
    const audio = Buffer.from([0x4f, 0x67, 0x67, 0x53, 0x00, 0x0d, 0x0a, 0x2d, 0x2d, 0xff, 0x0d, 0x0a]); // CRLF and "--" inside the file
    const body = Buffer.concat([
      crlf('--XyZ', 'Content-Disposition: form-data; name="messaging_product"', '', 'whatsapp', '--XyZ', 'Content-Disposition: form-data; name="type"', '', 'audio/ogg', '--XyZ'),
      crlf('', 'Content-Disposition: form-data; name="file"; filename="hello.ogg"', 'Content-Type: audio/ogg', '', ''),
      audio,
      crlf('', '--XyZ--', ''),
    ]);

    const form = parseMultipartForm(CT, body);

    expect([...form.keys()]).toEqual(['messaging_product', 'type', 'file']);
    expect(form.get('messaging_product')).toEqual({ name: 'messaging_product', body: Buffer.from('whatsapp') });
    expect(form.get('type')?.body.toString()).toBe('audio/ogg');
    expect(form.get('file')).toEqual({ name: 'file', filename: 'hello.ogg', contentType: 'audio/ogg', body: audio });
  });

  it('takes the boundary quoted or unquoted, in any letter case, with characters that need quoting', () => {
    const body = (b: string): Buffer => crlf(`--${b}`, 'Content-Disposition: form-data; name="a"', '', '1', `--${b}--`);

    expect(parseMultipartForm('multipart/form-data; boundary="a:b c=d?"', body('a:b c=d?')).get('a')?.body.toString()).toBe('1');
    expect(parseMultipartForm('Multipart/Form-Data;Boundary=----formdata-undici-0123', body('----formdata-undici-0123')).size).toBe(1);
    expect(multipartBoundary('multipart/form-data; charset=utf-8; boundary="x y"')).toBe('x y');
  });

  it('ignores a preamble, an epilogue, transport padding after a delimiter and part headers it does not know', () => {
    const body = crlf('this is the preamble', '--XyZ  ', 'Content-Disposition: form-data; name="a"', 'X-Extra: 1', 'Content-Transfer-Encoding: binary', '', 'v', '--XyZ--', 'epilogue');

    expect(parseMultipartForm(CT, body).get('a')).toEqual({ name: 'a', body: Buffer.from('v') });
  });

  it('keeps an empty value, an empty filename (a browser with no file chosen) and an escaped quote in a filename', () => {
    const body = crlf('--XyZ', 'Content-Disposition: form-data; name="empty"', '', '', '--XyZ', 'content-disposition: FORM-DATA; filename="say \\"hi\\".ogg"; name=file', '', 'x', '--XyZ', 'Content-Disposition: form-data; name="none"; filename=""', '', '', '--XyZ--');

    const form = parseMultipartForm(CT, body);

    expect(form.get('empty')?.body.length).toBe(0);
    expect(form.get('file')?.filename).toBe('say "hi".ogg');
    expect(form.get('none')).toEqual({ name: 'none', filename: '', body: Buffer.alloc(0) });
  });
});

describe('parseMultipartForm: what it refuses, with the reason', () => {
  const part = (name: string, value = 'v'): string[] => ['--XyZ', `Content-Disposition: form-data; name="${name}"`, '', value];

  it('a Content-Type that is missing, not multipart/form-data, without a boundary, or with a bad one', () => {
    const body = crlf(...part('a'), '--XyZ--');
    expect(refusal(undefined, body)).toBe('no Content-Type: multipart/form-data with a boundary is required');
    expect(refusal('application/json', body)).toBe('Content-Type is application/json, not multipart/form-data');
    expect(refusal('multipart/mixed; boundary=XyZ', body)).toBe('Content-Type is multipart/mixed, not multipart/form-data');
    expect(refusal('multipart/form-data', body)).toBe('Content-Type multipart/form-data has no boundary parameter');
    expect(refusal(`multipart/form-data; boundary=${'b'.repeat(71)}`, body)).toMatch(/^boundary "b{71}" is not 1-70 characters/);
    expect(refusal('multipart/form-data; boundary="ends in space "', body)).toMatch(/is not 1-70 characters of RFC 2046's set \(not ending in a space\)$/);
    expect(refusal('multipart/form-data; boundary="XyZ', body)).toBe('Content-Type: a quoted parameter value is not closed');
    expect(refusal('multipart/form-data; boundary=XyZ; boundary=Q', body)).toBe('Content-Type: parameter boundary is given twice');
  });

  it('a body without the closing delimiter: cut after a part, after a delimiter line, or right after a delimiter', () => {
    expect(refusal(CT, crlf(...part('a'), ''))).toBe('the body ends in part 1 without the closing delimiter --XyZ--');
    expect(refusal(CT, crlf(...part('a'), '--XyZ', ''))).toBe('the body ends without the closing delimiter --XyZ--');
    expect(refusal(CT, crlf(...part('a'), '--XyZ'))).toBe('the body ends without the closing delimiter --XyZ--');
    expect(refusal(CT, crlf(...part('a'), '--XyZ', 'Content-Disposition: form-data; name="b"'))).toBe('part 2: the header block does not end with an empty line');
  });

  it('a body with no delimiter, another boundary, or LF line ends', () => {
    expect(refusal(CT, Buffer.from('name=value'))).toBe('no delimiter --XyZ in the body');
    expect(refusal('multipart/form-data; boundary=Other', crlf(...part('a'), '--XyZ--'))).toBe('no delimiter --Other in the body');
    expect(refusal(CT, Buffer.from('--XyZ\nContent-Disposition: form-data; name="a"\n\nv\n--XyZ--\n'))).toBe('the delimiter --XyZ at byte 0 is not followed by CRLF or "--"');
    expect(refusal(CT, crlf('--XyZ', 'Content-Disposition: form-data; name="a"\nX-Other: 1', '', 'v', '--XyZ--'))).toBe('part 1: header lines must end in CRLF');
  });

  it('a part without Content-Disposition, not form-data, or without a name', () => {
    expect(refusal(CT, crlf('--XyZ', 'Content-Type: text/plain', '', 'v', '--XyZ--'))).toBe('part 1 has no Content-Disposition');
    expect(refusal(CT, crlf('--XyZ', '', 'v', '--XyZ--'))).toBe('part 1 has no Content-Disposition');
    expect(refusal(CT, crlf(...part('a'), '--XyZ', 'Content-Disposition: attachment; name="b"', '', 'v', '--XyZ--'))).toBe('part 2: Content-Disposition is attachment, not form-data');
    expect(refusal(CT, crlf('--XyZ', 'Content-Disposition: form-data; filename="a.ogg"', '', 'v', '--XyZ--'))).toBe('part 1: Content-Disposition has no name');
    expect(refusal(CT, crlf('--XyZ', 'Content-Disposition: form-data; name=""', '', 'v', '--XyZ--'))).toBe('part 1: Content-Disposition has no name');
    expect(refusal(CT, crlf('--XyZ', 'Content-Disposition: form-data; name', '', 'v', '--XyZ--'))).toBe('part 1 Content-Disposition: "name" is not a name=value parameter');
  });

  it('malformed part headers: no colon, folded, given twice; a Content-Transfer-Encoding other than 7bit/8bit/binary', () => {
    const withHeaders = (...headers: string[]): Buffer => crlf('--XyZ', ...headers, '', 'v', '--XyZ--');
    const disposition = 'Content-Disposition: form-data; name="a"';
    expect(refusal(CT, withHeaders(disposition, 'not a header'))).toBe('part 1: "not a header" is not a header line');
    expect(refusal(CT, withHeaders(disposition, ' folded; x=1'))).toBe('part 1: folded header lines are not allowed');
    expect(refusal(CT, withHeaders(disposition, 'content-disposition: form-data; name="b"'))).toBe('part 1: header content-disposition is given twice');
    expect(refusal(CT, withHeaders(disposition, 'Content-Transfer-Encoding: base64'))).toBe('part 1 (a): Content-Transfer-Encoding base64 is not supported');
  });

  it('the same field twice', () => {
    expect(refusal(CT, crlf(...part('type', 'audio/ogg'), ...part('file'), ...part('type', 'audio/mpeg'), '--XyZ--'))).toBe('field "type" is sent twice (parts 1 and 3)');
  });

  it('oversize: a body over maxBytes, more than maxParts parts, a header block over maxHeaderBytes', () => {
    const body = crlf(...part('a'), ...part('b'), ...part('c'), '--XyZ--');
    expect(refusal(CT, body, { ...MULTIPART_LIMITS, maxBytes: body.length })).toBeUndefined();
    expect(refusal(CT, body, { ...MULTIPART_LIMITS, maxBytes: body.length - 1 })).toBe(`the body is ${body.length} bytes, over the ${body.length - 1}-byte limit`);
    expect(refusal(CT, body, { ...MULTIPART_LIMITS, maxParts: 2 })).toBe('more than 2 parts');
    const longHeader = crlf('--XyZ', 'Content-Disposition: form-data; name="a"', `X-Pad: ${'p'.repeat(100)}`, '', 'v', '--XyZ--');
    expect(refusal(CT, longHeader, { ...MULTIPART_LIMITS, maxHeaderBytes: 64 })).toBe('part 1: the header block is over 64 bytes');
    expect(MULTIPART_LIMITS).toEqual({ maxBytes: 20 * 1024 * 1024, maxParts: 16, maxHeaderBytes: 8 * 1024 });
  });
});

describe('parseParameterized', () => {
  it('splits a header value into its lower-cased value and parameters, quoted or not', () => {
    const parsed = parseParameterized('Form-Data; Name="file"; filename=a.ogg', 'h');
    expect(parsed.value).toBe('form-data');
    expect([...parsed.params]).toEqual([
      ['name', 'file'],
      ['filename', 'a.ogg'],
    ]);
    expect(() => parseParameterized('form-data; name="a" junk', 'h')).toThrow('h: unexpected "junk" after parameter name');
  });
});
