import type { RequestOrigin } from '../audit/audit-log.js';

/** Identity and request origin of the performer of a workspace operation, for checks and audit events. */
export interface Actor {
  /** Null for the command-line tools, which act with platform-admin rights. */
  userId: string | null;
  sessionId: string | null;
  isPlatformAdmin: boolean;
  origin: RequestOrigin;
}

/** The actor of the command-line tools: no user, no session, platform-admin rights. */
export const commandLineActor: Actor = {
  userId: null,
  sessionId: null,
  isPlatformAdmin: true,
  origin: { ip: null, userAgent: null },
};
