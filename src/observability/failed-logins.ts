/** Failed logins within this window make an account or address a hotspot. */
const windowMs = 5 * 60_000;
/** More failures than this within the window make a hotspot. */
const threshold = 10;
/** Keys kept before stale ones are swept, so an attack from many addresses cannot grow memory. */
const maxKeys = 100_000;

/**
 * Counts failed logins per account and per client address over the last five minutes, in this
 * process, and reports how many of each had more than 10. The metric has two series whatever
 * the number of attackers, unlike a counter labelled with emails or addresses.
 */
export class FailedLoginTracker {
  readonly #failures = new Map<string, number[]>();

  /** Records one failed login for the normalized email and the client address. */
  record(email: string, ip: string | null, now = Date.now()): void {
    this.#add(`email:${email}`, now);
    if (ip) this.#add(`ip:${ip}`, now);
  }

  /** Returns how many accounts and addresses had more than 10 failures in the last 5 minutes. */
  hotspots(now = Date.now()): { email: number; ip: number } {
    const counts = { email: 0, ip: 0 };
    for (const [key, times] of this.#failures) {
      const recent = times.filter((time) => now - time < windowMs);
      if (recent.length === 0) this.#failures.delete(key);
      if (recent.length > threshold) counts[key.startsWith('email:') ? 'email' : 'ip'] += 1;
    }

    return counts;
  }

  #add(key: string, now: number): void {
    if (this.#failures.size >= maxKeys && !this.#failures.has(key)) this.hotspots(now);
    if (this.#failures.size >= maxKeys && !this.#failures.has(key)) return;
    const recent = (this.#failures.get(key) ?? []).filter((time) => now - time < windowMs);
    recent.push(now);
    // Only the newest threshold + 1 times matter, which bounds each entry.
    this.#failures.set(key, recent.slice(-(threshold + 1)));
  }
}
