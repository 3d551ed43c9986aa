import fs from 'node:fs';
import { expect, test } from 'vitest';
import { explanations } from './errors';

// Every error code the API can answer (openapi.yaml's Error.code enum) is explained on the page.
test('every API error code has an explanation', () => {
  const spec = fs.readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');
  const block = spec.slice(spec.indexOf('    Error:'), spec.indexOf('        message:', spec.indexOf('    Error:')));
  const codes = [...block.matchAll(/^ {12}- ([a-z_]+)$/gm)].map((m) => m[1]);
  expect(codes.length).toBeGreaterThan(30);
  expect(codes.filter((c) => !explanations[c])).toEqual([]);
});
