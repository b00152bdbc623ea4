import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { AccessDenials } from './access-denials.js';
import { MemberService } from './member-service.js';
import { PermissionService } from './permission-service.js';
import { WorkspaceService } from './workspace-service.js';

/** The workspace and role services, grouped under Services.rbac. */
export interface RbacServices {
  workspaces: WorkspaceService;
  members: MemberService;
  permissions: PermissionService;
  denials: AccessDenials;
  logger: Logger;
}

export function buildRbacServices(prisma: PrismaClient, logger: Logger): RbacServices {
  return {
    workspaces: new WorkspaceService(prisma),
    members: new MemberService(prisma),
    permissions: new PermissionService(prisma),
    denials: new AccessDenials({ prisma, logger }),
    logger,
  };
}
