/**
 * Returns the Redis Cluster hash tag of one user's keys. The quota buckets of the user and the
 * deny-list entries of the user's sessions carry it, so they hash to one slot and the quota
 * script can read a session's entry in the same call. It contains only the user id, because the
 * code that writes deny-list entries does not know the caller's plan.
 */
export function userHashTag(userId: string): string {
  return `{user:${userId}}`;
}
