import { badUserInputError } from '../errors.js';

/** Position of an event in the (created_at desc, id desc) order of the audit log. */
export interface AuditCursor {
  createdAt: Date;
  id: bigint;
}

/** Encodes a position as an opaque base64url string; clients must not build cursors. */
export function encodeCursor(cursor: AuditCursor): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.id}`, 'utf8').toString('base64url');
}

/** Decodes a cursor from `encodeCursor`; anything else is BAD_USER_INPUT on `after`. */
export function decodeCursor(value: string): AuditCursor {
  const invalid = () => badUserInputError('after', 'Invalid cursor: pass an endCursor returned by auditLogs.');
  if (value.length > 200 || !/^[A-Za-z0-9_-]+$/.test(value)) throw invalid();
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|(\d{1,19})$/.exec(
    Buffer.from(value, 'base64url').toString('utf8'),
  );
  if (!match) throw invalid();
  const createdAt = new Date(match[1]!);
  if (Number.isNaN(createdAt.getTime())) throw invalid();

  return { createdAt, id: BigInt(match[2]!) };
}
