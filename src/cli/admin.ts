import { auditActions, auditRow } from '../audit/audit-log.js';
import { normalizeEmail } from '../auth/email.js';
import { databaseLabel, openCliDatabase } from './database.js';

/**
 * `admin grant EMAIL` and `admin revoke EMAIL`: sets users.is_platform_admin and audits the
 * change in the same transaction. Exits 1 for an unknown email and 64 without one.
 */
export async function setPlatformAdmin(args: string[], grant: boolean): Promise<number> {
  const [email] = args;
  if (!email || args.length !== 1) {
    process.stderr.write(`Usage: npm run gatehouse -- admin ${grant ? 'grant' : 'revoke'} EMAIL\n`);
    return 64;
  }
  const normalized = normalizeEmail(email);
  const { config, db } = await openCliDatabase();
  try {
    const user = await db.prisma.user.findUnique({ where: { email: normalized } });
    if (!user) {
      process.stderr.write(
        `No user with email ${normalized} in ${databaseLabel(config)}. Check the spelling and the database, or register the account first.\n`,
      );
      return 1;
    }
    if (user.isPlatformAdmin === grant) {
      process.stdout.write(`${normalized} ${grant ? 'is already' : 'is not'} a platform admin: nothing changed.\n`);
      return 0;
    }
    const action = grant ? auditActions.platformAdminGranted : auditActions.platformAdminRevoked;
    await db.prisma.$transaction([
      db.prisma.user.update({ where: { id: user.id }, data: { isPlatformAdmin: grant } }),
      db.prisma.auditLog.create({
        data: auditRow(action, null, user.id, null, { ip: null, userAgent: null }, { via: 'cli' }),
      }),
    ]);
    process.stdout.write(`${grant ? 'Granted' : 'Revoked'} platform admin ${grant ? 'to' : 'from'} ${normalized} (user ${user.id}).\n`);

    return 0;
  } finally {
    await db.close();
  }
}
