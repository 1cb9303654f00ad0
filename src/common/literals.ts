import { Type, type SchemaOptions, type TLiteral, type TUnion } from '@sinclair/typebox';

/** A union of string literals that keeps the literal types (Array.map alone widens them to string). */
export const literals = <const T extends readonly string[]>(values: T, options?: SchemaOptions) =>
  Type.Union(values.map((v) => Type.Literal(v)), options) as unknown as TUnion<TLiteral<T[number]>[]>;
