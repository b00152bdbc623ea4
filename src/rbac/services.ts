import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { AccessCache } from './access-cache.js';
import { AccessDenials, type SharedMark } from './access-denials.js';
import { MemberService } from './member-service.js';
import { PermissionService } from './permission-service.js';
import { WorkspaceService } from './workspace-service.js';

/** The workspace and role services, grouped under Services.rbac. */
export interface RbacServices {
  workspaces: WorkspaceService;
  members: MemberService;
  permissions: PermissionService;
  denials: AccessDenials;
  /** Each user's workspace roles, kept between requests. The platform-admin flag is never cached. */
  access: AccessCache;
  logger: Logger;
}

/** Builds the services; `sharedMark` lets instances agree on one `access.denied` event per window. */
export function buildRbacServices(
  prisma: PrismaClient,
  logger: Logger,
  access: AccessCache,
  sharedMark?: SharedMark,
): RbacServices {
  return {
    workspaces: new WorkspaceService(prisma),
    members: new MemberService(prisma),
    permissions: new PermissionService(prisma),
    denials: new AccessDenials({ prisma, logger, sharedMark }),
    access,
    logger,
  };
}
