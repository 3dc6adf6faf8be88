import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigReference } from './config-doc';

describe('configuration reference', () => {
  it('the README carries the reference generated from the schema (run: npm run config:doc)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(renderConfigReference());
  });
});
