import { createGuard } from '../hooks.js';
import type { Budget } from './budgets.js';

/** An allocation about to be written: the region's budget as it is (null when new) and the amount it will have. */
export interface BudgetAllocation {
  readonly regionCode: string;
  readonly year: number;
  readonly before: Budget | null;
  readonly allocated: number;
}

/** Runs inside the allocation's transaction, after the kernel's own checks, before it is written. */
export const budgetAllocationGuard = createGuard<BudgetAllocation>('budget.allocation');
