import { parseArgs } from 'node:util';
import { generatedKeyFile } from '../auth/keys.js';
import { rotateKeyFile } from '../auth/key-rotation.js';
import { loadConfig } from '../config/index.js';

/** Largest accepted `--activate-after`, in seconds: one day. */
const maxActivateAfterSeconds = 86_400;

/**
 * Returns the `--activate-after` delay in seconds, or an error message. The default is two key
 * reload intervals plus the clock skew. One interval lets every instance load the new set, and
 * one lets clients that cached the JWK set fetch it again, because the endpoint's max-age is at
 * most one interval. The skew covers instances whose clocks run ahead of this one.
 */
function activationDelay(value: string | undefined, reloadSeconds: number, clockSkewSeconds: number): number | string {
  if (value === undefined) {
    if (reloadSeconds > 0) return 2 * reloadSeconds + clockSkewSeconds;

    return 'JWT_KEYS_RELOAD_SECONDS is 0, so instances read the new set only on SIGHUP or a restart. Pass --activate-after SECONDS with the time to signal or restart every instance, plus 300 for the max-age of /.well-known/jwks.json, plus JWT_CLOCK_SKEW_SECONDS (0 signs at once).';
  }
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds > maxActivateAfterSeconds) {
    return `Invalid --activate-after: "${value}". Use whole seconds from 0 to ${maxActivateAfterSeconds}.`;
  }

  return seconds;
}

/**
 * `keys rotate [--file PATH] [--activate-after SECONDS]`: rotates the JWK set in a file and
 * prints what changed as JSON. Retired keys are kept for one access-token lifetime plus the
 * clock skew after they stop signing, the longest a token they signed can stay valid.
 */
export async function rotateKeysCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { file: { type: 'string' }, 'activate-after': { type: 'string' } },
    strict: true,
  });
  const config = loadConfig();
  if (!values.file && !config.jwt.privateJwksFile && config.jwt.privateJwks) {
    process.stderr.write(
      'JWT_PRIVATE_JWKS holds the keys inline, so there is no file to rotate. Save the set to a file and pass --file PATH.\n',
    );

    return 64; // EX_USAGE from sysexits.h
  }
  const activateAfter = activationDelay(values['activate-after'], config.jwt.keysReloadSeconds, config.jwt.clockSkewSeconds);
  if (typeof activateAfter === 'string') {
    process.stderr.write(`${activateAfter}\n`);

    return 64;
  }
  const file = values.file ?? config.jwt.privateJwksFile ?? generatedKeyFile(config.dataDir);
  const retainSeconds = config.jwt.accessTokenTtlSeconds + config.jwt.clockSkewSeconds;
  const result = await rotateKeyFile(file, retainSeconds, Date.now(), activateAfter);
  process.stdout.write(`${JSON.stringify({ file, ...result })}\n`);

  return 0;
}
