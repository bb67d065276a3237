/**
 * The pause after close round `round` failed: 30 s, doubling, at most an hour. The Workflow sleeps it (./workflow.ts);
 * the repair (./repair.ts) reads it to tell a job between rounds from a stuck one.
 */
export const FIRST_ROUND_GAP_S = 30;
export const MAX_ROUND_GAP_S = 3600;
export function roundGapSeconds(round: number): number {
  return Math.min(MAX_ROUND_GAP_S, FIRST_ROUND_GAP_S * 2 ** Math.min(round - 1, 20));
}
