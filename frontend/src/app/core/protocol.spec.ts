import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compile } from 'json-schema-to-typescript';
import { describe, expect, it } from 'vitest';

describe('protocol types', () => {
  it('are generated from the current schema (run `npm run types` after changing it)', async () => {
    const root = process.cwd(); // ng test runs in frontend/
    const schema = JSON.parse(readFileSync(resolve(root, '../docs/protocol/messages.schema.json'), 'utf8'));
    const generated = await compile(schema, 'Message', {
      unreachableDefinitions: true,
      cwd: resolve(root, '../docs/protocol'),
    });
    const committed = readFileSync(resolve(root, 'src/app/core/protocol.generated.ts'), 'utf8');

    const body = (text: string) => text.slice(text.indexOf('export'));
    expect(body(committed)).toEqual(body(generated));
  });
});
