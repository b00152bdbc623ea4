import type { TestGatehouse } from './gatehouse.js';
import { registerUser } from './users.js';

/** Registers a user, makes it a platform admin in the database and returns its tokens. */
export async function registerPlatformAdmin(gatehouse: TestGatehouse) {
  const admin = await registerUser(gatehouse, { displayName: 'Platform Admin' });
  await gatehouse.app.services.prisma.user.update({
    where: { id: admin.user.id },
    data: { isPlatformAdmin: true },
  });

  return admin;
}
