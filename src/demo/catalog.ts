/**
 * The one catalog of API actions the actors' mixes and the script name: every action by its key.
 */
import { CIS_CHANGE_ACTIONS } from './actions-cis.js';
import { OPERATIONS_ACTIONS } from './actions-operations.js';
import { WORKLOAD_ACTIONS } from './actions-workloads.js';

export const ACTIONS = { ...WORKLOAD_ACTIONS, ...OPERATIONS_ACTIONS, ...CIS_CHANGE_ACTIONS };

export type ActionKey = keyof typeof ACTIONS;
/** An actor's share of calls per action. */
export type Mix = Partial<Record<ActionKey, number>>;
