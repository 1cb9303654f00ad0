import { FormatRegistry } from '@sinclair/typebox';

// TypeBox checks a string `format` only if the format is registered (its registry is
// process-wide). The schemas of the protocol, the bus and the API use date-time only.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)));
