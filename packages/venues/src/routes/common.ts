import { IdempotencyKeyHeader, IfMatchHeader, Type } from '@diandan/kernel';

export const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD (Asia/Shanghai)' });
export const DateTime = Type.String({ format: 'date-time' });
export const Time = Type.String({ pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$', description: 'HH:MM, Asia/Shanghai' });
export const Text = (max: number, min = 1) => Type.String({ minLength: min, maxLength: max });
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
export const WriteHeaders = Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties });
export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  before: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Entries older than this id (the previous page’s last)' })),
});
export const TAG = ['venues'];
