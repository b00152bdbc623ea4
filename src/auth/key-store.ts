import type { Logger } from '../logger.js';
import { signingKeyAt } from './key-activation.js';
import { publicJwks, type KeyRing, type SigningKey } from './keys.js';

/**
 * The key ring in use. A reload swaps the whole ring at once, so AccessTokens and the JWKS
 * endpoint read it through current() and never see half of a change.
 */
export class KeyStore {
  #ring: KeyRing;
  /** The published JWK set as JSON, built once per ring rather than per request. */
  #publicJwksJson: string;
  /** `kid` of the key that signed last, to log the moment a new key starts signing. */
  #signingKid: string;

  constructor(
    ring: KeyRing,
    private readonly logger?: Logger,
  ) {
    this.#ring = ring;
    this.#publicJwksJson = JSON.stringify(publicJwks(ring));
    this.#signingKid = signingKeyAt(ring, Date.now()).kid;
  }

  current(): KeyRing {
    return this.#ring;
  }

  /** Returns the key that signs at `nowMs`, and logs when its activation time made it the signer. */
  signingKey(nowMs = Date.now()): SigningKey {
    const key = signingKeyAt(this.#ring, nowMs);
    if (key.kid !== this.#signingKid) {
      this.logger?.info({ kid: key.kid, previousKid: this.#signingKid }, 'signing key activated');
      this.#signingKid = key.kid;
    }

    return key;
  }

  /** Returns the public JWK set of the current ring as JSON, as /.well-known/jwks.json serves it. */
  publicJwksJson(): string {
    return this.#publicJwksJson;
  }

  /** Makes `ring` the current ring and returns the key that signs now. */
  replace(ring: KeyRing, nowMs = Date.now()): SigningKey {
    const signing = signingKeyAt(ring, nowMs);
    this.#publicJwksJson = JSON.stringify(publicJwks(ring));
    this.#ring = ring;
    this.#signingKid = signing.kid;

    return signing;
  }
}
