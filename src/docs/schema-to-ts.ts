import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';

/**
 * Renders a TypeBox schema as a TypeScript type, for the generated docs. Schemas with a
 * `title` are rendered by name and collected in `named`, so shared types appear once.
 */
export function schemaToTs(schema: TSchema, named: Map<string, TSchema>, indent = '', top = true, comments = true): string {
  if (!top && schema.title) {
    if (!named.has(schema.title)) {
      named.set(schema.title, schema);
    }
    return schema.title;
  }
  const inner = indent + '  ';
  switch (schema[Kind]) {
    case 'Object': {
      const entries = Object.entries(schema.properties as Record<string, TSchema>);
      if (entries.length === 0) return '{}';
      const lines = entries.map(([k, v]) => {
        const opt = v[OptionalKind] === 'Optional' || !(schema.required ?? []).includes(k) ? '?' : '';
        const doc = comments && v.description && !v.title ? ` // ${v.description}` : '';
        return `${inner}${k}${opt}: ${schemaToTs(v, named, inner, false, comments)};${doc}`;
      });
      return `{\n${lines.join('\n')}\n${indent}}`;
    }
    case 'Union':
      return (schema.anyOf as TSchema[]).map((s) => schemaToTs(s, named, indent, false, comments)).join(' | ');
    case 'Literal':
      return JSON.stringify(schema.const);
    case 'Array': {
      const item = schemaToTs(schema.items, named, indent, false, comments);
      return item.includes(' ') && !item.startsWith('{') ? `Array<${item}>` : `${item}[]`;
    }
    case 'Record': {
      const value = Object.values(schema.patternProperties as Record<string, TSchema>)[0];
      return `Record<string, ${schemaToTs(value, named, indent, false, comments)}>`;
    }
    case 'Integer':
      return 'integer';
    case 'String':
    case 'Number':
    case 'Boolean':
    case 'Null':
    case 'Unknown':
      return schema[Kind].toLowerCase();
    default:
      return 'unknown';
  }
}

/** Renders every named type met so far (and those they name in turn). */
export function renderNamed(named: Map<string, TSchema>): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  for (let pending = [...named.keys()]; pending.length; pending = [...named.keys()].filter((n) => !done.has(n))) {
    for (const name of pending.sort()) {
      done.add(name);
      const schema = named.get(name)!;
      out.push(`### ${name}`, '', ...(schema.description ? [schema.description, ''] : []), '```ts', `type ${name} = ${schemaToTs(schema, named)};`, '```', '');
    }
  }
  return out;
}
