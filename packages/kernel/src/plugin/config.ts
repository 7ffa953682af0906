import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { closeObjects } from '../http/schemas.js';

/**
 * Validates a plugin's config against its schema after applying defaults. Unknown
 * keys are rejected everywhere (a typo must not silently fall back to a default), and
 * every message is prefixed with the plugin and the key path, e.g.
 * `plugin "survey": config.reminders.days: must be integer`.
 */
export function validateConfig(plugin: string, schema: TSchema | undefined, input: Record<string, unknown>): unknown {
  const strict = schema ? closeObjects(schema) : { type: 'object', properties: {}, additionalProperties: false };
  // Defaults from the original schema (the closed copy is plain JSON Schema).
  const value = schema ? Value.Default(schema, Value.Clone(input)) : input;
  const errors = Value.Errors(strict, value);
  if (errors.length === 0) return value;

  const unknown = errors.flatMap((e) =>
    e.keyword === 'additionalProperties'
      ? ((e.params as { additionalProperties?: string[] }).additionalProperties ?? []).map((k) =>
          keyPath(`${e.instancePath}/${k}`),
        )
      : [],
  );
  if (unknown.length > 0) {
    throw new DiandanStartupError(
      StartupErrorCodes.PLUGIN_CONFIG_UNKNOWN_KEY,
      `plugin "${plugin}": unknown config key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`,
      { plugin, path: unknown[0] },
    );
  }
  // `schema is false` errors repeat the additionalProperties ones; the rest are real.
  const invalid = errors.filter((e) => e.keyword !== 'boolean');
  const first = invalid[0] ?? errors[0]!;
  throw new DiandanStartupError(
    StartupErrorCodes.PLUGIN_CONFIG_INVALID,
    `plugin "${plugin}": ${invalid.map((e) => `${keyPath(e.instancePath)}: ${e.message}`).join('; ')}`,
    { plugin, path: keyPath(first.instancePath) },
  );
}

/** `/reminders/0/days` → `config.reminders[0].days` */
function keyPath(pointer: string): string {
  const parts = pointer.split('/').filter(Boolean);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : `${acc}.${p}`), 'config');
}
