import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

/**
 * Request validation for the HTTP routes. Query strings and paths arrive as text, so their
 * numbers and booleans are coerced; JSON bodies are taken as sent (coercing them would turn
 * metadata { amount: 15 } into "15"). Unknown fields are refused, never silently dropped.
 */
export function installValidators(app: FastifyInstance) {
  const options = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false } as const;
  const text = new Ajv({ ...options, coerceTypes: 'array' });
  const json = new Ajv({ ...options, coerceTypes: false });
  for (const ajv of [text, json]) formats.default(ajv);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? json : text).compile(schema));
}
