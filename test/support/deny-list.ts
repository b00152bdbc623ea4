import { eventually } from '../faults/support.js';
import type { TestGatehouse } from './gatehouse.js';

/**
 * Waits until the instance has filled its Redis deny-list from PostgreSQL after connecting.
 * Until then every session is checked in PostgreSQL, so Redis command counts would differ.
 */
export async function denyListFilled(gatehouse: TestGatehouse): Promise<boolean> {
  return eventually(async () => gatehouse.logs.some((line) => line.msg === 'revocation deny-list filled from database'));
}
