import { gatehouseError } from '../errors.js';

/**
 * One error for a workspace that does not exist and one the caller is not in, so callers cannot
 * learn which workspace ids exist.
 */
export const workspaceNotFoundError = () => gatehouseError('NOT_FOUND', 'Workspace not found.');

export const memberNotFoundError = () => gatehouseError('NOT_FOUND', 'Member not found in this workspace.');

/**
 * One fixed error for an unknown email, an invalid one and a disabled account. Callers still
 * learn that the address cannot be added, which adding by email cannot avoid.
 */
export const addMemberEmailNotFoundError = () =>
  gatehouseError('NOT_FOUND', 'No account with this email can be added.');

export const lastOwnerError = () =>
  gatehouseError('LAST_OWNER', 'A workspace needs at least one owner: make another member owner first.');

export const alreadyMemberError = () =>
  gatehouseError('ALREADY_MEMBER', 'This user is already a member: change their role instead.');
