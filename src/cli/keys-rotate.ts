import { parseArgs } from 'node:util';
import { generatedKeyFile } from '../auth/keys.js';
import { rotateKeyFile } from '../auth/key-rotation.js';
import { loadConfig } from '../config/index.js';

/**
 * `keys rotate [--file PATH]`: rotates the JWK set in a file and prints what changed as JSON.
 * Retired keys are kept for one access-token lifetime plus the clock skew, the longest a token
 * they signed can stay valid.
 */
export async function rotateKeysCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: 'string' } }, strict: true });
  const config = loadConfig();
  if (!values.file && !config.jwt.privateJwksFile && config.jwt.privateJwks) {
    process.stderr.write(
      'JWT_PRIVATE_JWKS holds the keys inline, so there is no file to rotate. Save the set to a file and pass --file PATH.\n',
    );

    return 64; // EX_USAGE from sysexits.h
  }
  const file = values.file ?? config.jwt.privateJwksFile ?? generatedKeyFile(config.dataDir);
  const retainSeconds = config.jwt.accessTokenTtlSeconds + config.jwt.clockSkewSeconds;
  const result = await rotateKeyFile(file, retainSeconds);
  process.stdout.write(`${JSON.stringify({ file, ...result })}\n`);

  return 0;
}
