// Validates bodies and SSE frames against OpenAI's published OpenAPI spec
// (/work/shared/reference/openai-openapi.json, or $OPENAI_OPENAPI), with ajv.
// When the spec file is absent (a clone without the shared reference), validation is skipped.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROOT } from './harness.mjs';

const CANDIDATES = [
  process.env.OPENAI_OPENAPI,
  path.join(ROOT, 'reference/openai-openapi.json'),
  path.join(ROOT, '../shared/reference/openai-openapi.json'),
  '/work/shared/reference/openai-openapi.json',
].filter(Boolean);

export const SPEC_PATH = CANDIDATES.find((p) => existsSync(p)) || null;

let ajv = null;
const cache = new Map();

// Rewrites OpenAPI 3.0's `nullable: true` (still used in places of this 3.1 spec) into JSON
// Schema: `type: [t, "null"]` (and null added to an enum), or anyOf [schema, null] without type.
function denullable(node) {
  if (Array.isArray(node)) return node.map(denullable);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) if (k !== 'nullable' || typeof v !== 'boolean') out[k] = denullable(v);
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string' || Array.isArray(out.type)) {
    const types = [].concat(out.type);
    if (!types.includes('null')) out.type = [...types, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

function load() {
  if (ajv || !SPEC_PATH) return ajv;
  const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8'));
  ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
  ajv.addSchema({ $id: 'openai', components: denullable(spec.components) });
  return ajv;
}

/** Throws with ajv's errors unless `value` matches components.schemas[name]. No-op without spec. */
export function assertSchema(name, value, what = name) {
  if (!load()) return;
  let validate = cache.get(name);
  if (!validate) {
    validate = ajv.getSchema(`openai#/components/schemas/${name}`);
    if (!validate) throw new Error(`no schema ${name} in ${SPEC_PATH}`);
    cache.set(name, validate);
  }
  if (!validate(value)) {
    const errs = validate.errors.slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    throw new Error(`${what} does not match OpenAI schema ${name}:\n  ${errs.join('\n  ')}\nvalue: ${JSON.stringify(value).slice(0, 1500)}`);
  }
}
