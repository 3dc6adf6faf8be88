import { Controller, Get, Header, Inject, NotFoundException, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { CONSOLE_FILES, type ConsoleFile, loadConsoleAssets } from './console-assets';

/** Scripts, styles and API calls only from this origin: the console loads nothing from elsewhere. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'";

/**
 * GET /console: the agent console, static HTML + JS + CSS that talk to the public API (/v1/*, /v1/events)
 * with the token the agent enters. No token is needed to load the page itself; it holds no data.
 */
@Controller('console')
export class ConsoleController {
  readonly #files = loadConsoleAssets();

  constructor(@Inject(SIGNALLING_LOGGER) logger: Logger) {
    if (!this.#files) logger.warn('agent console files (apps/signalling/src/console/assets) not found: GET /console answers 404');
  }

  @Get()
  @Header('content-security-policy', CSP)
  page(@Res() res: Response): void {
    this.#send(res, 'index.html');
  }

  @Get('console.js')
  script(@Res() res: Response): void {
    this.#send(res, 'console.js');
  }

  @Get('console.css')
  style(@Res() res: Response): void {
    this.#send(res, 'console.css');
  }

  #send(res: Response, name: ConsoleFile): void {
    if (!this.#files) throw new NotFoundException('the agent console files are not installed with this build');
    res.status(200).setHeader('content-type', CONSOLE_FILES[name]).setHeader('cache-control', 'no-cache').setHeader('x-content-type-options', 'nosniff').end(this.#files[name]);
  }
}
