import { Controller, Get, Header } from '@nestjs/common';
import { renderDocsPage } from './docs-page';
import { OPENAPI_DOCUMENT } from './openapi.document';

/** The API description (no token: it holds no secret) and its readable page. */
@Controller()
export class OpenApiController {
  readonly #page = renderDocsPage(OPENAPI_DOCUMENT);

  @Get('openapi.json')
  @Header('cache-control', 'no-cache')
  document(): typeof OPENAPI_DOCUMENT {
    return OPENAPI_DOCUMENT;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
  docs(): string {
    return this.#page;
  }
}
