import { generateSigningJwk } from '../auth/keys.js';
import { rotateKeysCommand } from './keys-rotate.js';
import { diffMigrationsToSchema } from '../db/schema-engine.js';
import { setPlatformAdmin } from './admin.js';
import { importMembers, importMembersUsage } from './import-members.js';

const usage = `Usage: npm run gatehouse -- <command>

Commands:
  keys generate     Print a new private JWK set (Ed25519) for JWT_PRIVATE_JWKS.
  keys rotate [--file PATH] [--activate-after SECONDS]
                    Put a new signing key first in a JWK set file; older keys keep
                    verifying until every token they signed has expired. Default file:
                    JWT_PRIVATE_JWKS_FILE, else DATA_DIR/jwks.json. Running instances
                    load the file within JWT_KEYS_RELOAD_SECONDS or on SIGHUP, and the
                    new key signs after SECONDS (default: 2 x JWT_KEYS_RELOAD_SECONDS
                    + JWT_CLOCK_SKEW_SECONDS).
  migrations diff   Print the SQL that takes the migrations to prisma/schema.prisma.
                    Save it as prisma/migrations/<timestamp>_<name>/migration.sql.
  admin grant EMAIL   Make the user with this email a platform admin.
  admin revoke EMAIL  Take platform admin away from the user with this email.
  import-members FILE Add workspace members from a JSON or CSV file.
${importMembersUsage}
The database commands read DATABASE_URL or DATA_DIR as the server does. Stop the server
before using them on the embedded database.
`;

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  'keys generate': async () => {
    process.stdout.write(`${JSON.stringify({ keys: [await generateSigningJwk()] })}\n`);

    return 0;
  },
  'keys rotate': rotateKeysCommand,
  'migrations diff': async () => {
    const sql = await diffMigrationsToSchema();
    if (sql === '') {
      process.stderr.write('The migrations already match prisma/schema.prisma.\n');
    } else {
      process.stdout.write(`${sql}\n`);
    }

    return 0;
  },
  'admin grant': (args) => setPlatformAdmin(args, true),
  'admin revoke': (args) => setPlatformAdmin(args, false),
  'import-members': (args) => importMembers(args),
};

async function run(argv: string[]): Promise<number> {
  const name = argv.slice(0, 2).join(' ');
  const command = commands[name];
  if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(usage);

    return 0;
  }
  const singleWord = argv[0] === undefined ? undefined : commands[argv[0]];
  if (!command && singleWord) return singleWord(argv.slice(1));
  if (!command) {
    process.stderr.write(argv.length > 0 ? `Unknown command: ${argv.join(' ')}\n\n${usage}` : usage);

    return 64; // EX_USAGE from sysexits.h
  }

  return command(argv.slice(2));
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
