import type { GatehouseContext } from '../../context.js';
import { forbiddenError, unauthenticatedError } from '../../errors.js';

/**
 * Returns the caller's user id when the caller's user row has is_platform_admin set; throws
 * UNAUTHENTICATED without a caller and FORBIDDEN otherwise. It reads the row on every call, so
 * revoking the flag takes effect at once.
 */
export async function requirePlatformAdmin(context: GatehouseContext): Promise<string> {
  if (!context.identity) throw unauthenticatedError();
  const user = await context.services.prisma.user.findUnique({
    where: { id: context.identity.userId },
    select: { isPlatformAdmin: true, disabled: true },
  });
  if (!user?.isPlatformAdmin || user.disabled) throw forbiddenError();

  return context.identity.userId;
}
