import { generateSigningJwk } from '../auth/keys.js';
import { rotateKeysCommand } from './keys-rotate.js';
import { diffMigrationsToSchema } from '../db/schema-engine.js';

const usage = `Usage: npm run gatehouse -- <command>

Commands:
  keys generate     Print a new private JWK set (Ed25519) for JWT_PRIVATE_JWKS.
  keys rotate [--file PATH]
                    Put a new signing key first in a JWK set file; older keys keep
                    verifying until every token they signed has expired. Default file:
                    JWT_PRIVATE_JWKS_FILE, else DATA_DIR/jwks.json. Restart to apply.
  migrations diff   Print the SQL that takes the migrations to prisma/schema.prisma.
                    Save it as prisma/migrations/<timestamp>_<name>/migration.sql.
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
};

async function run(argv: string[]): Promise<number> {
  const name = argv.slice(0, 2).join(' ');
  const command = commands[name];
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
