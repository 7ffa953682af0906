/**
 * Residents' choice over a street's own budget: approval ballots, two rules.
 *
 * **Method of Equal Shares** (MES, Peters & Skowron; used in Wieliczka and Świecie in
 * Poland and Aarau in Switzerland), for approval ballots with cost utilities:
 * - the budget B is split equally: each of the n voters holds B ÷ n;
 * - an option j of cost c_j is affordable when its approvers together hold at least
 *   c_j; its price per voter ρ_j is the least ρ with Σ_{i approves j} min(holding_i, ρ) = c_j
 *   (approvers with less than ρ pay all they hold, the others pay ρ);
 * - the affordable option with the smallest ρ is funded (ties: more approvals, then
 *   lower cost, then the ballot's order), its approvers pay, and the round repeats until
 *   no option is affordable.
 *
 * **Completion** (MES alone may leave money unspent): `add1` raises every voter's
 * starting share by `increment` yuan and runs MES again, keeping the last outcome whose
 * total cost still fits in B (the "Add1" completion used by the cities above); then the
 * leftover is filled greedily by approvals (`add1-greedy`, the default). `greedy` skips
 * the Add1 step; `none` returns MES as it is.
 *
 * **Baseline — most votes that still fit** (the rule of CONSUL and most participatory
 * budgets): options by approvals (ties: lower cost, then the ballot's order), each
 * funded when it still fits in what is left.
 *
 * Money is in whole yuan; payments are exact rationals in the algorithm and rounded to
 * 0.01 yuan only when reported.
 */

export interface BallotOption {
  key: string;
  cost: number;
}

export interface Vote {
  /** An opaque id (the voter's hash): used only to count and to explain. */
  voter: string;
  group: string;
  approvals: readonly string[];
}

export type Completion = 'add1-greedy' | 'greedy' | 'none';

export interface RuleParameters {
  rule: 'equal-shares';
  completion: Completion;
  /** Yuan added to every voter's share per Add1 step (≥ 1). */
  increment: number;
}

export interface Funded {
  key: string;
  cost: number;
  approvals: number;
  /** Which step funded it: `mes` (with the share the outcome was computed at), `completion` or `votes` (the baseline). */
  by: 'mes' | 'completion' | 'votes';
  /** MES: what each approver paid at most (ρ). */
  pricePerVoter: number | null;
}

export interface GroupExplanation {
  group: string;
  voters: number;
  /** The group's share of the voters. */
  share: number;
  /** Funded options at least one of the group's voters approved. */
  fundedApproved: string[];
  /** Voters of the group with at least one approved option funded. */
  satisfied: number;
  /** MES: what the group's voters paid together (their equal shares spent); baseline: the cost of funded options they approved, split equally among approvers. */
  spent: number;
  /** `spent` ÷ the budget: compare with `share`. */
  budgetShare: number;
}

export interface Outcome {
  rule: 'equal-shares' | 'most-votes';
  funded: Funded[];
  cost: number;
  leftover: number;
  /** MES: the per-voter share the outcome was computed at (B ÷ n, or more after Add1). */
  perVoter: number | null;
  groups: GroupExplanation[];
}

const EPS = 1e-9;
const cents = (n: number) => Math.round(n * 100) / 100;

function approvalsOf(options: readonly BallotOption[], votes: readonly Vote[]): Map<string, number[]> {
  const known = new Set(options.map((o) => o.key));
  const by = new Map(options.map((o) => [o.key, [] as number[]]));
  votes.forEach((v, i) => {
    for (const k of new Set(v.approvals)) if (known.has(k)) by.get(k)!.push(i);
  });
  return by;
}

/** One MES run at a per-voter share: the funded options (in order) and each voter's payments. */
function mes(options: readonly BallotOption[], votes: readonly Vote[], perVoter: number) {
  const approvers = approvalsOf(options, votes);
  const holding = votes.map(() => perVoter);
  const paid = votes.map(() => 0);
  const funded: Funded[] = [];
  const left = new Set(options.map((o) => o.key));
  for (;;) {
    let best: { option: BallotOption; rho: number; index: number } | null = null;
    options.forEach((option, index) => {
      if (!left.has(option.key)) return;
      const who = approvers.get(option.key)!;
      const total = who.reduce((s, i) => s + holding[i]!, 0);
      if (who.length === 0 || total < option.cost - EPS) return;
      const rho = priceOf(who.map((i) => holding[i]!), option.cost);
      const better =
        !best ||
        rho < best.rho - EPS ||
        (Math.abs(rho - best.rho) <= EPS &&
          (who.length > approvers.get(best.option.key)!.length ||
            (who.length === approvers.get(best.option.key)!.length && (option.cost < best.option.cost || (option.cost === best.option.cost && index < best.index)))));
      if (better) best = { option, rho, index };
    });
    if (!best) break;
    const { option, rho } = best as { option: BallotOption; rho: number };
    for (const i of approvers.get(option.key)!) {
      const pay = Math.min(holding[i]!, rho);
      holding[i]! -= pay;
      paid[i]! += pay;
    }
    left.delete(option.key);
    funded.push({ key: option.key, cost: option.cost, approvals: approvers.get(option.key)!.length, by: 'mes', pricePerVoter: cents(rho) });
  }
  return { funded, paid };
}

/** The least ρ with Σ min(h_i, ρ) = cost (the holdings can afford it). */
function priceOf(holdings: number[], cost: number): number {
  const sorted = [...holdings].sort((a, b) => a - b);
  let rest = cost;
  for (let k = 0; k < sorted.length; k++) {
    const share = rest / (sorted.length - k);
    if (sorted[k]! >= share - EPS) return share;
    rest -= sorted[k]!;
  }
  return sorted.at(-1) ?? 0;
}

function greedyFill(options: readonly BallotOption[], votes: readonly Vote[], remaining: number, taken: Set<string>, by: Funded['by']): Funded[] {
  const approvers = approvalsOf(options, votes);
  const order = options
    .map((o, index) => ({ o, index, n: approvers.get(o.key)!.length }))
    .filter((x) => !taken.has(x.o.key) && x.n > 0)
    .sort((a, b) => b.n - a.n || a.o.cost - b.o.cost || a.index - b.index);
  const out: Funded[] = [];
  for (const { o, n } of order) {
    if (o.cost <= remaining + EPS) {
      out.push({ key: o.key, cost: o.cost, approvals: n, by, pricePerVoter: null });
      remaining -= o.cost;
      taken.add(o.key);
    }
  }
  return out;
}

function explainGroups(votes: readonly Vote[], funded: readonly Funded[], spentBy: number[], budget: number): GroupExplanation[] {
  const groups = [...new Set(votes.map((v) => v.group))].sort();
  const fundedKeys = new Set(funded.map((f) => f.key));
  return groups.map((group) => {
    const members = votes.map((v, i) => ({ v, i })).filter(({ v }) => v.group === group);
    const approved = new Set(members.flatMap(({ v }) => v.approvals));
    const spent = members.reduce((s, { i }) => s + spentBy[i]!, 0);
    return {
      group,
      voters: members.length,
      share: cents((100 * members.length) / votes.length) / 100,
      fundedApproved: funded.filter((f) => approved.has(f.key)).map((f) => f.key),
      satisfied: members.filter(({ v }) => v.approvals.some((k) => fundedKeys.has(k))).length,
      spent: cents(spent),
      budgetShare: budget > 0 ? Math.round((spent / budget) * 1e4) / 1e4 : 0,
    };
  });
}

/** Each funded option's cost split equally among its approvers: what the baseline spent on behalf of each voter. */
function equalSplit(options: readonly BallotOption[], votes: readonly Vote[], funded: readonly Funded[]): number[] {
  const approvers = approvalsOf(options, votes);
  const spent = votes.map(() => 0);
  for (const f of funded) {
    const who = approvers.get(f.key)!;
    for (const i of who) spent[i]! += f.cost / who.length;
  }
  return spent;
}

/** The Method of Equal Shares with its completion. */
export function equalShares(options: readonly BallotOption[], votes: readonly Vote[], budget: number, rule: RuleParameters): Outcome {
  if (!votes.length) return { rule: 'equal-shares', funded: [], cost: 0, leftover: budget, perVoter: null, groups: [] };
  const base = budget / votes.length;
  let perVoter = base;
  let run = mes(options, votes, base);
  if (rule.completion === 'add1-greedy') {
    const step = Math.max(1, rule.increment);
    const approvable = [...approvalsOf(options, votes).values()].filter((who) => who.length > 0).length;
    // Raise the share while the outcome still fits; the outcome only changes at a few
    // shares, and each step is one MES run, so this is bounded by (B − cost) ÷ (n · step) runs.
    for (let k = 1; k <= 100_000; k++) {
      const share = base + k * step;
      const next = mes(options, votes, share);
      const cost = next.funded.reduce((s, f) => s + f.cost, 0);
      if (cost > budget + EPS) break;
      run = next;
      perVoter = share;
      // Every approved option funded: a larger share changes nothing.
      if (next.funded.length === approvable) break;
    }
  }
  const funded = [...run.funded];
  let cost = funded.reduce((s, f) => s + f.cost, 0);
  // What each voter paid in the MES outcome kept (the payments sum to its cost, within B).
  const spentBy = [...run.paid];
  if (rule.completion !== 'none') {
    const extra = greedyFill(options, votes, budget - cost, new Set(funded.map((f) => f.key)), 'completion');
    funded.push(...extra);
    cost += extra.reduce((s, f) => s + f.cost, 0);
    // Completion money is the street's, not any voter's share: split it among the approvers for the explanation.
    const split = equalSplit(options, votes, extra);
    split.forEach((s, i) => (spentBy[i]! += s));
  }
  return { rule: 'equal-shares', funded, cost, leftover: budget - cost, perVoter: cents(perVoter), groups: explainGroups(votes, funded, spentBy, budget) };
}

/** The baseline: most approvals first, each funded when it still fits. */
export function mostVotes(options: readonly BallotOption[], votes: readonly Vote[], budget: number): Outcome {
  const funded = greedyFill(options, votes, budget, new Set(), 'votes');
  const cost = funded.reduce((s, f) => s + f.cost, 0);
  return { rule: 'most-votes', funded, cost, leftover: budget - cost, perVoter: null, groups: explainGroups(votes, funded, equalSplit(options, votes, funded), budget) };
}
